// Is the debug file the build that crashed? The report's `Code:` bytes are
// compared with the bytes at the faulting pc in vmlinux or the module's .ko.
// The running kernel rewrites its own text (KASLR relocations, module
// relocations, alternatives, paravirt, return thunks, retpolines, jump
// labels, static calls, ftrace nops, SMP lock prefixes), so the right file
// never matches byte for byte: those sites are wildcards (patch_sites.h).
// Any other difference means the file is from another build, and every
// answer drawn from it may be wrong.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kaddr/code_bytes.h"
#include "kaddr/lexemes.h"
#include "kaddr/resolution.h"

namespace kaddr {

class Snapshot;
struct ExplainedReport;

// What rewrote a byte the check masked.
enum class PatchKind {
    Relocation,   // module load or KASLR relocation
    Alternative,  // .altinstructions
    Paravirt,     // .parainstructions
    ReturnThunk,  // .return_sites
    Retpoline,    // .retpoline_sites
    JumpLabel,    // __jump_table
    StaticCall,   // .static_call_sites
    Ftrace,       // __mcount_loc / __patchable_function_entries
    SmpLock,      // .smp_locks (UP: lock prefix -> ds)
    EndbrSeal,    // .ibt_endbr_seal
    CallDepth,    // .call_sites (call depth tracking)
    SmpAlt,       // ARM .alt.smp.init (SMP kernel on a UP machine)
};
constexpr std::size_t kPatchKinds = 12;
std::string_view patch_kind_name(PatchKind k);

enum class CodeVerdict { Match, Mismatch, NotChecked };
std::string_view code_verdict_name(CodeVerdict v);

// Why the bytes were not compared.
enum class CodeSkip {
    None,
    NoCodeLine,      // the report prints no `Code:` line
    CodeUnusable,    // the line is unreadable or malformed (CodeCheck::code_error says how)
    NoPc,            // no pc line the `Code:` line belongs to
    UserPc,          // the pc is in user space: the bytes are a program's
    PcUnknown,       // the pc's place in the file is unknown (no address, symbol not found, KASLR unknown)
    NoFile,          // no vmlinux / no .ko for the pc's image
    NoFileBytes,     // the pc is in no section with file contents
    TooFewBytes,     // fewer than kMinCompared bytes left once patch sites are masked
};
std::string_view code_skip_name(CodeSkip s);

// The faulting pc as the report gives it.
struct CodePc {
    std::optional<std::uint64_t> address;  // runtime address (from the report or the resolver)
    std::optional<SymbolRef> symbol;       // `func+off/size [mod]` as printed
    bool address_from_symbol = false;      // the resolver found `address` from `symbol` (no KASLR guess in it)
    bool user = false;
};

struct CodeCheck {
    static constexpr std::size_t kMinCompared = 8;

    CodeVerdict verdict = CodeVerdict::NotChecked;
    CodeSkip skip = CodeSkip::None;
    CodeParseError code_error = CodeParseError::None;
    std::string detail;                        // why not checked, in words

    // The file compared, and whose frames a mismatch discredits.
    std::string file;                          // ElfFile::path()
    std::optional<std::string> module;         // nullopt: the core kernel (vmlinux)
    std::string section;                       // e.g. ".text"
    std::uint64_t section_offset = 0;          // of the pc
    std::optional<std::uint64_t> pc;           // runtime, when known

    std::size_t reported = 0;                  // bytes on the `Code:` line
    std::size_t compared = 0;                  // compared with the file
    std::size_t masked = 0;                    // patch-site wildcards
    std::size_t outside = 0;                   // beyond the section: not compared
    std::array<std::size_t, kPatchKinds> masked_by{};  // indexed by PatchKind

    // On Mismatch: the first differing byte, as an offset from the pc.
    std::optional<std::int64_t> first_difference;
    std::uint8_t reported_byte = 0, file_byte = 0;
    std::size_t differing = 0;                 // how many compared bytes differ

    std::vector<std::string> notes;            // tables that could not be read

    // What to do on a mismatch (empty otherwise).
    std::string advice() const;
    // True when `r` was answered from the file this check compared: on a
    // Mismatch, such frames must lose their confidence.
    bool covers(const Resolution& r) const;
};

// Compares `code_text` (OopsReport::code) with the file bytes at `pc`.
CodeCheck check_code(const Snapshot& snap, std::string_view code_text, const CodePc& pc);

// The pc the report's `Code:` line belongs to: the last pc line printed
// before it (the kernel prints `RIP:`/`pc :` then `Code:`), with the
// address the resolver found for it.
std::optional<CodePc> code_pc(const ExplainedReport& e);

// check_code() on an explained report.
CodeCheck check_report_code(const Snapshot& snap, const ExplainedReport& e);

}  // namespace kaddr
