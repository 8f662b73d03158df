#include "unwrap_lines.h"

#include <string_view>

namespace kaddr {

namespace {

bool ends_with_bracket_address(std::string_view t) {
    if (!t.ends_with(">]")) return false;
    std::size_t open = t.rfind("[<");
    return open != std::string_view::npos && parse_hex(t.substr(open + 2, t.size() - open - 4)).has_value();
}

// A line a mail client cut in two, by what its first half ends with and
// what the second half looks like.
bool wrapped(const LogLine& first, const LogLine& next) {
    if (next.timestamped) return false;  // a line of its own
    std::string_view a = trim(first.text), b = trim(next.text);
    if (a.empty() || b.empty()) return false;
    std::size_t used = 0;
    auto ref = parse_symbol_ref(b, &used);
    const bool symbol_line = ref && b.substr(0, used).find('+') != std::string_view::npos && used == b.size();
    // lockdep's `at: [<ffffffff81175edb>]` with the symbol on the next line
    if (ends_with_bracket_address(a) && a.find(" at: [<") != std::string_view::npos && symbol_line) return true;
    // `kernel BUG at` / `WARNING: at` with the file on the next line
    if ((a.ends_with(" at") || a.ends_with(" at:")) && b.find(':') != std::string_view::npos &&
        (b.ends_with("!") || b.find("()") != std::string_view::npos))
        return true;
    // a frame whose module went to the next line: `[mod]`
    if (b.size() > 2 && b.front() == '[' && b.back() == ']' && b.find(' ') == std::string_view::npos &&
        parse_frame_text(first.text))
        return true;
    return false;
}

}  // namespace

// A quoted-printable mail body as stored: a line ending in `=` is a soft
// line break, its text goes on at the start of the next.
bool soft_line_break(const LogLine& first, const LogLine& next) {
    std::string_view a = first.text;
    return a.size() > 1 && a.back() == '=' && a[a.size() - 2] != '=' && !next.timestamped && !trim(next.text).empty();
}

// A frame a fixed-width capture cut mid-word (`autoremove_wake_fun` /
// `ction+0x0/0x30`): neither half is a frame, the two glued are.
bool cut_mid_frame(const LogLine& first, const LogLine& next) {
    std::string_view b = trim(next.text);
    if (next.timestamped || b.empty() || b.find(' ') != std::string_view::npos || parse_frame_text(first.text))
        return false;
    return parse_frame_text(std::string(trim(first.text)) + std::string(b)).has_value();
}

std::vector<LogLine> unwrap_lines(const std::vector<LogLine>& lines) {
    std::vector<LogLine> out;
    out.reserve(lines.size());
    for (const LogLine& l : lines) {
        if (!out.empty() && (soft_line_break(out.back(), l) || cut_mid_frame(out.back(), l))) {
            LogLine& first = out.back();
            if (first.text.ends_with("=")) first.text.pop_back();
            first.text = std::string(trim(first.text)) + std::string(trim(l.text));
            first.raw += "\n" + l.raw;
            continue;
        }
        if (!out.empty() && wrapped(out.back(), l)) {
            LogLine& first = out.back();
            first.text = std::string(trim(first.text)) + " " + std::string(trim(l.text));
            first.raw += "\n" + l.raw;
            continue;
        }
        // Two consoles (or a console and a log) printing each line twice:
        // the same timestamp and text again is no new line. (Frames may
        // repeat under one timestamp, so they are kept.)
        if (!out.empty() && l.timestamped && l.raw == out.back().raw && !parse_frame_text(l.text)) continue;
        out.push_back(l);
    }
    return out;
}

}  // namespace kaddr
