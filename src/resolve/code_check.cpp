#include "kaddr/code_check.h"

#include <elf.h>

#include <algorithm>
#include <variant>

#include "kaddr/code_disasm.h"
#include "kaddr/oops_explain.h"
#include "kaddr/snapshot.h"
#include "patch_sites.h"

namespace kaddr {

namespace {

// Where the pc's bytes are in a file.
struct FilePlace {
    const ElfFile* file = nullptr;
    std::optional<std::string> module;
    std::size_t section = 0;
    std::uint64_t offset = 0;
};

CodeCheck not_checked(CodeSkip why, std::string detail) {
    CodeCheck c;
    c.skip = why;
    c.detail = std::move(detail);
    return c;
}

// A module's function by its printed name; the printed /size picks among
// same-named statics.
std::optional<FilePlace> module_symbol_place(const Module& m, const SymbolRef& ref) {
    std::optional<ElfSymbol> best;
    for (const auto& s : m.ko->symbols()) {
        if (s.name != ref.name || s.section == 0 || s.section >= m.ko->sections().size()) continue;
        if (!best || (ref.size && s.size == *ref.size && best->size != *ref.size)) best = s;
    }
    if (!best) return std::nullopt;
    return FilePlace{m.ko.get(), m.name, best->section, best->value + ref.offset};
}

// Why a place could not be found is the CodeCheck returned instead.
std::variant<FilePlace, CodeCheck> module_place(const Module& m, const CodePc& pc) {
    if (!m.ko)
        return not_checked(CodeSkip::NoFile, "no .ko for module " + m.name + " (give it with --modules or --ko)");
    if (pc.address)
        if (const PlacedSection* ps = m.section_at(*pc.address); ps && ps->elf_index)
            return FilePlace{m.ko.get(), m.name, ps->elf_index, *pc.address - ps->addr};
    if (pc.symbol)
        if (auto p = module_symbol_place(m, *pc.symbol)) return *p;
    return not_checked(CodeSkip::PcUnknown, "the pc's place in " + m.ko->path() + " is unknown");
}

std::variant<FilePlace, CodeCheck> core_place(const Snapshot& snap, const CodePc& pc) {
    const ElfFile* v = snap.core.vmlinux.get();
    if (!v) return not_checked(CodeSkip::NoFile, "no vmlinux (give the debug vmlinux with --vmlinux or --debug-root)");
    if (!pc.address) return not_checked(CodeSkip::PcUnknown, "the pc's address is unknown");
    // A raw runtime address needs the KASLR offset; one found from the
    // printed symbol is already consistent with the snapshot's symbols.
    const bool kaslr_arch = snap.arch == Arch::X86_64 || snap.arch == Arch::Arm64;
    if (!pc.address_from_symbol && kaslr_arch && !snap.core.kaslr_offset)
        return not_checked(CodeSkip::PcUnknown, "the KASLR offset is unknown: the pc's link-time address is not known");
    const std::uint64_t link = snap.to_link(*pc.address);
    for (const auto& s : v->sections())
        if ((s.flags & SHF_ALLOC) && s.type == SHT_PROGBITS && s.addr && link >= s.addr && link < s.addr + s.size)
            return FilePlace{v, std::nullopt, s.index, link - s.addr};
    return not_checked(CodeSkip::NoFileBytes, "pc " + hex(link) + " (link time) is in no section of " + v->path());
}

// The report's bytes against the file's, outside the masked ranges.
void compare_bytes(CodeCheck& c, const CodeBytes& code, std::string_view text, std::int64_t start,
                   const std::vector<PatchRange>& ranges) {
    c.compared = c.masked = c.outside = c.differing = 0;
    c.masked_by = {};
    c.first_difference.reset();
    for (std::size_t i = 0; i < code.bytes.size(); ++i) {
        const std::int64_t at = start + static_cast<std::int64_t>(i);
        if (at < 0 || static_cast<std::uint64_t>(at) >= text.size()) {
            ++c.outside;
            continue;
        }
        const auto u = static_cast<std::uint64_t>(at);
        auto r = std::find_if(ranges.begin(), ranges.end(), [&](const PatchRange& pr) { return u >= pr.begin && u < pr.end; });
        if (r != ranges.end()) {
            ++c.masked;
            ++c.masked_by[static_cast<std::size_t>(r->kind)];
            continue;
        }
        ++c.compared;
        const auto fb = static_cast<std::uint8_t>(text[u]);
        if (fb != code.bytes[i]) {
            if (!c.first_difference) {
                c.first_difference = static_cast<std::int64_t>(i) - static_cast<std::int64_t>(code.fault_offset);
                c.reported_byte = code.bytes[i];
                c.file_byte = fb;
            }
            ++c.differing;
        }
    }
}

// The link-time range of a linked image's allocated sections.
std::pair<std::uint64_t, std::uint64_t> image_extent(const ElfFile& f) {
    std::uint64_t lo = ~std::uint64_t{0}, hi = 0;
    for (const auto& s : f.sections())
        if ((s.flags & SHF_ALLOC) && s.addr && s.size) {
            lo = std::min(lo, s.addr);
            hi = std::max(hi, s.addr + s.size);
        }
    return {lo, hi};
}

// x86_64 KASLR moves the image by a multiple of CONFIG_PHYSICAL_ALIGN (2 MiB
// at least): every absolute address of the image the code holds moves by
// one offset, and every %rip-relative reference to what does not move with
// the code (the zero-based per-cpu area) by another. A -dbg vmlinux linked
// without --emit-relocs (Debian's 6.12) says nowhere which bytes those
// are, and its bytes are not even the link-time values (its absolute
// addresses sit 16 MiB below the symbols they name): so the instructions
// decide. A 32- or 64-bit displacement or immediate that holds an address
// of the image, or a %rip-relative displacement whose target lies outside
// the image, and that the report shows moved, is such a relocation when
// every field of its class moved by the same multiple of 2 MiB. A field
// the Code: line cuts (its first bytes before the line starts) is one when
// its visible bytes are those of the same move. `text` is the section's
// bytes, `lo`..`hi` the window the Code: line covers (section offsets,
// `start` where the line begins), `pc` the faulting instruction's offset.
std::vector<PatchRange> kaslr_fields(const ElfFile& f, const ElfSection& sec, std::string_view text, std::uint64_t lo,
                                     std::uint64_t hi, std::uint64_t pc, const std::vector<std::uint8_t>& reported,
                                     std::int64_t start) {
    constexpr std::int64_t kAlign = 0x200000;
    constexpr std::uint64_t kLongest = 15;  // the longest x86 instruction: one cut by the window starts this far back
    const auto [img_lo, img_hi] = image_extent(f);
    const std::uint64_t from = lo > kLongest ? lo - kLongest : 0;
    const auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(text.data()) + from, hi - from);
    struct Field {
        std::uint64_t at;  // section offset
        std::size_t size;
        std::uint64_t file_v;
        int cls;  // 0: an absolute address of the image, 1: %rip-relative to what the code moves away from
    };
    std::vector<Field> fields;
    auto le = [](auto get, std::size_t n) {
        std::uint64_t v = 0;
        for (std::size_t k = 0; k < n; ++k) v |= std::uint64_t{get(k)} << (8 * k);
        return n == 4 ? static_cast<std::uint64_t>(std::int64_t{static_cast<std::int32_t>(v)}) : v;  // sign-extended
    };
    for (const auto& insn : decode_fields(Arch::X86_64, bytes, 0, pc - from))
        for (const auto& fld : insn.fields) {
            if (fld.size != 4 && fld.size != 8) continue;
            const std::uint64_t at = from + insn.offset + fld.offset;
            const std::uint64_t v = le([&](std::size_t k) { return bytes[insn.offset + fld.offset + k]; }, fld.size);
            const std::uint64_t next_ip = sec.addr + from + insn.offset + insn.size;
            using K = OperandField::Kind;
            if (fld.kind == K::Value && v >= img_lo && v < img_hi) fields.push_back({at, fld.size, v, 0});
            else if (fld.kind == K::RipRelative && fld.size == 4 && !(next_ip + v >= img_lo && next_ip + v < img_hi))
                fields.push_back({at, fld.size, v, 1});
        }
    // Each class's offset, from the fields the line shows whole.
    std::optional<std::int64_t> delta[2];
    for (const Field& fl : fields) {
        const std::int64_t in_report = static_cast<std::int64_t>(fl.at) - start;
        if (in_report < 0 || static_cast<std::size_t>(in_report) + fl.size > reported.size()) continue;
        const std::uint64_t rep = le([&](std::size_t k) { return reported[static_cast<std::size_t>(in_report) + k]; }, fl.size);
        if (rep == fl.file_v) continue;
        const auto d = static_cast<std::int64_t>(rep - fl.file_v);
        if (d % kAlign != 0 || (delta[fl.cls] && *delta[fl.cls] != d)) return {};
        delta[fl.cls] = d;
    }
    std::vector<PatchRange> out;
    for (const Field& fl : fields) {
        if (!delta[fl.cls]) continue;
        const std::uint64_t moved = fl.file_v + static_cast<std::uint64_t>(*delta[fl.cls]);
        bool same = true, seen = false;
        for (std::uint64_t a = fl.at; a < fl.at + fl.size; ++a) {
            const std::int64_t i = static_cast<std::int64_t>(a) - start;
            if (i < 0 || static_cast<std::size_t>(i) >= reported.size()) continue;
            seen = true;
            same = same && static_cast<std::uint8_t>(moved >> (8 * (a - fl.at))) == reported[static_cast<std::size_t>(i)];
        }
        if (seen && same) out.push_back({fl.at, fl.at + fl.size, PatchKind::Relocation});
    }
    return out;
}

}  // namespace

