// ORC unwinding, as arch/x86/kernel/unwind_orc.c does it (unwind_next_frame
// and orc_find), over tables read from the vmlinux file and the dump.
#include "orc_unwind.h"

#include <algorithm>
#include <cstring>

#include "kaddr/error.h"
#include "kaddr/kernel_types.h"
#include "kaddr/lexemes.h"
#include "kaddr/vmcore.h"

namespace kaddr {

namespace {

// ORC_REG_* (arch/x86/include/asm/orc_types.h): the same in every era.
enum OrcReg : unsigned {
    kRegUndefined = 0,
    kRegPrevSp = 1,
    kRegDx = 2,
    kRegDi = 3,
    kRegBp = 4,
    kRegSp = 5,
    kRegR10 = 6,
    kRegR13 = 7,
    kRegBpIndirect = 8,
    kRegSpIndirect = 9,
};

constexpr std::size_t kEntryBytes = 6;  // sizeof(struct orc_entry): two s16 and 16 bits of fields
constexpr std::size_t kMaxEntries = 8u << 20;

// struct pt_regs (x86_64): the registers an exception or interrupt frame
// saved, by name, in the kernel's order.
constexpr const char* kPtRegs[] = {"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9",  "r8",    "rax",
                                   "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "flags", "rsp", "ss"};
constexpr std::uint64_t kIpSlot = 16;  // pt_regs.ip: where an IRET frame starts

unsigned bits(std::uint64_t v, unsigned at, unsigned width) {
    return static_cast<unsigned>((v >> at) & ((1u << width) - 1));
}

OrcEntry decode(const unsigned char* p, const OrcFormat& f) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < kEntryBytes; ++i) v |= std::uint64_t{p[i]} << (8 * i);
    OrcEntry e;
    e.sp_offset = static_cast<std::int16_t>(v & 0xffff);
    e.bp_offset = static_cast<std::int16_t>((v >> 16) & 0xffff);
    e.sp_reg = bits(v, f.sp_reg_bit, 4);
    e.bp_reg = bits(v, f.bp_reg_bit, 4);
    const unsigned type = bits(v, f.type_bit, f.type_bits);
    if (f.end_bit) {  // before 6.4: CALL 0, REGS 1, REGS_PARTIAL 2; `end` and an undefined sp say the rest
        if (bits(v, *f.end_bit, 1)) e.type = OrcEntry::Type::EndOfStack;
        else if (e.sp_reg == kRegUndefined) e.type = OrcEntry::Type::Undefined;
        else e.type = type == 0 ? OrcEntry::Type::Call : type == 1 ? OrcEntry::Type::Regs : OrcEntry::Type::RegsPartial;
    } else {  // 6.4+: UNDEFINED 0, END_OF_STACK 1, CALL 2, REGS 3, REGS_PARTIAL 4
        static constexpr OrcEntry::Type kTypes[] = {OrcEntry::Type::Undefined, OrcEntry::Type::EndOfStack,
                                                    OrcEntry::Type::Call, OrcEntry::Type::Regs,
                                                    OrcEntry::Type::RegsPartial};
        e.type = type < std::size(kTypes) ? kTypes[type] : OrcEntry::Type::Undefined;
    }
    return e;
}

// A table from its two arrays: ip_table[i] is an int32 offset from its own address.
OrcTable make_table(std::string name, std::uint64_t ip_base, const unsigned char* ips, const unsigned char* entries,
                    std::size_t n, std::int64_t shift, const OrcFormat& f) {
    OrcTable t;
    t.name = std::move(name);
    t.ips.reserve(n);
    t.entries.reserve(n);
    std::vector<std::pair<std::uint64_t, OrcEntry>> rows;
    rows.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::int32_t rel = 0;
        std::memcpy(&rel, ips + 4 * i, 4);
        const std::uint64_t ip = ip_base + 4 * i + static_cast<std::uint64_t>(std::int64_t{rel}) + static_cast<std::uint64_t>(shift);
        rows.emplace_back(ip, decode(entries + kEntryBytes * i, f));
    }
    // Sorted by the kernel (at build time, and at module load); a stable
    // sort keeps that order and protects the search from a damaged table.
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [ip, e] : rows) {
        t.ips.push_back(ip);
        t.entries.push_back(e);
    }
    return t;
}

}  // namespace

