#include "kaddr/code_disasm.h"

#include <capstone/capstone.h>

#include "kaddr/code_check.h"
#include "kaddr/lazy_library.h"
#include "kaddr/oops_explain.h"
#include "kaddr/snapshot.h"

namespace kaddr {

namespace {

// Capstone, opened on the first disassembly (see lazy_library.h).
struct Capstone {
    LazyLibrary lib{"libcapstone.so.4", "libcapstone4"};
    decltype(&cs_open) open = lib.function<decltype(&cs_open)>("cs_open");
    decltype(&cs_option) option = lib.function<decltype(&cs_option)>("cs_option");
    decltype(&cs_malloc) malloc = lib.function<decltype(&cs_malloc)>("cs_malloc");
    decltype(&cs_free) free = lib.function<decltype(&cs_free)>("cs_free");
    decltype(&cs_close) close = lib.function<decltype(&cs_close)>("cs_close");
    decltype(&cs_disasm_iter) disasm_iter = lib.function<decltype(&cs_disasm_iter)>("cs_disasm_iter");
    bool usable() const { return open && option && malloc && free && close && disasm_iter; }
};

Capstone& capstone() {
    static Capstone c;  // thread-safe initialisation
    return c;
}

// One Capstone handle for the duration of a listing.
class Disassembler {
public:
    Disassembler(Arch arch, bool thumb, bool detail = false) : cs_(capstone()) {
        if (!cs_.usable()) return;
        cs_arch a = CS_ARCH_X86;
        cs_mode m = CS_MODE_64;
        switch (arch) {
            case Arch::X86_64: break;
            case Arch::Arm64: a = CS_ARCH_ARM64; m = CS_MODE_LITTLE_ENDIAN; break;
            case Arch::Arm: a = CS_ARCH_ARM; m = thumb ? CS_MODE_THUMB : CS_MODE_ARM; break;
            case Arch::Unknown: return;
        }
        if (cs_.open(a, m, &handle_) != CS_ERR_OK) handle_ = 0;
        // AT&T, as objdump and the kernel's decodecode print x86.
        if (handle_ && arch == Arch::X86_64) cs_.option(handle_, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
        if (handle_ && detail) cs_.option(handle_, CS_OPT_DETAIL, CS_OPT_ON);
        if (handle_) insn_ = cs_.malloc(handle_);
    }
    ~Disassembler() {
        if (insn_) cs_.free(insn_, 1);
        if (handle_) cs_.close(&handle_);
    }
    Disassembler(const Disassembler&) = delete;
    Disassembler& operator=(const Disassembler&) = delete;
    bool ok() const { return insn_ != nullptr; }

    // Decodes one instruction at `bytes`; nullptr when none decodes.
    const cs_insn* one(std::span<const std::uint8_t> bytes, std::uint64_t address) {
        const std::uint8_t* p = bytes.data();
        std::size_t n = bytes.size();
        std::uint64_t a = address;
        return cs_.disasm_iter(handle_, &p, &n, &a, insn_) ? insn_ : nullptr;
    }

private:
    Capstone& cs_;
    csh handle_ = 0;
    cs_insn* insn_ = nullptr;
};

// Fixed-width encodings step over what does not decode; x86 and Thumb
// cannot (the next instruction boundary is unknown).
bool fixed_width(const CodeBytes& c) { return c.arch == Arch::Arm64 || (c.arch == Arch::Arm && !c.thumb); }

// True when decoding from `start` meets the faulting instruction's first byte.
bool lands_on_fault(Disassembler& d, const CodeBytes& c, std::size_t start) {
    std::size_t pos = start;
    while (pos < c.fault_offset) {
        const cs_insn* i = d.one(std::span(c.bytes).subspan(pos), pos);
        if (!i) return false;
        pos += i->size;
    }
    return pos == c.fault_offset;
}

}  // namespace

std::optional<std::size_t> instruction_length(Arch arch, bool thumb, std::span<const std::uint8_t> bytes) {
    Disassembler d(arch, thumb);
    if (!d.ok()) return std::nullopt;
    const cs_insn* i = d.one(bytes, 0);
    return i ? std::optional<std::size_t>(i->size) : std::nullopt;
}

std::vector<DecodedInstruction> decode_fields(Arch arch, std::span<const std::uint8_t> bytes, std::size_t at,
                                              std::size_t pc) {
    std::vector<DecodedInstruction> out;
    if (arch != Arch::X86_64 || pc > bytes.size()) return out;
    Disassembler d(arch, false, true);
    if (!d.ok()) return out;
    // The first start from which decoding meets the pc exactly.
    std::size_t start = pc;
    for (std::size_t s = at; s < pc; ++s) {
        std::size_t pos = s;
        while (pos < pc) {
            const cs_insn* i = d.one(bytes.subspan(pos), pos);
            if (!i) break;
            pos += i->size;
        }
        if (pos == pc) {
            start = s;
            break;
        }
    }
    for (std::size_t pos = start; pos < bytes.size();) {
        const cs_insn* i = d.one(bytes.subspan(pos), pos);
        if (!i || !i->detail) break;
        DecodedInstruction di{pos, i->size, {}};
        const cs_x86& x = i->detail->x86;
        bool branch = false, rip_relative = false;
        for (std::uint8_t g = 0; g < i->detail->groups_count; ++g)
            branch = branch || i->detail->groups[g] == CS_GRP_JUMP || i->detail->groups[g] == CS_GRP_CALL;
        for (std::uint8_t o = 0; o < x.op_count; ++o)
            rip_relative = rip_relative || (x.operands[o].type == X86_OP_MEM && x.operands[o].mem.base == X86_REG_RIP);
        using K = OperandField::Kind;
        if (x.encoding.disp_offset && x.encoding.disp_size)
            di.fields.push_back({x.encoding.disp_offset, x.encoding.disp_size, rip_relative ? K::RipRelative : K::Value});
        if (x.encoding.imm_offset && x.encoding.imm_size)
            di.fields.push_back({x.encoding.imm_offset, x.encoding.imm_size, branch ? K::BranchTarget : K::Value});
        out.push_back(std::move(di));
        pos += i->size;
    }
    return out;
}

CodeListing disassemble_code(const CodeBytes& code, std::optional<std::uint64_t> pc) {
    CodeListing out;
    out.arch = code.arch;
    out.thumb = code.thumb;
    out.error = code.error;
    out.detail = code.detail;
    if (!code.ok()) return out;
    Disassembler d(code.arch, code.thumb);
    if (!d.ok()) {
        out.error = CodeParseError::ArchUnknown;
        out.detail = "Capstone cannot disassemble " + std::string(arch_name(code.arch));
        return out;
    }
    const unsigned step = fixed_width(code) ? code.unit : (code.thumb ? 2u : 1u);
    std::size_t start = code.fault_offset;
    for (std::size_t s = 0; s < code.fault_offset; s += step)
        if (fixed_width(code) || lands_on_fault(d, code, s)) {
            start = s;
            break;
        }
    out.skipped = start;
    const std::uint64_t base = pc.value_or(0) - code.fault_offset;
    for (std::size_t pos = start; pos < code.bytes.size();) {
        auto rest = std::span(code.bytes).subspan(pos);
        CodeInstruction ci;
        ci.offset = static_cast<std::int64_t>(pos) - static_cast<std::int64_t>(code.fault_offset);
        if (pc) ci.address = base + pos;
        ci.faulting = pos == code.fault_offset;
        if (const cs_insn* i = d.one(rest, base + pos)) {
            ci.bytes.assign(i->bytes, i->bytes + i->size);
            ci.mnemonic = i->mnemonic;
            ci.operands = i->op_str;
        } else {
            // Undecodable: one unit on fixed-width encodings, else the rest
            // (typically an instruction cut off by the end of the line).
            const std::size_t n = fixed_width(code) ? std::min<std::size_t>(code.unit, rest.size()) : rest.size();
            ci.bytes.assign(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(n));
            ci.decoded = false;
        }
        pos += ci.bytes.size();
        out.instructions.push_back(std::move(ci));
    }
    return out;
}

void add_source_lines(CodeListing& listing, const Snapshot& snap) {
    for (auto& ci : listing.instructions) {
        if (!ci.address || !ci.decoded) continue;
        if (snap.in_core(*ci.address)) {
            if (LocationSource* d = snap.core_dwarf()) ci.source = d->locate(snap.to_link(*ci.address));
        } else if (const Module* m = snap.module_at(*ci.address)) {
            if (LocationSource* d = snap.module_dwarf(*m)) ci.source = d->locate(*ci.address);
        }
    }
}

CodeListing disassemble_report_code(const Snapshot& snap, const ExplainedReport& e) {
    const CodeBytes code = parse_code_bytes(e.report.code, snap.arch);
    const auto pc = code_pc(e);
    CodeListing l = disassemble_code(code, pc ? pc->address : std::nullopt);
    if (pc && !pc->user) add_source_lines(l, snap);
    return l;
}

}  // namespace kaddr
