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
            // vendor kernels print the cpu inside: `[ 6020.023137@0]`, `[86735.022634,1]`
            if (k + 1 < s.size() && (s[k] == '@' || s[k] == ',') && is_digit(s[k + 1]))
                for (++k; k < s.size() && is_digit(s[k]);) ++k;
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

// A printk timestamp whose `[` was lost (serial interleaving, a cut paste):
// `407819.286867] BUG: ...`.
std::size_t damaged_timestamp(const std::string& s, std::size_t i) {
    std::size_t k = i;
    while (k < s.size() && is_digit(s[k])) ++k;
    if (k == i || k >= s.size() || s[k] != '.') return 0;
    std::size_t d = ++k;
    while (k < s.size() && is_digit(s[k])) ++k;
    if (k - d != 6 || k >= s.size() || s[k] != ']') return 0;
    return k + 1 < s.size() && s[k + 1] == ' ' ? k + 2 : k + 1;
}

// Qualcomm/Android kernel logs (last_kmsg, the kernel buffer as a tool
// dumped it): `  1276.705430:   <1> (01-28 07:22:33.304698634) `.
std::size_t android_kmsg_prefix(const std::string& s, std::size_t i) {
    std::size_t k = i;
    while (k < s.size() && is_digit(s[k])) ++k;
    if (k == i || k >= s.size() || s[k] != '.') return 0;
    ++k;
    while (k < s.size() && is_digit(s[k])) ++k;
    if (k >= s.size() || s[k] != ':') return 0;
    ++k;
    while (k < s.size() && s[k] == ' ') ++k;
    if (k + 3 > s.size() || s[k] != '<' || !is_digit(s[k + 1]) || s[k + 2] != '>') return 0;
    k += 3;
    while (k < s.size() && s[k] == ' ') ++k;
    if (k >= s.size() || s[k] != '(') return 0;
    std::size_t close = s.find(')', k);
    if (close == std::string::npos || close - k > 32 || s.find(':', k) > close) return 0;
    return close + 1 < s.size() && s[close + 1] == ' ' ? close + 2 : close + 1;
}

// socklog's and OpenWrt logread's facility.level: `kern.alert: `, `kern.warn kernel: `.
std::size_t facility_prefix(const std::string& s, std::size_t i) {
    if (s.compare(i, 5, "kern.") != 0) return 0;
    std::size_t k = i + 5;
    while (k < s.size() && std::isalpha(static_cast<unsigned char>(s[k]))) ++k;
    if (s.compare(k, 2, ": ") == 0) return k + 2;
    if (s.compare(k, 9, " kernel: ") == 0) return k + 9;
    return 0;
}

// A syslog/journal date in any locale: `Nov 21 10:02:03`, `sept. 27 21:47:33`,
// `июл 27 14:08:03`, `sty 03 12:44:18.028579`: a month word (letters of any
// script, maybe a dot), a day, a time.
std::size_t month_day_time(const std::string& s, std::size_t i) {
    // OpenWrt's logread puts the weekday first: `Fri Aug 28 08:33:06 2020`.
    if (i + 4 < s.size() && s[i + 3] == ' ' && std::isalpha(static_cast<unsigned char>(s[i])) &&
        std::isalpha(static_cast<unsigned char>(s[i + 4])))
        if (std::size_t k = month_day_time(s, i + 4)) return k;
    std::size_t k = i;
    while (k < s.size() && s[k] != ' ' && k - i < 12) ++k;
    if (k == i || k >= s.size() || is_digit(s[i])) return 0;
    while (k < s.size() && s[k] == ' ') ++k;
    std::size_t d = k;
    while (k < s.size() && is_digit(s[k])) ++k;
    if (k == d || k - d > 2 || k >= s.size() || s[k] != ' ') return 0;
    ++k;
    if (k + 8 > s.size() || !is_digit(s[k]) || s[k + 2] != ':' || s[k + 5] != ':') return 0;
    return k + 8;
}

// `Nov 21 10:02:03 host kernel: `, `2022-11-21T10:02:03.123+00:00 host kernel: `,
// journalctl -o short-monotonic `[   18.718322] host kernel: `.
std::size_t syslog_prefix(const std::string& s, std::size_t i) {
    std::size_t k = s.find(" kernel: ", i);
    if (k == std::string::npos || k - i > 80) return 0;
    const bool iso = i + 10 < s.size() && is_digit(s[i]) && is_digit(s[i + 3]) && s[i + 4] == '-';
    const bool monotonic = s[i] == '[' && s.find(']', i) < k && printk_prefix(s, i, nullptr);
    return iso || monotonic || month_day_time(s, i) ? k + 9 : 0;
}

