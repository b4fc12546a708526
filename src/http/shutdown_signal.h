// For main programs: run until SIGINT or SIGTERM, then stop the server
// gracefully; the caller then exits 0.
#pragma once

#include "http/server.h"

namespace smacert::http {

// Blocks the calling thread (not an I/O thread) until SIGINT or SIGTERM
// arrives, then calls server.stop(). Returns the signal number.
int wait_for_shutdown_signal(Server& server);

}  // namespace smacert::http
