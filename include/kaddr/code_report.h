// Text and JSON for the `Code:` line: the check against the debug file
// (code_check.h) and the disassembly (code_disasm.h).
#pragma once
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "kaddr/code_check.h"
#include "kaddr/code_disasm.h"

namespace kaddr {

// One line: "matches FILE (N bytes compared, M patch-site bytes masked)",
// or the mismatch said loudly with what to do, or why it was not checked.
void print_code_check(std::ostream& out, const CodeCheck& c, const std::string& indent);
// decodecode-style: offset, address, bytes, instruction, source; the
// faulting instruction marked with "==>".
void print_code_listing(std::ostream& out, const CodeListing& l, const std::string& indent);

nlohmann::json code_check_json(const CodeCheck& c);
nlohmann::json code_listing_json(const CodeListing& l);

}  // namespace kaddr