// Decorations of mail and markdown around a pasted line: quoting (`> `,
// `>> `, `> > `), a code fence's backquote glued to the first line.
std::size_t quoting(const std::string& s, std::size_t i) {
    for (;;) {
        std::size_t j = i;
        while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
        if (j < s.size() && (s[j] == '>' || s[j] == '`')) {
            i = j + 1;
            continue;
        }
        return i;
    }
}

// A console line another writer's output was glued in front of (a shell
// prompt, `login:`, a test runner's progress, a clock, the echo of a
// previous line): the kernel's line starts at its printk timestamp.
std::size_t glued_timestamp(const std::string& s, std::size_t i) {
    for (std::size_t k = s.find('[', i + 1); k != std::string::npos && k < i + 120; k = s.find('[', k + 1)) {
        std::size_t n = printk_prefix(s, k, nullptr);
        // a real timestamp carries a fraction of 6 digits; `[0.5]` is text
        if (n && s.find('.', k) < k + n && k + n - s.find('.', k) >= 8) return k;
    }
    return 0;
}


// A printk level: `<4>`, also indented (`        <1>[41740.112427] ...`).
std::size_t printk_level(const std::string& s, std::size_t i) {
    if (i >= s.size() || s[i] != '<') return 0;
    std::size_t k = i + 1;
    while (k < s.size() && is_digit(s[k])) ++k;
    return k > i + 1 && k < s.size() && s[k] == '>' ? k + 1 : 0;
}

// OnePlus/Qualcomm dated timestamps with the cpu after them:
// `[20170514_00:45:44.932035]@0 `.
std::size_t dated_timestamp(const std::string& s, std::size_t i) {
    if (i + 26 > s.size() || s[i] != '[') return 0;
    for (std::size_t k = 1; k <= 8; ++k)
        if (!is_digit(s[i + k])) return 0;
    if (s[i + 9] != '_' || s[i + 12] != ':' || s[i + 15] != ':' || s[i + 18] != '.') return 0;
    std::size_t k = s.find(']', i + 19);
    if (k == std::string::npos || k > i + 28) return 0;
    ++k;
    if (k < s.size() && s[k] == '@')
        for (++k; k < s.size() && is_digit(s[k]);) ++k;
    return k < s.size() && s[k] == ' ' ? k + 1 : k;
}

// Samsung's cpu after the timestamp: `c1 `, and with the task: `c0 1 (swapper/0) `.
std::size_t samsung_cpu_tag(const std::string& s, std::size_t i) {
    if (i + 2 >= s.size() || s[i] != 'c' || !is_digit(s[i + 1])) return 0;
    std::size_t k = i + 1;
    while (k < s.size() && is_digit(s[k]) && k - i <= 2) ++k;
    if (k >= s.size() || s[k] != ' ') return 0;
    ++k;
    std::size_t d = k;  // the task: `<pid> (<comm>) `
    while (d < s.size() && is_digit(s[d])) ++d;
    if (d > k && d + 1 < s.size() && s[d] == ' ' && s[d + 1] == '(') {
        std::size_t close = s.find(") ", d);
        if (close != std::string::npos && close - d <= 20) return close + 2;
    }
    return k;
}

// Exynos/Android cpu and task after the timestamp: `[4:      swapper/0:    1] `
// (the task name may hold colons: `[5:  kworker/u16:3: 1234] `).
std::size_t exynos_task_tag(const std::string& s, std::size_t i) {
    if (i >= s.size() || s[i] != '[') return 0;
    std::size_t k = i + 1;
    while (k < s.size() && s[k] == ' ') ++k;
    std::size_t d = k;
    while (k < s.size() && is_digit(s[k])) ++k;
    if (k == d || k >= s.size() || s[k] != ':') return 0;
    std::size_t close = s.find(']', k);
    if (close == std::string::npos || close - k > 40) return 0;
    std::size_t colon = s.rfind(':', close);
    if (colon == k) return 0;
    // a task name has a letter (`[0:0:0:0]` is a SCSI address)
    bool named = false;
    for (std::size_t q = k + 1; q < colon; ++q) named = named || std::isalpha(static_cast<unsigned char>(s[q]));
    if (!named) return 0;
    std::size_t p = colon + 1;
    while (p < close && s[p] == ' ') ++p;
    if (p == close) return 0;
    for (std::size_t q = p; q < close; ++q)
        if (!is_digit(s[q])) return 0;
    return close + 1 < s.size() && s[close + 1] == ' ' ? close + 2 : close + 1;
}

