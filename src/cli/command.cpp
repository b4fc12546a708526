#include "cli/command.h"

#include <cstdlib>
#include <iostream>

namespace smacert::cli {

int exit_code_for(const Error& e) {
  if (e.from_service) {
    if (e.code == Errc::locked) return kExitLocked;
    if (e.code == Errc::unavailable || e.code == Errc::internal) return kExitUnavailable;
    return kExitRejected;
  }
  switch (e.code) {
    case Errc::invalid_argument:
      return kExitUsage;
    case Errc::locked:
      return kExitLocked;
    case Errc::unavailable:
      return kExitUnavailable;
    default:
      return kExitFailure;
  }
}

int report(const Error& e, const GlobalOptions& g) {
  if (g.json) {
    print_json({{"error", std::string(errc_name(e.code))}, {"message", e.message}});
  } else {
    std::cerr << "smacert: " << e.message << "\n";
  }
  return exit_code_for(e);
}

bool japanese(const GlobalOptions& g) {
  if (!g.lang.empty()) return g.lang == "ja";
  for (const char* var : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return std::string_view(v).rfind("ja", 0) == 0;
  }
  return false;
}

void print_json(const nlohmann::json& doc) {
  std::cout << doc.dump(2) << "\n";
}

CLI::App* add_command(CLI::App& parent, const std::string& name, const std::string& help,
                      int& result, Action action) {
  CLI::App* sub = parent.add_subcommand(name, help);
  sub->callback([&result, action = std::move(action)] { result = action(); });
  return sub;
}

}  // namespace smacert::cli
