// For main programs: run until SIGINT or SIGTERM, then stop the server
// gracefully; the caller then exits 0.
#pragma once

#include "http/server.h"

namespace smacert::http {

// Blocks SIGINT and SIGTERM in the calling thread and so in every thread it
// starts afterwards. Call it first thing, before any thread exists: a signal
// that arrives early then waits for wait_for_shutdown_signal instead of
// killing the process half-started.
void block_shutdown_signals();

// Waits (in the calling thread, not an I/O thread) until SIGINT or SIGTERM
// arrives, then calls server.stop(). Returns the signal number.
int wait_for_shutdown_signal(Server& server);

}  // namespace smacert::http
