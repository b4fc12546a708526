// The lab as a child process, for `smacert demo --keep`.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace smacert::cli {

struct LabProcess {
  pid_t pid = -1;
  std::string url;  // the lab page
};

// Starts `smacert lab --dir DIR --server URL --phones A,B --listen 127.0.0.1:0`
// in a session of its own (it outlives the caller) and waits for its URL.
Result<LabProcess> start_lab_process(const std::filesystem::path& dir, const std::string& service,
                                     const std::vector<std::string>& phones,
                                     const std::filesystem::path& log);

}  // namespace smacert::cli