std::string_view code_verdict_name(CodeVerdict v) {
    switch (v) {
        case CodeVerdict::Match: return "match";
        case CodeVerdict::Mismatch: return "mismatch";
        case CodeVerdict::NotChecked: return "not-checked";
    }
    return "?";
}

std::string_view code_skip_name(CodeSkip s) {
    static constexpr std::string_view names[] = {"none", "no-code-line", "code-unusable", "no-pc", "user-pc",
                                                 "pc-unknown", "no-file", "no-file-bytes", "too-few-bytes"};
    return names[static_cast<std::size_t>(s)];
}

std::string CodeCheck::advice() const {
    if (verdict != CodeVerdict::Mismatch) return {};
    const std::string what = module ? "module " + *module : std::string("the kernel");
    return "the Code: bytes differ from " + file + ": it is not the build of " + what +
           " that crashed, and every answer drawn from it may be wrong; use the debug files of the exact "
           "release and build (e.g. the distribution's -dbg package of the version in the report's "
           "`CPU: ... #1 Debian 6.1.x` line, or a debuginfod server with the report's build-id)";
}

bool CodeCheck::covers(const Resolution& r) const {
    if (file.empty() || !r.resolved()) return false;
    return module ? (r.module && *r.module == *module) : !r.module.has_value();
}

