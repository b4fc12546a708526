// Serves one folder of static files (the UI's HTML, CSS and JavaScript
// modules) under a URL prefix. Only plain names one or two levels deep are
// served: nothing starting with a dot, so no "..", no hidden files.
#pragma once

#include <filesystem>
#include <string>

#include "http/router.h"

namespace smacert::phone::ui {

// Adds GET PREFIX/ (index.html), PREFIX/{file} and PREFIX/{dir}/{file}; a
// non-empty PREFIX without its slash redirects to PREFIX/, so that relative
// URLs in the page resolve under it.
void add_static_routes(http::Router& router, const std::string& prefix,
                       const std::filesystem::path& folder, const std::string& name);

}  // namespace smacert::phone::ui
