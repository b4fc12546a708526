#include "http/shutdown_signal.h"

#include <signal.h>
#include <spdlog/spdlog.h>

namespace smacert::http {
namespace {

sigset_t shutdown_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void block_shutdown_signals() {
  sigset_t set = shutdown_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_shutdown_signal(Server& server) {
  // The signals are blocked everywhere (block_shutdown_signals), so they stay
  // pending until this thread takes one; blocking again here covers callers
  // that did not.
  sigset_t set = shutdown_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int received = 0;
  while (sigwait(&set, &received) != 0) {
  }
  spdlog::info("signal {} received; finishing in-flight requests", received);
  server.stop();
  return received;
}

}  // namespace smacert::http
