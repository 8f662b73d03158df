// Strips what transports add around a kernel message: serial escape codes,
// syslog/journal prefixes, dmesg -T dates, printk timestamps and caller ids.
#include <cctype>

#include "kaddr/oops.h"

namespace kaddr {

namespace {

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// `[   18.718322]`, then optionally `[ T123]` / `[C1]` caller ids.
std::size_t printk_prefix(const std::string& s, std::size_t i, std::string* caller) {
    auto bracket = [&](std::size_t j, bool caller) -> std::size_t {
        if (j >= s.size() || s[j] != '[') return 0;
        std::size_t k = j + 1;
        while (k < s.size() && s[k] == ' ') ++k;
        if (caller) {
            if (k >= s.size() || (s[k] != 'T' && s[k] != 'C')) return 0;
            ++k;
            std::size_t d = k;
            while (k < s.size() && is_digit(s[k])) ++k;
            if (k == d) return 0;
        } else {
            std::size_t d = k;
            while (k < s.size() && is_digit(s[k])) ++k;
            if (k == d || k >= s.size() || s[k] != '.') return 0;
            ++k;
            while (k < s.size() && is_digit(s[k])) ++k;
        }
        if (k >= s.size() || s[k] != ']') return 0;
        return k + 1 - j;
    };
    std::size_t n = bracket(i, false);
    if (!n) return 0;
    i += n;
    std::size_t at = i;
    if (std::size_t c = bracket(i, true)) i += c;
    else if (i < s.size() && s[i] == ' ' && (c = bracket(i + 1, true))) at = i + 1, i += 1 + c;
    if (i > at && caller) {
        std::string id = s.substr(at + 1, i - at - 2);
        id.erase(0, id.find_first_not_of(' '));
        *caller = id;
    }
    if (i < s.size() && s[i] == ' ') ++i;
    return i;
}

// `[Mon Nov 21 10:02:03 2022] ` (dmesg -T).
std::size_t human_date_prefix(const std::string& s, std::size_t i) {
    if (i + 26 > s.size() || s[i] != '[' || !std::isalpha(static_cast<unsigned char>(s[i + 1]))) return 0;
    std::size_t close = s.find(']', i);
    if (close == std::string::npos || close - i < 20 || close - i > 32) return 0;
    if (s.find(':', i) > close) return 0;
    std::size_t k = close + 1;
    if (k < s.size() && s[k] == ' ') ++k;
    return k;
}

// `Nov 21 10:02:03 host kernel: ` or `2022-11-21T10:02:03.123+00:00 host kernel: `.
std::size_t syslog_prefix(const std::string& s, std::size_t i) {
    std::size_t k = s.find(" kernel: ", i);
    if (k == std::string::npos || k - i > 80) return 0;
    const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    bool dated = false;
    for (const char* m : months) dated = dated || s.compare(i, 3, m) == 0;
    dated = dated || (i + 10 < s.size() && is_digit(s[i]) && is_digit(s[i + 3]) && s[i + 4] == '-');
    return dated ? k + 9 : 0;
}

}  // namespace

LogLine normalize_line(std::string raw, std::size_t number) {
    LogLine l;
    l.number = number;
    while (!raw.empty() && (raw.back() == '\r' || raw.back() == '\n')) raw.pop_back();
    l.raw = raw;
    std::string s;
    s.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {  // drop ANSI escapes and control bytes
        unsigned char c = static_cast<unsigned char>(raw[i]);
        if (c == 0x1b) {
            ++i;  // the byte after ESC: a two-byte escape (ESC c, ESC 7) ends here
            if (i < raw.size() && raw[i] == '[') {  // CSI: up to its final letter
                while (i + 1 < raw.size() && !std::isalpha(static_cast<unsigned char>(raw[i + 1]))) ++i;
                ++i;
            }
            continue;
        }
        if (c == '\r' || (c < 0x20 && c != '\t')) continue;
        s += static_cast<char>(c);
    }
    std::size_t i = 0;
    // Console noise that can precede a kernel line: a login prompt the
    // message overwrote, the dropped-messages marker, a syslog level.
    if (auto login = s.find(" login: ["); login != std::string::npos && login < 60) i = login + 8;
    if (s.compare(i, 3, "** ") == 0) {
        auto close = s.find(" ** ", i + 3);
        if (close != std::string::npos && s.find("printk messages dropped", i) < close) i = close + 4;
    }
    if (i < s.size() && s[i] == '<') {
        std::size_t k = i + 1;
        while (k < s.size() && is_digit(s[k])) ++k;
        if (k > i + 1 && k < s.size() && s[k] == '>') i = k + 1;
    }
    for (int round = 0; round < 3; ++round) {
        std::size_t j = i;
        while (j < s.size() && s[j] == ' ') ++j;
        if (std::size_t k = syslog_prefix(s, j)) i = k;
        else if (std::size_t k = human_date_prefix(s, j)) i = k;
        else if (std::size_t k = printk_prefix(s, j, &l.caller)) {
            i = k;
            l.timestamped = true;
        } else break;
    }
    l.text = s.substr(i);
    return l;
}

}  // namespace kaddr
