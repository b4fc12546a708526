// Where the UI's static files are: --web DIR, else $SMACERT_WEB_DIR, else the
// source tree's web/ folder recorded at compile time. Nothing is built or
// copied at run time; a folder without phone/index.html is refused.
#pragma once

#include <filesystem>
#include <string>

#include "core/error.h"

namespace smacert::phone::ui {

Result<std::filesystem::path> find_web_dir(const std::string& option);

}  // namespace smacert::phone::ui
