#include "phone/ui/web_dir.h"

#include <cstdlib>

namespace smacert::phone::ui {

Result<std::filesystem::path> find_web_dir(const std::string& option) {
  std::filesystem::path dir;
  std::string from;
  if (!option.empty()) {
    dir = option;
    from = "--web";
  } else if (const char* env = std::getenv("SMACERT_WEB_DIR"); env != nullptr && *env != '\0') {
    dir = env;
    from = "SMACERT_WEB_DIR";
  } else {
    dir = SMACERT_WEB_DIR;
    from = "the build's source tree";
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir / "phone" / "index.html", ec))
    return fail(Errc::not_found, "no web/phone/index.html under " + dir.string() + " (from " +
                                     from + "); give --web DIR or set SMACERT_WEB_DIR");
  return std::filesystem::canonical(dir, ec);
}

}  // namespace smacert::phone::ui
