// Fuzz target: the TOML settings loader (load_config_file, then finish_config).
//
// The input is written to a temporary file, since the loader reads a path. Invariant: any
// file content yields a Status (an error for anything unusable), never a crash, hang or
// escaping exception.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "app/config.h"
#include "fuzz_check.h"

namespace {

struct TempFile {
  TempFile()
      : path((std::filesystem::temp_directory_path() /
              ("modu-fuzz-config-" + std::to_string(getpid()) + ".toml"))
                 .string()) {}
  ~TempFile() { std::remove(path.c_str()); }
  std::string path;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static TempFile file;
  std::FILE* f = std::fopen(file.path.c_str(), "wb");
  if (!f) modu::fuzz::fail("cannot write the temporary config file", file.path);
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);

  modu::ServeConfig config;
  modu::Status s = modu::load_config_file(file.path, config);
  if (s.ok()) {
    modu::Status finished = modu::finish_config(config);
    (void)finished;
  } else {
    MODU_FUZZ_CHECK(!s.error().message.empty(), "empty error message");
  }
  return 0;
}
