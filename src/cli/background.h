// Starting another `smacert` command in the background (the demo's service,
// the lab): this very binary, in a session of its own so that it can outlive
// the caller, stderr to a log file, and the URL from the one line it prints
// on stdout once it listens.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace smacert::cli {

struct Background {
  pid_t pid = -1;
  std::string url;
};

// `what` names the process in the error ("the service did not start; see LOG").
Result<Background> start_background(const std::vector<std::string>& args,
                                    const std::filesystem::path& log, const std::string& what);

}  // namespace smacert::cli
