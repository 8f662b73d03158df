#include "line_order.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <string>

namespace kaddr {

namespace {

// The seconds of a printk timestamp ("[468836.976100]") anywhere in the raw
// line: a viewer's own columns (dates, '|' separators) may come first.
std::optional<double> printk_seconds(const std::string& raw) {
    for (std::size_t open = raw.find('['); open != std::string::npos; open = raw.find('[', open + 1)) {
        std::size_t i = open + 1;
        while (i < raw.size() && raw[i] == ' ') ++i;
        const std::size_t digits = i;
        while (i < raw.size() && std::isdigit(static_cast<unsigned char>(raw[i]))) ++i;
        if (i == digits || i >= raw.size() || raw[i] != '.') continue;
        const std::size_t frac = ++i;
        while (i < raw.size() && std::isdigit(static_cast<unsigned char>(raw[i]))) ++i;
        if (i == frac || i >= raw.size() || raw[i] != ']') continue;
        return std::strtod(raw.c_str() + digits, nullptr);
    }
    return std::nullopt;
}

}  // namespace

std::vector<LogLine> oldest_first(std::vector<LogLine> lines) {
    // Interleaved CPUs and a damaged clock make a few steps go backwards in
    // any console log; only a text whose clock runs backwards throughout,
    // over several steps, was listed newest first.
    int backwards = 0, forwards = 0;
    std::optional<double> last;
    for (const LogLine& l : lines) {
        auto t = printk_seconds(l.raw);
        if (!t) continue;
        if (last && *t < *last) ++backwards;
        if (last && *t > *last) ++forwards;
        last = t;
    }
    if (backwards >= 3 && forwards == 0) std::reverse(lines.begin(), lines.end());
    return lines;
}

}  // namespace kaddr
