// smacert: one binary, one subcommand group per file (see command.h).
#include <iostream>

#include "cli/command.h"

int main(int argc, char** argv) {
  using namespace smacert::cli;
  CLI::App app{"smacert — smartphone digital-certificate service (スマホ用電子証明書)", "smacert"};
  app.require_subcommand(1);
  GlobalOptions g;
  app.add_option("--server", g.server, "Service URL")->capture_default_str();
  app.add_flag("--json", g.json, "Print one JSON document on stdout");
  app.add_flag("-v,--verbose", g.verbose, "More output on stderr");
  app.add_option("--lang", g.lang, "Language of messages (ja|en)")
      ->check(CLI::IsMember({"ja", "en"}));
  int result = kExitOk;
  add_ca_commands(app, g, result);
  add_card_commands(app, g, result);
  add_serve_command(app, g, result);
  add_verify_commands(app, g, result);
  add_counter_commands(app, g, result);
  add_phone_commands(app, g, result);
  add_demo_command(app, g, result);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  return result;
}