std::optional<OrcEntry> OrcTable::find(std::uint64_t ip) const {
    if (ips.empty() || ip < ips.front() || ip > ips.back()) return std::nullopt;
    const auto it = std::upper_bound(ips.begin(), ips.end(), ip);
    return entries[static_cast<std::size_t>(it - ips.begin()) - 1];
}

std::optional<OrcFormat> orc_format(const ElfFile& vmlinux, std::string& why) {
    try {
        const KernelTypes t(vmlinux, {"arch/x86/kernel/unwind_orc.c"}, {"orc_entry"});
        const auto sp = t.bitfield("orc_entry.sp_reg"), bp = t.bitfield("orc_entry.bp_reg"), type = t.bitfield("orc_entry.type");
        if (!sp || !bp || !type) {
            why = vmlinux.path() + ": its DWARF has no struct orc_entry bit-fields (no CONFIG_UNWINDER_ORC?)";
            return std::nullopt;
        }
        OrcFormat f;
        f.sp_reg_bit = static_cast<unsigned>(sp->first);
        f.bp_reg_bit = static_cast<unsigned>(bp->first);
        f.type_bit = static_cast<unsigned>(type->first);
        f.type_bits = static_cast<unsigned>(type->second);
        if (const auto end = t.bitfield("orc_entry.end")) f.end_bit = static_cast<unsigned>(end->first);
        f.how = f.end_bit ? "struct orc_entry with `end` (before 6.4)" : "struct orc_entry with 3-bit types (6.4+)";
        if (f.sp_reg_bit + 4 > 48 || f.bp_reg_bit + 4 > 48 || f.type_bit + f.type_bits > 48 || f.type_bits > 3) {
            why = vmlinux.path() + ": struct orc_entry has an unknown layout";
            return std::nullopt;
        }
        return f;
    } catch (const Error& e) {
        why = e.what();
        return std::nullopt;
    }
}

OrcTable vmlinux_orc(const ElfFile& vmlinux, std::int64_t kaslr, const OrcFormat& f, std::string& why) {
    const ElfSection *ip = nullptr, *entries = nullptr;
    for (const auto& s : vmlinux.sections()) {
        if (s.name == ".orc_unwind_ip") ip = &s;
        if (s.name == ".orc_unwind") entries = &s;
    }
    if (!ip || !entries) {
        why = vmlinux.path() + " has no .orc_unwind_ip/.orc_unwind sections (no CONFIG_UNWINDER_ORC?)";
        return {};
    }
    const std::string_view ipb = vmlinux.section_bytes(ip->index), eb = vmlinux.section_bytes(entries->index);
    const std::size_t n = std::min(ipb.size() / 4, eb.size() / kEntryBytes);
    if (n == 0 || n > kMaxEntries || ipb.size() / 4 != eb.size() / kEntryBytes) {
        why = vmlinux.path() + ": its ORC tables do not match (" + std::to_string(ipb.size() / 4) + " ips, " +
              std::to_string(eb.size() / kEntryBytes) + " entries)";
        return {};
    }
    return make_table("vmlinux", ip->addr, reinterpret_cast<const unsigned char*>(ipb.data()),
                      reinterpret_cast<const unsigned char*>(eb.data()), n, kaslr, f);
}

OrcTable module_orc(const Vmcore& dump, const std::string& name, std::uint64_t ip_table, std::uint64_t entries,
                    std::uint32_t count, const OrcFormat& f, std::string& why) {
    if (!ip_table || !entries || !count || count > kMaxEntries) {
        why = "module " + name + " has no ORC tables in the dump";
        return {};
    }
    std::vector<unsigned char> ips(std::size_t{count} * 4), es(std::size_t{count} * kEntryBytes);
    if (!dump.read(ip_table, ips.data(), ips.size()) || !dump.read(entries, es.data(), es.size())) {
        why = "module " + name + "'s ORC tables (" + hex(ip_table) + ") are not in the dump";
        return {};
    }
    return make_table(name, ip_table, ips.data(), es.data(), count, 0, f);
}

