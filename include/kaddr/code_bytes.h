// The instruction bytes a report prints on its `Code:` line, as bytes in
// memory order with the faulting instruction's position. Each architecture
// prints them its own way:
//   x86_64  `Code: 48 89 e5 <0f> 0b ...`       bytes, the pc's first byte in <>
//   arm64   `Code: d503233f ... (d4210000)`    32-bit words, the pc's in ()
//   ARM     `Code: e52de004 ... (e7f001f2)`    32-bit words (ARM state)
//   Thumb   `Code: 4b07 b510 (6818) ...`       16-bit halfwords (Thumb state)
// Words are instruction values; memory holds them little-endian on every
// kernel kaddr reads.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kaddr/arch.h"

namespace kaddr {

// Why a `Code:` line gave no bytes.
enum class CodeParseError {
    None,
    Empty,            // no `Code:` line in the report
    Unreadable,       // the kernel could not read them: "Unable to access opcode bytes", "Bad RIP value"
    NoFaultMarker,    // no <..> or (..): the faulting instruction is not known
    Malformed,        // a token that is not a hex byte / word of the expected width
    ArchUnknown,      // 32-bit words but neither arm64 nor ARM is known
};
std::string_view code_parse_error_name(CodeParseError e);

struct CodeBytes {
    Arch arch = Arch::Unknown;
    bool thumb = false;                 // ARM halfwords: Thumb state
    unsigned unit = 1;                  // bytes per printed token: 1, 2 or 4
    std::vector<std::uint8_t> bytes;    // memory order
    std::size_t fault_offset = 0;       // index into bytes of the faulting instruction's first byte
    CodeParseError error = CodeParseError::None;
    std::string detail;                 // the offending token, or the kernel's own words

    bool ok() const { return error == CodeParseError::None; }
};

// `text` is the `Code:` line after "Code: " (OopsReport::code). `arch` says
// how 32-bit words are to be read (arm64 or ARM); x86_64 bytes and ARM
// halfwords are recognised by their width when it is Unknown.
CodeBytes parse_code_bytes(std::string_view text, Arch arch);

}  // namespace kaddr
