// File helpers with the durability the project promises: a file is either
// its old content or its new content, never half of each, after a crash.
#pragma once

#include <filesystem>

#include "core/bytes.h"
#include "core/error.h"

namespace smacert {

// Reads a whole file; refuses one larger than max_size (Errc::too_large).
Result<Bytes> read_file(const std::filesystem::path& path, std::size_t max_size = 16u << 20);

// Writes to a temporary file beside `path` created with `mode`, fsyncs it,
// renames it over `path` and fsyncs the folder.
Status write_file_atomic(const std::filesystem::path& path, ByteView data, unsigned mode = 0644);

// Puts the data of an existing file on disk (fdatasync): what was written to
// it through any descriptor survives a crash once this returns.
Status sync_file_data(const std::filesystem::path& path);

// Creates `path` (and parents) if needed, with `mode` on the last component.
Status ensure_directory(const std::filesystem::path& path, unsigned mode = 0755);

}  // namespace smacert
