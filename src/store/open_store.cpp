// The one place that turns a store URL into a Store (smacert serve --store,
// [store] url, the integration tests).
#include <string_view>

#include "store/pg_store.h"
#include "store/sqlite_store.h"

namespace smacert::store {

Result<std::unique_ptr<Store>> open_store(const std::string& url) {
  const std::string_view u = url;
  if (u.starts_with("postgresql://") || u.starts_with("postgres://")) {
    auto s = PgStore::open(url);
    if (!s) return fail(s.error());
    return std::unique_ptr<Store>(std::move(*s));
  }
  std::string path = url;
  if (u.starts_with("sqlite:")) path = url.substr(7);
  // "mysql://…" or "postgresq://…" is a typo, not a file name.
  if (path.empty() || path.find("://") != std::string::npos)
    return fail(Errc::invalid_argument,
                "the store must be sqlite:PATH, a file path, or a postgresql:// URL");
  auto s = SqliteStore::open(path);
  if (!s) return fail(s.error());
  return std::unique_ptr<Store>(std::move(*s));
}

}  // namespace smacert::store
