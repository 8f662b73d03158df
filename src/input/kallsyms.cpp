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

// The lines of a listing, each parsed and checked where it starts; the
// errors name the file and line. The views point into the text.
class NmLines {
public:
    NmLines(std::string_view text, const std::string& file, bool allow_module, const char* what)
        : begin_(text.data()), end_(text.data() + text.size()), file_(file), allow_module_(allow_module), what_(what) {}
    const char* begin() const { return begin_; }
    const char* end() const { return end_; }

    // The line starting at `p` into `sym`, and `p` moved to the next line.
    // False for an empty line (or blanks up to the end).
    bool next(const char*& p, ListedSymbol& sym) {
        const char* const line_start = p;
        const char* q = p;
        while (q < end_ && blank(*q)) ++q;
        if (q == end_ || *q == '\n') {
            p = q == end_ ? end_ : q + 1;
            return false;
        }
        sym = ListedSymbol{};
        const char* digits = q;
        for (int d; q < end_ && (d = hex_digit(*q)) >= 0; ++q) sym.addr = sym.addr << 4 | static_cast<unsigned>(d);
        if (q == digits || q - digits > 16 || q == end_ || !blank(*q)) throw bad(line_start, std::string("not a ") + what_ + " line");
        while (q < end_ && blank(*q)) ++q;
        // A type letter, a blank, and at least one more character on the line.
        if (end_ - q < 3 || !((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z') || !blank(q[1]) || q[2] == '\n')
            throw bad(line_start, std::string("not a ") + what_ + " line");
        sym.type = *q;
        q += 2;
        while (q < end_ && blank(*q)) ++q;
        const char* name = q;
        q = find_name_end(q, end_);
        sym.name = std::string_view(name, static_cast<std::size_t>(q - name));
        if (sym.name.empty()) throw bad(line_start, std::string("missing symbol name in ") + what_);
        const char* eol = q;
        if (q < end_ && *q != '\n') {  // blanks, then perhaps the module column
            eol = line_end(q);
            while (q < eol && blank(*q)) ++q;
            if (q < eol) {
                const char* m = q;
                const char* m_end = eol;
                while (m_end > m && blank(m_end[-1])) --m_end;
                if (!allow_module_ || m_end - m < 3 || *m != '[' || m_end[-1] != ']')
                    throw bad(line_start, std::string("unexpected text after the symbol name in ") + what_);
                sym.module = std::string_view(m + 1, static_cast<std::size_t>(m_end - m - 2));
            }
        }
        p = eol == end_ ? end_ : eol + 1;
        any_ = true;
        any_nonzero_ = any_nonzero_ || sym.addr != 0;
        return true;
    }

    // Where the line after the one holding `p` starts.
    const char* line_after(const char* p) const {
        const char* e = line_end(p);
        return e == end_ ? end_ : e + 1;
    }

    // Whether the lines read so far show a symbol with an address.
    bool conclusive() const { return any_ && any_nonzero_; }
    // What the lines read so far say of the whole listing.
    void finish() const {
        if (!any_) throw Error(file_, std::string("no symbols in ") + what_, "is this the right file?");
        if (!any_nonzero_)
            throw Error(file_, std::string("every address in this ") + what_ + " is zero",
                        "it was read without privilege (kptr_restrict); capture it as root with "
                        "/proc/sys/kernel/kptr_restrict set to 0");
    }

private:
    const char* line_end(const char* from) const {
        const char* e = static_cast<const char*>(std::memchr(from, '\n', static_cast<std::size_t>(end_ - from)));
        return e ? e : end_;
    }
    // The line number is counted only here: a skim does not pass every line.
    Error bad(const char* line_start, const std::string& problem) const {
        const std::size_t line_no = static_cast<std::size_t>(std::count(begin_, line_start, '\n')) + 1;
        std::string_view v = trim(std::string_view(line_start, static_cast<std::size_t>(line_end(line_start) - line_start)));
        return Error(at(file_, line_no), problem + ": '" + std::string(v.substr(0, 80)) + "'", "expected 'ADDRESS TYPE NAME'");
    }

    const char* begin_;
    const char* end_;
    const std::string& file_;
    bool allow_module_;
    const char* what_;
    bool any_ = false, any_nonzero_ = false;
};

// Every line of the listing, parsed and checked, to `each`.
template <class Each>
void scan_nm_format(std::string_view text, const std::string& file, bool allow_module, const char* what, Each&& each) {
    NmLines lines(text, file, allow_module, what);
    ListedSymbol sym;
    for (const char* p = lines.begin(); p < lines.end();)
        if (lines.next(p, sym)) each(sym);
    lines.finish();
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

void skim_kallsyms(std::string_view text, const std::string& file, std::size_t head_bytes, std::size_t stride_bytes,
                   const std::function<void(const ListedSymbol&, bool picked)>& each) {
    NmLines lines(text, file, true, "kallsyms");
    ListedSymbol sym;
    const char* p = lines.begin();
    const char* const end = lines.end();
    const char* const head_end = p + std::min(head_bytes, text.size());
    while (p < head_end)
        if (lines.next(p, sym)) each(sym, false);
    // The kernel lists the core's symbols first, then each module's; no core
    // name holds a '['. The lines from the first module line on are all read.
    const char* tail = end;
    if (const void* bracket = std::memchr(p, '[', static_cast<std::size_t>(end - p))) {
        const char* b = static_cast<const char*>(bracket);
        const void* nl = memrchr(p, '\n', static_cast<std::size_t>(b - p));
        tail = nl ? static_cast<const char*>(nl) + 1 : p;
    }
    while (p < tail) {
        const char* const picked = p;
        if (lines.next(p, sym)) each(sym, true);
        if (stride_bytes >= static_cast<std::size_t>(tail - picked)) p = tail;
        else if (picked + stride_bytes > p) p = lines.line_after(picked + stride_bytes - 1);
    }
    while (p < end)
        if (lines.next(p, sym)) each(sym, false);
    // No symbol or no address seen: the lines skipped may hold them, so the
    // whole text decides (a capture read without privilege is all zeros).
    if (!lines.conclusive()) scan_nm_format(text, file, true, "kallsyms", [](const ListedSymbol&) {});
}

SymbolList parse_system_map(TextFile text, const std::string& file) {
    if (text.text.substr(0, 38) == "ffffffffffffffff B The real System.map")
        throw Error(file, "this System.map is a stub", "Debian ships the real one in the linux-image-<release>-dbg package");
    return parse_nm_format(std::move(text), file, false, "System.map");
}
SymbolList parse_system_map(std::istream& in, const std::string& file) { return parse_system_map(slurp(in), file); }

}  // namespace kaddr
