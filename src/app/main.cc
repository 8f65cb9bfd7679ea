// modu: the Modu messenger server and its tools.
#include <CLI/CLI.hpp>
#include <boost/version.hpp>
#include <fmt/format.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include "app/admin.h"
#include "app/config.h"
#include "app/serve.h"

int main(int argc, char** argv) {
  CLI::App app{"Modu (모두): a messenger server for everyone.\n"
               "Start with `modu serve`, then open http://127.0.0.1:8080 in a browser."};
  app.require_subcommand(1);
  int exit_code = 0;

  modu::ServeConfig config;
  std::string config_path = modu::find_config_path(argc, argv);
  if (!config_path.empty()) {
    auto loaded = modu::load_config_file(config_path, config);
    if (!loaded.ok()) {
      fmt::print(stderr, "error: {}\n", loaded.error().message);
      return 2;
    }
  }
  auto* serve = app.add_subcommand("serve", "Run the server (HTTP + WebSocket, embedded storage)");
  modu::add_serve_options(*serve, config);
  serve->callback([&] {
    auto finished = modu::finish_config(config);
    if (!finished.ok()) {
      fmt::print(stderr, "error: {}\n", finished.error().message);
      exit_code = 2;
      return;
    }
    spdlog::set_level(spdlog::level::from_str(config.log_level));
    exit_code = modu::run_serve(config);
  });

  auto* admin = app.add_subcommand("admin", "Maintenance on a data directory (commands that write refuse to run beside its server)");
  modu::add_admin_commands(*admin, exit_code);

  app.add_subcommand("version", "Print version and build information")->callback([] {
    fmt::print("modu {} ({})\n", MODU_VERSION, MODU_GIT_REV);
    fmt::print("built with g++ {}.{} ({}), C++{}\n", __GNUC__, __GNUC_MINOR__, MODU_BUILD_TYPE, __cplusplus / 100 % 100);
    fmt::print("sqlite {}, boost {}.{}, libsodium {}\n", sqlite3_libversion(), BOOST_VERSION / 100000,
               BOOST_VERSION / 100 % 1000, sodium_version_string());
    fmt::print("protocol 1\n");
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
