// Mirrors kernel/module/main.c layout_sections() and module_get_offset()
// (6.1 era: one core and one init allocation, passes by flag mask, each pass
// page-aligned under STRICT_MODULE_RWX) and the 6.4+ era (one allocation per
// memory type: only the text allocation's base is in /proc/modules).
#include "kaddr/module_layout.h"

#include <gelf.h>

#include <algorithm>
#include <cstring>
#include <tuple>

#include "kaddr/error.h"

namespace kaddr {

std::string_view placement_name(Placement p) {
    switch (p) {
        case Placement::Exact: return "exact";
        case Placement::Reconstructed: return "reconstructed";
        case Placement::Relative: return "section-relative";
        default: return "undetermined";
    }
}

namespace {

constexpr std::uint64_t kShfRoAfterInit = 0x00200000;  // SHF_RO_AFTER_INIT, set by the loader

std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return a > 1 ? (v + a - 1) / a * a : v; }


}  // namespace

bool is_init_section(const std::string& name, Arch arch);

namespace {

struct WorkSection {
    PlacedSection placed;
    std::uint64_t flags = 0, align = 1;
};

// arm64 module_frob_arch_sections()/count_plts(): one PLT slot per distinct
// (type, symbol, addend) branch relocation to a symbol in another section.
// A relocation section of a module and the symbol table it refers to.
struct Relocations {
    Elf_Data* data = nullptr;
    Elf_Data* symbols = nullptr;
    std::size_t count = 0;
};

Relocations relocations(const ElfFile& ko, std::size_t relsec) {
    Relocations r;
    Elf_Scn* scn = elf_getscn(ko.elf(), relsec);
    GElf_Shdr sh;
    if (!scn || !gelf_getshdr(scn, &sh) || !sh.sh_entsize) return r;
    for (const auto& s : ko.sections())
        if (s.type == SHT_SYMTAB) r.symbols = elf_getdata(elf_getscn(ko.elf(), s.index), nullptr);
    r.data = elf_getdata(scn, nullptr);
    if (r.data && r.symbols) r.count = sh.sh_size / sh.sh_entsize;
    return r;
}

std::uint64_t count_plts_arm64(const ElfFile& ko, std::size_t relsec, std::size_t target) {
    const Relocations rel = relocations(ko, relsec);
    struct Key {
        std::uint64_t type, sym;
        std::int64_t addend;
        bool operator<(const Key& o) const {
            return std::tie(type, sym, addend) < std::tie(o.type, o.sym, o.addend);
        }
        bool operator==(const Key& o) const { return type == o.type && sym == o.sym && addend == o.addend; }
    };
    std::vector<Key> keys;
    std::uint64_t nonzero = 0;
    for (std::size_t i = 0; i < rel.count; ++i) {
        GElf_Rela r;
        if (!gelf_getrela(rel.data, static_cast<int>(i), &r)) continue;
        auto type = GELF_R_TYPE(r.r_info);
        if (type != 282 /*R_AARCH64_JUMP26*/ && type != 283 /*R_AARCH64_CALL26*/) continue;
        GElf_Sym sym;
        if (!gelf_getsym(rel.symbols, static_cast<int>(GELF_R_SYM(r.r_info)), &sym)) continue;
        if (sym.st_shndx == target) continue;
        if (r.r_addend != 0) ++nonzero;
        else keys.push_back({type, GELF_R_SYM(r.r_info), 0});
    }
    std::sort(keys.begin(), keys.end());
    return nonzero + static_cast<std::uint64_t>(std::unique(keys.begin(), keys.end()) - keys.begin());
}

// 32-bit ARM: the addend is in the instruction; only `-8` (zero addend)
// branches are deduplicated.
std::uint64_t count_plts_arm(const ElfFile& ko, std::size_t relsec, std::size_t target) {
    const Relocations rel = relocations(ko, relsec);
    Elf_Data* code = elf_getdata(elf_getscn(ko.elf(), target), nullptr);
    if (!code) return 0;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> keys;
    std::uint64_t other = 0;
    for (std::size_t i = 0; i < rel.count; ++i) {
        GElf_Rel r;
        if (!gelf_getrel(rel.data, static_cast<int>(i), &r)) continue;
        auto type = GELF_R_TYPE(r.r_info);
        // R_ARM_PC24, R_ARM_CALL, R_ARM_JUMP24, R_ARM_THM_CALL, R_ARM_THM_JUMP24
        if (type != 1 && type != 28 && type != 29 && type != 10 && type != 30) continue;
        GElf_Sym sym;
        if (!gelf_getsym(rel.symbols, static_cast<int>(GELF_R_SYM(r.r_info)), &sym)) continue;
        if (sym.st_shndx == target) continue;
        bool zero_addend = false;
        if (code->d_buf && r.r_offset + 4 <= code->d_size) {
            std::uint32_t insn;
            std::memcpy(&insn, static_cast<char*>(code->d_buf) + r.r_offset, 4);
            if (type == 10 || type == 30) {  // Thumb: two halfwords, offset -4
                std::uint16_t upper = insn & 0xffff, lower = insn >> 16;
                zero_addend = (upper & 0x7ff) == 0x7ff && (lower & 0x2fff) == 0x2ffe;
            } else {
                zero_addend = (insn & 0x00ffffff) == 0x00fffffe;
            }
        }
        if (zero_addend) keys.emplace_back(type, GELF_R_SYM(r.r_info));
        else ++other;
    }
    std::sort(keys.begin(), keys.end());
    return other + static_cast<std::uint64_t>(std::unique(keys.begin(), keys.end()) - keys.begin());
}

// The section headers as the loader sees them after its own rewrites.
std::vector<WorkSection> loader_view(const ElfFile& ko, const LayoutRules& rules) {
    const auto& secs = ko.sections();
    std::vector<WorkSection> out;
    out.reserve(secs.size());
    std::uint64_t core_plts = 0, init_plts = 0;
    const bool has_plts = rules.arch == Arch::Arm64 || rules.arch == Arch::Arm;
    if (has_plts) {
        for (const auto& s : secs) {
            bool rela = rules.arch == Arch::Arm64 ? s.type == SHT_RELA : s.type == SHT_REL;
            if (!rela || s.flags & SHF_ALLOC) continue;
            std::size_t target = 0;
            GElf_Shdr sh;
            gelf_getshdr(elf_getscn(ko.elf(), s.index), &sh);
            target = sh.sh_info;
            if (target >= secs.size() || !(secs[target].flags & SHF_EXECINSTR)) continue;
            if (rules.arch == Arch::Arm64 && !rules.randomize_base) continue;
            std::uint64_t n = rules.arch == Arch::Arm64 ? count_plts_arm64(ko, s.index, target)
                                                       : count_plts_arm(ko, s.index, target);
            (is_init_section(secs[target].name, rules.arch) ? init_plts : core_plts) += n;
        }
    }
    for (const auto& s : secs) {
        WorkSection w;
        w.placed.name = s.name;
        w.placed.elf_index = s.index;
        w.placed.size = s.size;
        w.flags = s.flags;
        w.align = s.align ? s.align : 1;
        // rewrite_section_headers(): version and modinfo are not loaded;
        // layout_and_allocate(): per-cpu data gets its own percpu allocation.
        if (s.name == "__versions" || s.name == ".modinfo" || s.name == ".data..percpu")
            w.flags &= ~static_cast<std::uint64_t>(SHF_ALLOC);
        // layout_and_allocate(): these become read-only after init.
        if (s.name == ".data..ro_after_init" || s.name == "__jump_table") w.flags |= kShfRoAfterInit;
        if (has_plts && (s.name == ".plt" || s.name == ".init.plt")) {
            std::uint64_t n = s.name == ".plt" ? core_plts : init_plts;
            w.flags = SHF_EXECINSTR | SHF_ALLOC;
            w.align = 64;  // L1_CACHE_BYTES
            w.placed.size = rules.arch == Arch::Arm64 ? (n + 1) * 12 : align_up(n * 8, 128);
        }
        if (rules.arch == Arch::Arm64 && s.name == ".text.ftrace_trampoline") {
            w.flags = SHF_EXECINSTR | SHF_ALLOC;
            w.align = 4;
            w.placed.size = 12;  // NR_FTRACE_PLTS (1) * sizeof(struct plt_entry)
        }
        w.placed.init = is_init_section(s.name, rules.arch);
        out.push_back(std::move(w));
    }
    return out;
}

}  // namespace

