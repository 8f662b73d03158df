// /proc/kallsyms and System.map share the nm format; kallsyms adds a
// tab-separated `[module]` column. One pass over the whole text with views
// into it: a kallsyms capture has 100,000 lines and is read on every run.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <sstream>

#include "kaddr/error.h"
#include "kaddr/inputs.h"
#include "kaddr/lexemes.h"

namespace kaddr {

std::string canonical_module_name(std::string name) {
    for (char& c : name)
        if (c == '-') c = '_';
    return name;
}

namespace {

// Character classes by table: the parse is a per-byte loop over megabytes,
// and one load per byte beats three range checks.
struct CharClasses {
    std::int8_t hex[256];
    bool blank[256];
    constexpr CharClasses() : hex(), blank() {
        for (int c = 0; c < 256; ++c) {
            hex[c] = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            blank[c] = c == ' ' || c == '\t' || c == '\r';
        }
    }
};
constexpr CharClasses kClasses;

bool blank(char c) { return kClasses.blank[static_cast<unsigned char>(c)]; }
int hex_digit(char c) { return kClasses.hex[static_cast<unsigned char>(c)]; }

// The end of a name: the first blank or newline in [q, end), eight bytes at
// a time (names are most of the bytes; the lowest byte the zero-byte test
// flags is exact). Stopping at the newline too makes one pass over a line
// find both where its name ends and, on a core line, where the line ends.
const char* find_name_end(const char* q, const char* end) {
    if constexpr (std::endian::native == std::endian::little) {
        constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
        auto has = [](std::uint64_t w, std::uint64_t c) {
            const std::uint64_t x = w ^ (ones * c);
            return (x - ones) & ~x & highs;
        };
        for (; end - q >= 8; q += 8) {
            std::uint64_t w;
            std::memcpy(&w, q, 8);
            if (const std::uint64_t m = has(w, ' ') | has(w, '\t') | has(w, '\r') | has(w, '\n'))
                return q + std::countr_zero(m) / 8;
        }
    }
    while (q < end && !blank(*q) && *q != '\n') ++q;
    return q;
}

// Every line of the listing, parsed and checked, to `each`; the errors
// name the file and line. The views point into `text`.
template <class Each>
void scan_nm_format(std::string_view text, const std::string& file, bool allow_module, const char* what, Each&& each) {
    const char* p = text.data();
    const char* const end = p + text.size();
    auto line_end = [&](const char* from) {
        const char* e = static_cast<const char*>(std::memchr(from, '\n', static_cast<std::size_t>(end - from)));
        return e ? e : end;
    };
    bool any = false, any_nonzero = false;
    for (std::size_t line_no = 1; p < end; ++line_no) {
        const char* const line_start = p;
        const char* q = p;
        while (q < end && blank(*q)) ++q;
        if (q == end) break;
        if (*q == '\n') {  // an empty line
            p = q + 1;
            continue;
        }
        auto bad = [&](const std::string& problem) {
            std::string_view v = trim(std::string_view(line_start, static_cast<std::size_t>(line_end(line_start) - line_start)));
            return Error(at(file, line_no), problem + ": '" + std::string(v.substr(0, 80)) + "'",
                         "expected 'ADDRESS TYPE NAME'");
        };
        ListedSymbol sym;
        const char* digits = q;
        for (int d; q < end && (d = hex_digit(*q)) >= 0; ++q) sym.addr = sym.addr << 4 | static_cast<unsigned>(d);
        if (q == digits || q - digits > 16 || q == end || !blank(*q)) throw bad(std::string("not a ") + what + " line");
        while (q < end && blank(*q)) ++q;
        // A type letter, a blank, and at least one more character on the line.
        if (end - q < 3 || !((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z') || !blank(q[1]) || q[2] == '\n')
            throw bad(std::string("not a ") + what + " line");
        sym.type = *q;
        q += 2;
        while (q < end && blank(*q)) ++q;
        const char* name = q;
        q = find_name_end(q, end);
        sym.name = std::string_view(name, static_cast<std::size_t>(q - name));
        if (sym.name.empty()) throw bad(std::string("missing symbol name in ") + what);
        const char* eol = q;
        if (q < end && *q != '\n') {  // blanks, then perhaps the module column
            eol = line_end(q);
            while (q < eol && blank(*q)) ++q;
            if (q < eol) {
                const char* m = q;
                const char* m_end = eol;
                while (m_end > m && blank(m_end[-1])) --m_end;
                if (!allow_module || m_end - m < 3 || *m != '[' || m_end[-1] != ']')
                    throw bad(std::string("unexpected text after the symbol name in ") + what);
                sym.module = std::string_view(m + 1, static_cast<std::size_t>(m_end - m - 2));
            }
        }
        p = eol == end ? end : eol + 1;
        any = true;
        any_nonzero = any_nonzero || sym.addr != 0;
        each(sym);
    }
    if (!any) throw Error(file, std::string("no symbols in ") + what, "is this the right file?");
    if (!any_nonzero)
        throw Error(file, std::string("every address in this ") + what + " is zero",
                    "it was read without privilege (kptr_restrict); capture it as root with "
                    "/proc/sys/kernel/kptr_restrict set to 0");
}

SymbolList parse_nm_format(TextFile text, const std::string& file, bool allow_module, const char* what) {
    SymbolList out;
    out.symbols.reserve(text.text.size() / 32);
    scan_nm_format(text.text, file, allow_module, what, [&](const ListedSymbol& s) { out.symbols.push_back(s); });
    out.storage = std::move(text.storage);
    return out;
}

TextFile from_string(std::string s) {
    auto owned = std::make_shared<std::string>(std::move(s));
    return {owned, *owned};
}

TextFile slurp(std::istream& in) {
    std::ostringstream all;
    all << in.rdbuf();  // one bulk copy, not a character at a time
    return from_string(std::move(all).str());
}

}  // namespace

SymbolList parse_kallsyms(TextFile text, const std::string& file) {
    return parse_nm_format(std::move(text), file, true, "kallsyms");
}
SymbolList parse_kallsyms(std::istream& in, const std::string& file) { return parse_kallsyms(slurp(in), file); }
void scan_kallsyms(std::string_view text, const std::string& file, const std::function<void(const ListedSymbol&)>& each) {
    scan_nm_format(text, file, true, "kallsyms", each);
}

SymbolList parse_system_map(TextFile text, const std::string& file) {
    if (text.text.substr(0, 38) == "ffffffffffffffff B The real System.map")
        throw Error(file, "this System.map is a stub", "Debian ships the real one in the linux-image-<release>-dbg package");
    return parse_nm_format(std::move(text), file, false, "System.map");
}
SymbolList parse_system_map(std::istream& in, const std::string& file) { return parse_system_map(slurp(in), file); }

}  // namespace kaddr
