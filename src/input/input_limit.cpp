#include "kaddr/input_limit.h"

#include <atomic>
#include <cctype>
#include <cstdlib>

#include "kaddr/error.h"

namespace kaddr {

namespace {

std::uint64_t initial_limit() {
    if (const char* e = std::getenv("KADDR_MAX_INPUT_SIZE"); e && *e)
        if (auto v = parse_size(e)) return *v;
    return kDefaultInputSizeLimit;
}

std::atomic<std::uint64_t>& limit() {
    static std::atomic<std::uint64_t> l{initial_limit()};
    return l;
}

}  // namespace

std::uint64_t input_size_limit() { return limit().load(std::memory_order_relaxed); }

void set_input_size_limit(std::uint64_t bytes) { limit().store(bytes, std::memory_order_relaxed); }

std::optional<std::uint64_t> parse_size(std::string_view text) {
    std::uint64_t v = 0;
    std::size_t i = 0;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
        const unsigned d = static_cast<unsigned>(text[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return std::nullopt;
        v = v * 10 + d;
    }
    if (i == 0) return std::nullopt;
    std::string_view unit = text.substr(i);
    if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.remove_suffix(1);
    if (unit.size() == 2 && (unit[1] == 'i' || unit[1] == 'I')) unit.remove_suffix(1);
    int shift = 0;
    if (unit.size() == 1) {
        switch (std::toupper(static_cast<unsigned char>(unit[0]))) {
            case 'K': shift = 10; break;
            case 'M': shift = 20; break;
            case 'G': shift = 30; break;
            case 'T': shift = 40; break;
            default: return std::nullopt;
        }
    } else if (!unit.empty()) {
        return std::nullopt;
    }
    if (v == 0 || v > (UINT64_MAX >> shift)) return std::nullopt;
    return v << shift;
}

std::string format_size(std::uint64_t bytes) {
    static const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    for (int k = 3; k >= 0; --k) {
        const int shift = 10 * (k + 1);
        if (bytes >= (std::uint64_t{1} << shift) && bytes % (std::uint64_t{1} << shift) == 0)
            return std::to_string(bytes >> shift) + " " + units[k];
    }
    return std::to_string(bytes) + " bytes";
}

void throw_over_limit(const std::string& path, const std::string& what) {
    throw Error(path, what + " the " + format_size(input_size_limit()) + " input size limit",
                "raise it with --max-input-size or KADDR_MAX_INPUT_SIZE if the file is genuine");
}

}  // namespace kaddr