// MediaTek's cpu and task after the timestamp: `(0)[848:ndroid.systemui]`.
std::size_t mediatek_task_tag(const std::string& s, std::size_t i) {
    if (i + 6 >= s.size() || s[i] != '(' || !is_digit(s[i + 1])) return 0;
    std::size_t k = i + 1;
    while (k < s.size() && is_digit(s[k])) ++k;
    if (s.compare(k, 2, ")[") != 0) return 0;
    std::size_t d = k += 2;
    while (k < s.size() && is_digit(s[k])) ++k;
    if (k == d || k >= s.size() || s[k] != ':') return 0;
    std::size_t close = s.find(']', k);
    if (close == std::string::npos || close - k > 17) return 0;
    return close + 1 < s.size() && s[close + 1] == ' ' ? close + 2 : close + 1;
}

// A serial logger's wall clock at the start of the line: `19:20:00  `,
// `19:20:00.123 `.
std::size_t serial_clock(const std::string& s, std::size_t i) {
    if (i + 9 > s.size() || !is_digit(s[i]) || !is_digit(s[i + 1]) || s[i + 2] != ':' || !is_digit(s[i + 3]) ||
        !is_digit(s[i + 4]) || s[i + 5] != ':' || !is_digit(s[i + 6]) || !is_digit(s[i + 7]))
        return 0;
    std::size_t k = i + 8;
    if (s[k] == '.')
        for (++k; k < s.size() && is_digit(s[k]);) ++k;
    if (k >= s.size() || s[k] != ' ') return 0;
    while (k < s.size() && s[k] == ' ') ++k;
    return k;
}

// Every transport's prefix, as one table: what normalize_line strips, in
// the order a line may carry them (a syslog date, then a level, then the
// printk timestamp, then a vendor's cpu or task tag). Each recogniser
// returns where the kernel's text goes on, or 0.
enum class Where { Anywhere, LineStart, AfterTimestamp };
struct TransportPrefix {
    const char* transport;
    std::size_t (*match)(const std::string& s, std::size_t i, LogLine& l);
    bool stamps;  // it is (or carries) the printk timestamp
    Where where;
    bool level = false;  // a printk level: what follows still counts as the line's start
};
// A recogniser that needs nothing of the line but its text.
template <std::size_t (*Match)(const std::string&, std::size_t)>
std::size_t text_only(const std::string& s, std::size_t i, LogLine&) {
    return Match(s, i);
}

std::size_t printk_timestamp(const std::string& s, std::size_t i, LogLine& l) { return printk_prefix(s, i, &l.caller); }

constexpr TransportPrefix kTransportPrefixes[] = {
    {"printk level", text_only<printk_level>, false, Where::Anywhere, true},
    {"syslog, journal", text_only<syslog_prefix>, false, Where::Anywhere},
    {"dmesg -T", text_only<human_date_prefix>, false, Where::Anywhere},
    {"printk timestamp", printk_timestamp, true, Where::Anywhere},
    {"dated timestamp", text_only<dated_timestamp>, true, Where::Anywhere},
    {"syslog facility", text_only<facility_prefix>, false, Where::Anywhere},
    {"android kmsg", text_only<android_kmsg_prefix>, true, Where::Anywhere},
    {"damaged timestamp", text_only<damaged_timestamp>, true, Where::Anywhere},
    {"samsung cpu", text_only<samsung_cpu_tag>, false, Where::AfterTimestamp},
    {"exynos cpu and task", text_only<exynos_task_tag>, false, Where::AfterTimestamp},
    {"mediatek cpu and task", text_only<mediatek_task_tag>, false, Where::AfterTimestamp},
    {"serial clock", text_only<serial_clock>, false, Where::LineStart},
    {"glued to other output", text_only<glued_timestamp>, false, Where::LineStart},
};

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
    // Decorations of the paste (quoting, a code fence), the console's
    // dropped-messages marker, then the transports' prefixes.
    i = quoting(s, i);
    if (s.compare(i, 3, "** ") == 0) {
        auto close = s.find(" ** ", i + 3);
        if (close != std::string::npos && s.find("printk messages dropped", i) < close) i = close + 4;
    }
    bool after_timestamp = false, at_start = true;  // at_start: nothing but a level stripped yet
    for (int round = 0; round < 6; ++round) {
        std::size_t j = i;
        while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
        const TransportPrefix* hit = nullptr;
        std::size_t k = 0;
        for (const TransportPrefix& p : kTransportPrefixes) {
            if ((p.where == Where::LineStart && !at_start) || (p.where == Where::AfterTimestamp && !after_timestamp))
                continue;
            if ((k = p.match(s, j, l))) {
                hit = &p;
                break;
            }
        }
        if (!hit) break;
        i = k;
        at_start = at_start && hit->level;
        after_timestamp = hit->stamps;
        l.timestamped = l.timestamped || hit->stamps;
    }
    l.text = s.substr(i);
    return l;
}

}  // namespace kaddr
