// The lexemes every kernel text format shares, defined once: hex numbers,
// `sym+0x1d/0x40 [mod]` frame specs, and a line reader that knows its file
// and line number. All parsers (kallsyms, System.map, oops reports, the
// resolve command line) go through these.
#pragma once
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>

namespace kaddr {

// Parses a hex number with or without 0x; the whole view must be consumed.
std::optional<std::uint64_t> parse_hex(std::string_view s);
// Parses decimal or 0x-prefixed hex.
std::optional<std::uint64_t> parse_number(std::string_view s);

std::string hex(std::uint64_t v);
// hex() spelt into `buf`, without a string (for output written per address).
std::string_view hex_into(std::uint64_t v, char (&buf)[19]);

// An address as users type it: `0xffffffffc037c046`, or bare hex of 8 or
// more digits (shorter bare hex could be a symbol name such as `add`).
std::optional<std::uint64_t> parse_address_text(std::string_view text);  // "0x..." lower case, no padding

// `func+0x1d/0x40 [mod]`, `func+0x1d`, `func`, `func+0x1d/0x40 [mod buildid]`.
struct SymbolRef {
    std::string name;
    std::uint64_t offset = 0;
    std::optional<std::uint64_t> size;
    std::string module;    // empty: core kernel or unknown
    std::string build_id;  // from `[mod 8c5e...]`, 5.14+
};
// Parses a symbol reference at the start of `s`; on success `consumed` is the
// number of characters used. Returns nullopt when `s` does not start with one.
std::optional<SymbolRef> parse_symbol_ref(std::string_view s, std::size_t* consumed = nullptr);
bool is_symbol_char(char c);

std::string_view trim(std::string_view s);

// Reads lines, tracking the line number; strips a trailing '\r'.
class LineReader {
public:
    LineReader(std::istream& in, std::string file) : in_(in), file_(std::move(file)) {}
    bool next(std::string& line);
    std::size_t line_no() const { return line_no_; }
    const std::string& file() const { return file_; }
    std::string where() const;

private:
    std::istream& in_;
    std::string file_;
    std::size_t line_no_ = 0;
};

}  // namespace kaddr
