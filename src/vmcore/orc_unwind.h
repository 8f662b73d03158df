// The x86_64 kernel's own unwinder, ORC (arch/x86/kernel/unwind_orc.c),
// over a dump: where the CFI ends (a module with no file, hand-written entry
// code), the ORC tables the kernel used to print its own backtrace take the
// stack on. The core kernel's tables come from the vmlinux file
// (.orc_unwind_ip, .orc_unwind), each module's from its struct module in
// the dump (mod->arch), so a module kaddr has no file for is still walked.
//
// The entry format changed in 6.4 (type widened to 3 bits with UNDEFINED
// and END_OF_STACK types, `end` dropped; `signal` added in 6.3): it is read
// from the vmlinux DWARF's struct orc_entry, never assumed.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kaddr/elf_file.h"

namespace kaddr {

class Vmcore;

// One decoded ORC entry.
struct OrcEntry {
    std::int16_t sp_offset = 0, bp_offset = 0;
    unsigned sp_reg = 0, bp_reg = 0;
    enum class Type { Undefined, EndOfStack, Call, Regs, RegsPartial } type = Type::Undefined;
};

// How struct orc_entry packs its fields (from the vmlinux DWARF).
struct OrcFormat {
    unsigned sp_reg_bit = 32, bp_reg_bit = 36, type_bit = 40, type_bits = 3;
    std::optional<unsigned> end_bit;  // before 6.4: `end` marks the end of the stack
    std::string how;                  // where the format was read
};
// nullopt (with `why`) when the vmlinux has no DWARF for struct orc_entry.
std::optional<OrcFormat> orc_format(const ElfFile& vmlinux, std::string& why);

// The ORC entries of one text range, sorted by ip (runtime addresses).
struct OrcTable {
    std::string name;  // "vmlinux" or the module's
    std::vector<std::uint64_t> ips;
    std::vector<OrcEntry> entries;
    std::optional<OrcEntry> find(std::uint64_t ip) const;  // the entry covering ip
};
// vmlinux's tables from its file, moved by the KASLR offset; empty (with
// `why`) when the file has none (CONFIG_UNWINDER_ORC off).
OrcTable vmlinux_orc(const ElfFile& vmlinux, std::int64_t kaslr, const OrcFormat& f, std::string& why);
// A module's tables from the dump (they were sorted at load time).
OrcTable module_orc(const Vmcore& dump, const std::string& name, std::uint64_t ip_table, std::uint64_t entries,
                    std::uint32_t count, const OrcFormat& f, std::string& why);

// Where a frame stands: ip, sp and bp, and the registers of a pt_regs the
// frame came out of (the CPU note for the first frame, an exception or
// interrupt frame's saved registers after one).
struct OrcState {
    std::uint64_t ip = 0, sp = 0, bp = 0;
    bool signal = false;  // ip is where execution stopped, not a return address
    std::map<std::string, std::uint64_t> regs;  // full pt_regs known: rdi, rdx, r10, r13, ...
    bool user = false;    // the frame is the interrupted user-space state
};

// One unwinding step (unwind_next_frame()): the caller's state, or
// nullopt with `stopped` saying why (end of stack, no entry, unreadable).
using ReadWord = std::function<bool(std::uint64_t addr, std::uint64_t& value)>;
std::optional<OrcState> orc_step(const OrcState& s, const std::vector<OrcTable>& tables, const ReadWord& read,
                                 std::string& stopped);

}  // namespace kaddr