CodeCheck check_code(const Snapshot& snap, std::string_view code_text, const CodePc& pc) {
    const CodeBytes code = parse_code_bytes(code_text, snap.arch);
    if (!code.ok()) {
        CodeCheck c = not_checked(code.error == CodeParseError::Empty ? CodeSkip::NoCodeLine : CodeSkip::CodeUnusable,
                                  std::string(code_parse_error_name(code.error)) + (code.detail.empty() ? "" : ": " + code.detail));
        c.code_error = code.error;
        return c;
    }
    if (pc.user) return not_checked(CodeSkip::UserPc, "the pc is in user space");
    const Module* m = nullptr;
    if (pc.symbol && !pc.symbol->module.empty()) {
        m = snap.module_named(pc.symbol->module);
        if (!m) return not_checked(CodeSkip::NoFile, "module " + pc.symbol->module + " is not in the snapshot");
    } else if (pc.address) {
        m = snap.module_at(*pc.address);
    }
    auto where = m ? module_place(*m, pc) : core_place(snap, pc);
    if (auto* c = std::get_if<CodeCheck>(&where)) return std::move(*c);
    const FilePlace& p = std::get<FilePlace>(where);

    CodeCheck c;
    c.file = p.file->path();
    c.module = p.module;
    const ElfSection& sec = p.file->sections()[p.section];
    c.section = sec.name;
    c.section_offset = p.offset;
    c.pc = pc.address;
    c.reported = code.bytes.size();
    const Arch file_arch = arch_from_elf_machine(p.file->machine());
    if (file_arch != code.arch) {
        c.verdict = CodeVerdict::Mismatch;
        c.detail = "the Code: line is " + std::string(arch_name(code.arch)) + " code, " + c.file + " is " +
                   std::string(arch_name(file_arch));
        return c;
    }
    const std::string_view text = p.file->section_bytes(p.section);
    // Window of the Code: bytes in section offsets: [start, start + n).
    const std::int64_t start = static_cast<std::int64_t>(p.offset) - static_cast<std::int64_t>(code.fault_offset);
    const std::uint64_t lo = static_cast<std::uint64_t>(std::max<std::int64_t>(start, 0));
    const std::uint64_t hi = std::min<std::uint64_t>(text.size(), static_cast<std::uint64_t>(std::max<std::int64_t>(start + code.bytes.size(), 0)));
    PatchScan scan = patch_ranges(*p.file, file_arch, p.section, lo, hi, snap.version.major, snap.version.minor);
    c.notes = std::move(scan.notes);
    compare_bytes(c, code, text, start, scan.ranges);
    if (c.differing && p.file->type() != ET_REL && file_arch == Arch::X86_64) {
        const auto moved = kaslr_fields(*p.file, sec, text, lo, hi, p.offset, code.bytes, start);
        if (!moved.empty()) {
            scan.ranges.insert(scan.ranges.end(), moved.begin(), moved.end());
            compare_bytes(c, code, text, start, scan.ranges);
        }
    }
    if (c.differing) {
        c.verdict = CodeVerdict::Mismatch;
        c.detail = std::to_string(c.differing) + " of " + std::to_string(c.compared) + " compared bytes differ";
    } else if (c.compared < CodeCheck::kMinCompared) {
        c.skip = CodeSkip::TooFewBytes;
        c.detail = "only " + std::to_string(c.compared) + " bytes outside patch sites";
    } else {
        c.verdict = CodeVerdict::Match;
    }
    return c;
}

