// What every `smacert` command group shares: global options, exit codes
// (spec/interfaces.md) and error reporting. A group's file parses options,
// builds library objects and calls them; no logic lives in src/cli.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"

namespace smacert::cli {

struct GlobalOptions {
  std::string server = "http://127.0.0.1:8700";
  bool json = false;
  int verbose = 0;
  std::string lang;  // "ja" | "en"; empty = from the locale
};

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      // verification failed, operation refused
  kExitUsage = 2,        // usage error
  kExitRejected = 3,     // rejected by the service (4xx)
  kExitLocked = 4,       // PIN or password blocked
  kExitUnavailable = 5,  // service unreachable or 5xx
};

// The one mapping from the error taxonomy to exit codes.
int exit_code_for(const Error& e);

// Prints `e` as one sentence on stderr (or {"error","message"} on stdout with --json)
// and returns its exit code.
int report(const Error& e, const GlobalOptions& g);

// True when messages should be Japanese: --lang, else LC_ALL / LC_MESSAGES /
// LANG starting with "ja".
bool japanese(const GlobalOptions& g);
// Picks the Japanese or the English wording.
inline std::string_view say(const GlobalOptions& g, std::string_view ja, std::string_view en) {
  return japanese(g) ? ja : en;
}

// Prints a JSON document on stdout (for --json).
void print_json(const nlohmann::json& doc);

// Registers a subcommand whose action returns an exit code. The action runs
// after parsing; `result` receives its code.
using Action = std::function<int()>;
CLI::App* add_command(CLI::App& parent, const std::string& name, const std::string& help,
                      int& result, Action action);

// Command groups, one file each.
void add_ca_commands(CLI::App& app, GlobalOptions& g, int& result);
void add_card_commands(CLI::App& app, GlobalOptions& g, int& result);
void add_serve_command(CLI::App& app, GlobalOptions& g, int& result);
void add_verify_commands(CLI::App& app, GlobalOptions& g, int& result);
void add_counter_commands(CLI::App& app, GlobalOptions& g, int& result);
void add_phone_commands(CLI::App& app, GlobalOptions& g, int& result);
// `phone ui` under the phone group (and the top-level `lab`).
void add_phone_ui_command(CLI::App& phone, GlobalOptions& g, int& result);
void add_demo_command(CLI::App& app, GlobalOptions& g, int& result);

}  // namespace smacert::cli
