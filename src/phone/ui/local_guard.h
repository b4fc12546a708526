// The UI's local API listens on loopback, where any web page the user visits
// could reach it. Two guards keep other sites out: the Host field must be an
// IP address or "localhost" (a DNS-rebinding name is refused), and a POST
// must carry Content-Type: application/json (so a cross-site form or a
// "simple" fetch cannot send one without a CORS preflight, which we never
// approve).
#pragma once

#include "http/router.h"

namespace smacert::phone::ui {

bool local_host_name(std::string_view host_field);
http::Handler local_only(http::Handler inner);

}  // namespace smacert::phone::ui
