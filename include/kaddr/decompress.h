// Compressed inputs: modules ship as .ko.xz / .ko.zst / .ko.gz, logs are
// kept as .gz / .xz / .zst. Recognised by magic, never by file name, and
// expanded into memory within the input size limit (input_limit.h).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace kaddr {

// True when `data` starts with the xz, gzip or zstd magic.
bool is_compressed(const char* data, std::size_t size);

// Decompresses xz, gzip or zstd data into `out`; returns false when `data`
// is none of them. Throws Error naming `path` for corrupt or truncated data
// and for output beyond input_size_limit().
bool decompress(const char* data, std::size_t size, std::vector<char>& out, const std::string& path);

}  // namespace kaddr
