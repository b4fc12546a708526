// Runs a peer tool (openssl, certtool, vfychain, …) through the shell and
// captures its exit code and combined output: several tools print their
// verdict on stderr (spec/interop-peers.md, "General pitfalls").
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace smacert::testing {

struct RunResult {
  int rc = -1;
  std::string output;
};

inline RunResult run(const std::string& command) {
  RunResult r;
  std::string full = command + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Single-quotes a path or argument for the shell.
inline std::string sh(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace smacert::testing
