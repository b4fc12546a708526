#include "cli/background.h"

#include <fcntl.h>
#include <unistd.h>

namespace smacert::cli {

Result<Background> start_background(const std::vector<std::string>& args,
                                    const std::filesystem::path& log, const std::string& what) {
  std::vector<std::string> argv_text = {"smacert"};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (::pipe(out) != 0) return fail(Errc::io, "cannot make a pipe for " + what);
  pid_t pid = ::fork();
  if (pid < 0) return fail(Errc::io, "cannot start " + what);
  if (pid == 0) {
    ::setsid();  // it may outlive the caller's terminal session (demo --keep)
    ::dup2(out[1], STDOUT_FILENO);
    int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (err >= 0) ::dup2(err, STDERR_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string line;
  char c;
  while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(out[0]);
  auto at = line.find("http://");
  if (at == std::string::npos)
    return fail(Errc::unavailable, what + " did not start; see " + log.string());
  return Background{pid, line.substr(at)};
}

}  // namespace smacert::cli
