// Helpers shared by the unit tests: a scratch directory, and running write jobs on a store
// synchronously.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "modu/store.h"

namespace modu::test {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "modu-unit-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

  // Writes `content` to `relative` (parent directories are created).
  std::filesystem::path write(const std::string& relative, const std::string& content) const {
    auto file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }

 private:
  std::filesystem::path path_;
};

// Opens the embedded store in `dir`; fails the test (by throwing) if it cannot.
inline std::unique_ptr<Store> open_store(const std::filesystem::path& dir) {
  auto store = open_sqlite_store(SqliteOptions{.directory = dir.string()});
  if (!store.ok()) throw std::runtime_error("open_sqlite_store: " + store.error().message);
  return std::move(store).value();
}

// Submits one write job and waits for its outcome (delivered by the job's `done`, i.e.
// after the batch committed or failed).
inline Status run_job(Store& store, std::function<Status(WriteTx&)> apply) {
  std::promise<Status> outcome;
  auto future = outcome.get_future();
  store.submit(WriteJob{std::move(apply), [&outcome](const Status& s) { outcome.set_value(s); }});
  return future.get();
}

// A job's `done` callback that fulfils `promise`; for submitting many jobs before waiting.
inline std::function<void(const Status&)> fulfil(std::promise<Status>& promise) {
  return [&promise](const Status& s) { promise.set_value(s); };
}

}  // namespace modu::test
