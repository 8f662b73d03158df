#include "kaddr/lexemes.h"

#include <cctype>
#include <charconv>

#include "kaddr/error.h"

namespace kaddr {

std::optional<std::uint64_t> parse_hex(std::string_view s) {
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
    if (s.empty() || s.size() > 16) return std::nullopt;
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

std::optional<std::uint64_t> parse_number(std::string_view s) {
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) return parse_hex(s);
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

std::string_view hex_into(std::uint64_t v, char (&buf)[19]) {
    buf[0] = '0';
    buf[1] = 'x';
    auto [p, ec] = std::to_chars(buf + 2, buf + sizeof buf, v, 16);
    (void)ec;
    return std::string_view(buf, static_cast<std::size_t>(p - buf));
}

std::string hex(std::uint64_t v) {
    char buf[19];
    return std::string(hex_into(v, buf));
}

std::optional<std::uint64_t> parse_address_text(std::string_view text) {
    text = trim(text);
    bool prefixed = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    if (!prefixed && text.size() < 8) return std::nullopt;
    return parse_hex(text);
}

bool is_symbol_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

static std::size_t hex_run(std::string_view s, std::size_t i) {
    std::size_t j = i;
    if (j + 1 < s.size() && s[j] == '0' && (s[j + 1] == 'x' || s[j + 1] == 'X')) j += 2;
    std::size_t k = j;
    while (k < s.size() && std::isxdigit(static_cast<unsigned char>(s[k]))) ++k;
    return k == j ? i : k;
}

std::optional<SymbolRef> parse_symbol_ref(std::string_view s, std::size_t* consumed) {
    std::size_t i = 0;
    while (i < s.size() && is_symbol_char(s[i])) ++i;
    if (i == 0) return std::nullopt;
    SymbolRef ref;
    ref.name.assign(s.substr(0, i));
    if (i < s.size() && s[i] == '+') {
        std::size_t end = hex_run(s, i + 1);
        // More than 16 hex digits does not fit: not a frame, never a guess.
        auto offset = parse_hex(s.substr(i + 1, end - i - 1));
        if (!offset) return std::nullopt;
        ref.offset = *offset;
        i = end;
        if (i < s.size() && s[i] == '/') {
            end = hex_run(s, i + 1);
            ref.size = parse_hex(s.substr(i + 1, end - i - 1));
            if (!ref.size) return std::nullopt;
            i = end;
        }
    }
    // Optional ` [mod]` or ` [mod buildid]`.
    std::size_t j = i;
    while (j < s.size() && s[j] == ' ') ++j;
    if (j < s.size() && s[j] == '[') {
        std::size_t close = s.find(']', j);
        if (close != std::string_view::npos) {
            std::string_view inside = trim(s.substr(j + 1, close - j - 1));
            std::size_t sp = inside.find(' ');
            std::string_view mod = inside.substr(0, sp);
            bool ok = !mod.empty();
            for (char c : mod) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
            if (ok) {
                ref.module.assign(mod);
                if (sp != std::string_view::npos) ref.build_id.assign(trim(inside.substr(sp + 1)));
                i = close + 1;
            }
        }
    }
    if (consumed) *consumed = i;
    return ref;
}

bool LineReader::next(std::string& line) {
    if (!std::getline(in_, line)) return false;
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
}

std::string LineReader::where() const { return at(file_, line_no_); }

}  // namespace kaddr
