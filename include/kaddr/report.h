// Formatters over the result model: human text, JSON (one object per input,
// JSON Lines), and gdb `add-symbol-file` lines. Formatters never open files.
#pragma once
#include <nlohmann/json.hpp>
#include <ostream>

#include "kaddr/resolution.h"
#include "kaddr/snapshot.h"

namespace kaddr {

nlohmann::json to_json(const Resolution& r);
// The stable JSON name of an error code: "unknown-symbol", "null-page", ...
std::string_view error_code_name(ResolveErrorCode c);
// One JSON Lines record. Console text is bytes, not UTF-8: invalid sequences
// become U+FFFD instead of failing the whole record.
std::string json_line(const nlohmann::json& j);
nlohmann::json to_json(const SourceLocation& l);
void print_text(std::ostream& out, const Resolution& r);
void append_text(std::string& out, const Resolution& r);  // print_text's answer, appended
// "func at file:line:col" lines of an inline chain, innermost first.
void print_locations(std::ostream& out, const std::vector<SourceLocation>& locs, const std::string& indent);

// addr2line's output for one input, for scripts written against it:
// `-a` the address, `-f` function names, `-i` the whole inline chain
// (innermost first, as addr2line prints it), `-p` one line per location
// ("func at file:line", then " (inlined by) ..."), `-s` file base names.
// Unknown parts print as addr2line prints them: "??" and "??:0".
struct Addr2lineStyle {
    bool addresses = false, functions = false, inlines = false, pretty = false, basenames = false;
};
void print_addr2line(std::ostream& out, const Resolution& r, const Addr2lineStyle& style);

// `add-symbol-file FILE TEXTADDR -s SECTION ADDR ...` for one module, with a
// comment saying whether the addresses are exact or reconstructed.
void print_gdb_symbols(std::ostream& out, const Module& m);

// The modules a dump held: each one's allocations (from 6.4 mem[MOD_TEXT..],
// before core_layout/init_layout), where its sections come from, and the
// file (or the dump's own symbol table) that answers for it.
void print_dump_modules(std::ostream& out, const Snapshot& snap);
nlohmann::json dump_modules_json(const Snapshot& snap);

}  // namespace kaddr
