#include "core/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace smacert {
namespace {

Error io_error(std::string_view what, const std::filesystem::path& path) {
  return Error{Errc::io, std::string(what) + " " + path.string() + ": " + std::strerror(errno)};
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Status sync_file_data(const std::filesystem::path& path) {
  // Linux syncs the file, not the descriptor: a read-only one will do.
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return fail(io_error("cannot open", path));
  int rc;
  do rc = ::fdatasync(f.fd);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) return fail(io_error("cannot sync", path));
  return {};
}

Result<Bytes> read_file(const std::filesystem::path& path, std::size_t max_size) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) {
    if (errno == ENOENT) return fail(Errc::not_found, "no such file: " + path.string());
    return fail(io_error("cannot open", path));
  }
  Bytes out;
  std::uint8_t buf[65536];
  for (;;) {
    ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(io_error("cannot read", path));
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_size)
      return fail(Errc::too_large,
                  path.string() + " is larger than " + std::to_string(max_size) + " bytes");
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

Status write_file_atomic(const std::filesystem::path& path, ByteView data, unsigned mode) {
  auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  Fd f{::mkostemp(tmpl.data(), O_CLOEXEC)};
  if (f.fd < 0) return fail(io_error("cannot create a temporary file in", dir));
  auto cleanup_fail = [&](std::string_view what) {
    Error e = io_error(what, tmpl);
    ::unlink(tmpl.c_str());
    return fail(std::move(e));
  };
  if (::fchmod(f.fd, mode) != 0) return cleanup_fail("cannot set the mode of");
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(f.fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return cleanup_fail("cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(f.fd) != 0) return cleanup_fail("cannot sync");
  if (::rename(tmpl.c_str(), path.c_str()) != 0) return cleanup_fail("cannot rename");
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd >= 0) ::fsync(d.fd);
  return {};
}

Status ensure_directory(const std::filesystem::path& path, unsigned mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return fail(Errc::io, "cannot create folder " + path.string() + ": " + ec.message());
  if (::chmod(path.c_str(), mode) != 0) return fail(io_error("cannot set the mode of", path));
  return {};
}

}  // namespace smacert