std::optional<OrcState> orc_step(const OrcState& s, const std::vector<OrcTable>& tables, const ReadWord& read,
                                 std::string& stopped) {
    const std::uint64_t look = s.signal ? s.ip : s.ip - 1;
    std::optional<OrcEntry> found;
    for (const auto& t : tables)
        if ((found = t.find(look))) break;
    if (!found) {
        stopped = "no ORC entry for " + hex(s.ip);
        return std::nullopt;
    }
    const OrcEntry& e = *found;
    if (e.type == OrcEntry::Type::EndOfStack) {
        stopped = "the end of the stack (ORC)";
        return std::nullopt;
    }
    if (e.type == OrcEntry::Type::Undefined) {
        stopped = "ORC has no rule at " + hex(s.ip);
        return std::nullopt;
    }
    auto reg = [&](const char* name, std::uint64_t& v) {
        auto it = s.regs.find(name);
        if (it == s.regs.end()) return false;
        v = it->second;
        return true;
    };
    auto fail = [&](const std::string& why) -> std::optional<OrcState> {
        stopped = "ORC at " + hex(s.ip) + ": " + why;
        return std::nullopt;
    };
    // The previous frame's stack pointer (its CFA).
    std::uint64_t sp = 0;
    bool indirect = false;
    switch (e.sp_reg) {
        case kRegSp: sp = s.sp + static_cast<std::uint64_t>(std::int64_t{e.sp_offset}); break;
        case kRegBp: sp = s.bp + static_cast<std::uint64_t>(std::int64_t{e.sp_offset}); break;
        case kRegSpIndirect: sp = s.sp; indirect = true; break;
        case kRegBpIndirect:
            sp = s.bp + static_cast<std::uint64_t>(std::int64_t{e.sp_offset});
            indirect = true;
            break;
        case kRegR10: if (!reg("r10", sp)) return fail("needs r10, not saved here"); break;
        case kRegR13: if (!reg("r13", sp)) return fail("needs r13, not saved here"); break;
        case kRegDi: if (!reg("rdi", sp)) return fail("needs rdi, not saved here"); break;
        case kRegDx: if (!reg("rdx", sp)) return fail("needs rdx, not saved here"); break;
        default: return fail("unknown sp register " + std::to_string(e.sp_reg));
    }
    if (indirect) {
        if (!read(sp, sp)) return fail("the stack word at " + hex(sp) + " is not in the dump");
        if (e.sp_reg == kRegSpIndirect) sp += static_cast<std::uint64_t>(std::int64_t{e.sp_offset});
    }
    OrcState n;
    switch (e.type) {
        case OrcEntry::Type::Call:
            if (!read(sp - 8, n.ip)) return fail("the return address at " + hex(sp - 8) + " is not in the dump");
            n.sp = sp;
            break;
        case OrcEntry::Type::Regs:
            for (std::size_t i = 0; i < std::size(kPtRegs); ++i) {
                std::uint64_t v = 0;
                if (!read(sp + 8 * i, v)) return fail("the saved registers at " + hex(sp) + " are not in the dump");
                n.regs[kPtRegs[i]] = v;
            }
            n.ip = n.regs["rip"];
            n.sp = n.regs["rsp"];
            n.signal = true;
            break;
        case OrcEntry::Type::RegsPartial:
            n.regs = s.regs;  // the rest of an earlier full pt_regs, as prev_regs
            for (std::size_t i = kIpSlot; i < std::size(kPtRegs); ++i) {
                std::uint64_t v = 0;
                if (!read(sp + 8 * (i - kIpSlot), v)) return fail("the IRET frame at " + hex(sp) + " is not in the dump");
                n.regs[kPtRegs[i]] = v;
            }
            n.ip = n.regs["rip"];
            n.sp = n.regs["rsp"];
            n.signal = true;
            break;
        default: return fail("unexpected entry type");
    }
    if (n.signal) n.user = (n.regs["cs"] & 3) != 0;
    switch (e.bp_reg) {
        case kRegUndefined: {
            auto it = n.regs.find("rbp");
            n.bp = e.type != OrcEntry::Type::Call && it != n.regs.end() ? it->second : s.bp;
            break;
        }
        case kRegPrevSp:
            if (!read(sp + static_cast<std::uint64_t>(std::int64_t{e.bp_offset}), n.bp))
                return fail("the saved frame pointer is not in the dump");
            break;
        case kRegBp:
            if (!read(s.bp + static_cast<std::uint64_t>(std::int64_t{e.bp_offset}), n.bp))
                return fail("the saved frame pointer is not in the dump");
            break;
        default: n.bp = s.bp; break;
    }
    return n;
}

}  // namespace kaddr
