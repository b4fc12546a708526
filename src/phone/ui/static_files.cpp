#include "phone/ui/static_files.h"

#include "core/files.h"

namespace smacert::phone::ui {
namespace {

namespace fs = std::filesystem;

std::string content_type(const fs::path& file) {
  auto ext = file.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  return "application/octet-stream";
}

bool plain_name(std::string_view s) {
  return !s.empty() && s.front() != '.' && s.find_first_of("/\\") == std::string_view::npos &&
         s.find('\0') == std::string_view::npos;
}

http::Response serve(const fs::path& file) {
  auto data = read_file(file, 4u << 20);
  if (!data) return http::error_response(404, "not_found", "no such file");
  auto r = http::bytes_response(200, std::make_shared<const Bytes>(std::move(*data)),
                                content_type(file));
  // Edits to web/ show on reload: the files are small and local.
  r.headers.set("Cache-Control", "no-cache");
  r.headers.set("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace

void add_static_routes(http::Router& router, const std::string& prefix, const fs::path& folder,
                       const std::string& name) {
  router.add("GET", prefix + "/", name + "_index",
             [folder](http::Request&) { return serve(folder / "index.html"); });
  if (!prefix.empty())
    router.add("GET", prefix, name + "_redirect", [prefix](http::Request&) {
      auto r = http::text_response(308, "moved to " + prefix + "/\n");
      r.headers.set("Location", prefix + "/");
      return r;
    });
  router.add("GET", prefix + "/{file}", name + "_file", [folder](http::Request& req) {
    auto file = req.param("file");
    if (!plain_name(file)) return http::error_response(404, "not_found", "no such file");
    return serve(folder / std::string(file));
  });
  router.add("GET", prefix + "/{dir}/{file}", name + "_file2", [folder](http::Request& req) {
    auto dir = req.param("dir"), file = req.param("file");
    if (!plain_name(dir) || !plain_name(file))
      return http::error_response(404, "not_found", "no such file");
    return serve(folder / std::string(dir) / std::string(file));
  });
}

}  // namespace smacert::phone::ui