std::optional<CodePc> code_pc(const ExplainedReport& e) {
    const auto& lines = e.report.lines;
    std::size_t code_line = lines.size();
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (trim(lines[i].text).starts_with("Code:")) {
            code_line = i;
            break;
        }
    const ExplainedFrame *pcf = nullptr, *prev = nullptr;
    for (const auto& f : e.frames)
        if (f.frame.kind == FrameKind::Pc && f.frame.line < code_line) {
            prev = pcf;
            pcf = &f;
        }
    if (!pcf) return std::nullopt;
    CodePc pc;
    pc.user = pcf->frame.user;
    pc.symbol = pcf->frame.symbol;
    // 32-bit ARM prints the pc twice: `PC is at func+off/size [mod]`, then
    // `pc : [<addr>]` a few lines later. Both describe the same instruction.
    if (!pc.symbol && prev && !prev->frame.user && pcf->frame.line - prev->frame.line <= 3) pc.symbol = prev->frame.symbol;
    pc.address = pcf->resolution.address ? pcf->resolution.address : pcf->frame.address;
    pc.address_from_symbol = pcf->frame.symbol && pcf->resolution.address && !pcf->resolution.error;
    return pc;
}

CodeCheck check_report_code(const Snapshot& snap, const ExplainedReport& e) {
    if (e.report.code.empty()) return not_checked(CodeSkip::NoCodeLine, "the report has no Code: line");
    auto pc = code_pc(e);
    if (!pc) return not_checked(CodeSkip::NoPc, "no pc line precedes the Code: line");
    return check_code(snap, e.report.code, *pc);
}

}  // namespace kaddr