bool is_init_section(const std::string& name, Arch arch) {
    if (name.starts_with(".init")) return true;
    return arch == Arch::Arm && (name.starts_with(".ARM.extab.init") || name.starts_with(".ARM.exidx.init"));
}

std::vector<PlacedSection> loadable_sections(const ElfFile& ko, const LayoutRules& rules) {
    std::vector<PlacedSection> out;
    for (auto& w : loader_view(ko, rules))
        if ((w.flags & SHF_ALLOC) && w.placed.size > 0) out.push_back(w.placed);
    return out;
}

std::vector<PlacedSection> relative_layout(const ElfFile& ko, const LayoutRules& rules) {
    // The kernel's own offsets (layout_sections()) from a private base, so
    // that each symbol's span is the size the kernel prints after the
    // slash; what that base does not place (init sections, from 6.4 the
    // data and rodata allocations) sits in an allocation of its own, far
    // from the others, at its offset there. Far from 0, so no section
    // starts at a null address.
    constexpr std::uint64_t kBase = 0x100000, kStride = 0x10000000;
    std::vector<PlacedSection> out = reconstruct_layout(ko, kBase, rules);
    for (auto& p : out) {
        if (p.placement == Placement::Undetermined)
            p.addr = kBase + (static_cast<std::uint64_t>(p.memory) + 1) * kStride + p.offset.value_or(0);
        p.placement = Placement::Relative;
        p.why.clear();
    }
    return out;
}

