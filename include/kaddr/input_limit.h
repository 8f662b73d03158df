// The one bound on how much memory a single input may take: a text input
// as read (a log, kallsyms, /proc/modules, a report on standard input) or a
// compressed file once expanded (.ko.xz, a zstd vmlinux, a log.gz). Without
// it /dev/zero as a log, or a 200 KB .ko.zst that expands to 6 GB, ends the
// whole run in bad_alloc or the OOM killer; with it that input is refused
// with an Error naming the file, and a batch goes on with the others.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kaddr {

// 2 GiB: above any real vmlinux (590 MB for Debian's 6.1 debug image) and
// any log kaddr is given, below what a 24 GB machine survives with a few
// workers. Overridden by --max-input-size or KADDR_MAX_INPUT_SIZE.
inline constexpr std::uint64_t kDefaultInputSizeLimit = std::uint64_t{2} << 30;

// The limit in force: set_input_size_limit's, else $KADDR_MAX_INPUT_SIZE,
// else the default.
std::uint64_t input_size_limit();
void set_input_size_limit(std::uint64_t bytes);

// "4G", "512M", "64k", "1000000" (K/M/G/T are powers of 1024); nullopt
// when malformed, zero or overflowing.
std::optional<std::uint64_t> parse_size(std::string_view text);
std::string format_size(std::uint64_t bytes);  // "2 GiB", "512 MiB", "1000 bytes"

// Throws the Error for an input over the limit; `what` says which bytes
// ("is larger than", "decompresses to more than").
[[noreturn]] void throw_over_limit(const std::string& path, const std::string& what);

}  // namespace kaddr
