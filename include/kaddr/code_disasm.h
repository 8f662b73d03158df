// The report's `Code:` bytes disassembled with Capstone, the faulting
// instruction marked, and each instruction's source line when the pc's
// address is known: what the kernel's scripts/decodecode prints, without
// objdump. x86 is variable-length and the bytes start 42 before the pc,
// possibly mid-instruction: the listing starts at the first offset from
// which decoding lands exactly on the faulting instruction (decodecode's
// trick), and the bytes before it are reported as skipped.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kaddr/code_bytes.h"
#include "kaddr/dwarf_source.h"

namespace kaddr {

class Snapshot;
struct ExplainedReport;

struct CodeInstruction {
    std::int64_t offset = 0;                // from the faulting pc (negative: before it)
    std::optional<std::uint64_t> address;   // runtime address, when the pc's is known
    std::vector<std::uint8_t> bytes;
    std::string mnemonic, operands;
    bool faulting = false;
    bool decoded = true;                    // false: no instruction decodes here (shown as raw data)
    std::vector<SourceLocation> source;     // innermost first; empty without an address or DWARF
};

struct CodeListing {
    Arch arch = Arch::Unknown;
    bool thumb = false;
    std::vector<CodeInstruction> instructions;
    std::size_t skipped = 0;                // leading bytes that start mid-instruction
    CodeParseError error = CodeParseError::None;  // why there is no listing
    std::string detail;

    bool ok() const { return error == CodeParseError::None; }
};

// `pc`: the faulting instruction's runtime address, when known.
CodeListing disassemble_code(const CodeBytes& code, std::optional<std::uint64_t> pc = std::nullopt);

// Fills each instruction's source from the snapshot's DWARF (core image or
// the module the address is in); instructions without an address keep none.
void add_source_lines(CodeListing& listing, const Snapshot& snap);

// The report's `Code:` line disassembled at the pc it belongs to (see
// code_pc() in code_check.h), with source lines when that pc's address is
// known. A report without a usable line gives a listing whose error says why.
CodeListing disassemble_report_code(const Snapshot& snap, const ExplainedReport& e);

// An x86 instruction's constant fields (displacement, immediate), as
// offsets in the instruction: where an absolute address would sit.
struct OperandField {
    enum class Kind { Value, RipRelative, BranchTarget };
    std::size_t offset = 0, size = 0;
    Kind kind = Kind::Value;  // a plain constant, a %rip-relative displacement, a branch's relative target
};
struct DecodedInstruction {
    std::size_t offset = 0, size = 0;  // in the bytes decoded
    std::vector<OperandField> fields;
};
// The instructions of `bytes` from the first start at or after `at` that
// meets `pc` exactly, to the first byte that does not decode (x86_64 only;
// empty for other architectures).
std::vector<DecodedInstruction> decode_fields(Arch arch, std::span<const std::uint8_t> bytes, std::size_t at, std::size_t pc);

// Length of the instruction at the start of `bytes` (nullopt: none decodes).
std::optional<std::size_t> instruction_length(Arch arch, bool thumb, std::span<const std::uint8_t> bytes);

}  // namespace kaddr