std::vector<PlacedSection> reconstruct_layout(const ElfFile& ko, std::uint64_t base, const LayoutRules& rules) {
    if (ko.type() != ET_REL)
        throw Error(ko.path(), "not a kernel module (ET_REL)", "give the .ko file, not an executable");
    auto work = loader_view(ko, rules);
    // The passes of layout_sections(): flags that must be set, flags that
    // must be clear, and the memory type each pass fills (6.4+
    // core_m_to_mem_type[]/init_m_to_mem_type[]; before 6.4 the passes
    // fill one core and one init allocation in this order). ARCH_SHF_SMALL
    // is 0 on the architectures kaddr knows.
    struct Pass {
        std::uint64_t set, clear;
        ModMemType core, init;
    };
    const Pass passes[] = {
        {SHF_EXECINSTR | SHF_ALLOC, 0, ModMemType::Text, ModMemType::InitText},
        {SHF_ALLOC, SHF_WRITE, ModMemType::Rodata, ModMemType::InitRodata},
        {kShfRoAfterInit | SHF_ALLOC, 0, ModMemType::RoAfterInit, ModMemType::InitData},
        {SHF_WRITE | SHF_ALLOC, 0, ModMemType::Data, ModMemType::InitData},
        {SHF_ALLOC, 0, ModMemType::Data, ModMemType::InitData},
    };
    const bool per_type = rules.era == ModuleMemoryEra::PerType;
    // Running sizes: per memory type from 6.4 (module_get_offset_and_type),
    // one for the core and one for the init allocation before
    // (module_get_offset, with strict_align() between the first passes).
    std::uint64_t size[kModMemTypes] = {};
    std::uint64_t core = 0, init = 0;
    std::vector<bool> done(work.size(), false);
    for (std::size_t m = 0; m < std::size(passes); ++m) {
        for (bool init_pass : {false, true})
            for (std::size_t i = 0; i < work.size(); ++i) {
                auto& w = work[i];
                if ((w.flags & passes[m].set) != passes[m].set || (w.flags & passes[m].clear) || done[i] ||
                    w.placed.init != init_pass)
                    continue;
                done[i] = true;
                w.placed.memory = init_pass ? passes[m].init : passes[m].core;
                std::uint64_t& running = per_type ? size[static_cast<int>(w.placed.memory)] : init_pass ? init : core;
                const std::uint64_t off = align_up(running, w.align);
                running = off + w.placed.size;
                w.placed.offset = off;
            }
        if (!per_type && m < 3) core = align_up(core, rules.page_size);  // strict_align() under STRICT_MODULE_RWX
    }
    std::vector<PlacedSection> out;
    for (auto& w : work) {
        if (!(w.flags & SHF_ALLOC) || w.placed.size == 0) continue;
        PlacedSection& p = w.placed;
        if (p.init) {
            p.placement = Placement::Undetermined;
            p.why = per_type ? "init section: in " + std::string(mod_mem_type_name(p.memory)) +
                                   ", which is not in /proc/modules and is freed after init"
                             : "init section: its allocation is not in /proc/modules and is freed after init";
        } else if (per_type && p.memory != ModMemType::Text) {
            p.placement = Placement::Undetermined;
            p.why = "in the " + std::string(mod_mem_type_name(p.memory)) +
                    " allocation, whose base is unknown: from 6.4 /proc/modules gives only the MOD_TEXT base "
                    "(give the sysfs sections, kallsyms or a dump)";
        } else if (p.offset) {
            p.addr = base + *p.offset;
            p.placement = Placement::Reconstructed;
        }
        out.push_back(std::move(p));
    }
    return out;
}

std::size_t place_allocation(std::vector<PlacedSection>& sections, ModMemType type, std::uint64_t base) {
    std::size_t n = 0;
    for (auto& s : sections)
        if (s.memory == type && s.offset) {
            s.addr = base + *s.offset;
            s.placement = Placement::Reconstructed;
            s.why.clear();
            ++n;
        }
    return n;
}

}  // namespace kaddr
