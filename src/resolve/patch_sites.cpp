#include "patch_sites.h"

#include <elf.h>
#include <gelf.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <optional>
#include <span>
#include <unordered_map>

#include "kaddr/code_disasm.h"

namespace kaddr {

namespace {

// ---- the tables the kernel patches its text from -------------------------

enum class Ptr { Rel32, Abs64, Abs32 };  // how an entry points at its site
enum class Len { Fixed, U8Field, Decoded };

struct SiteTable {
    Arch arch;
    PatchKind kind;
    const char* section;     // the .ko section, and vmlinux's when it has its own
    const char* start_sym;   // vmlinux bounds when the table sits inside .data/.rodata
    const char* stop_sym;
    unsigned entry;          // bytes per entry
    unsigned field;          // offset of the site pointer in the entry
    Ptr ptr;
    Len len;
    unsigned len_value;      // Fixed: bytes; U8Field: the length byte's offset; Decoded: fallback
    int since, until;        // releases as major*100+minor, [since, until)
};

constexpr int kAny = 0, kNever = 100000;

// Layouts from the kernel's own structs (struct alt_instr,
// paravirt_patch_site, jump_entry, static_call_site) per release.
constexpr SiteTable kTables[] = {
    // x86_64 alt_instr: s32 instr, s32 repl, u16 cpuid, u8 instrlen, u8 replen[, u8 padlen before 5.13];
    // 6.3 widened cpuid to u32 ft_flags.
    {Arch::X86_64, PatchKind::Alternative, ".altinstructions", "__alt_instructions", "__alt_instructions_end", 13, 0, Ptr::Rel32, Len::U8Field, 10, kAny, 513},
    {Arch::X86_64, PatchKind::Alternative, ".altinstructions", "__alt_instructions", "__alt_instructions_end", 12, 0, Ptr::Rel32, Len::U8Field, 10, 513, 603},
    {Arch::X86_64, PatchKind::Alternative, ".altinstructions", "__alt_instructions", "__alt_instructions_end", 14, 0, Ptr::Rel32, Len::U8Field, 12, 603, kNever},
    // paravirt_patch_site: u8 *instr, u8 type, u8 len (padded to 16); folded into alternatives in 6.8.
    {Arch::X86_64, PatchKind::Paravirt, ".parainstructions", "__parainstructions", "__parainstructions_end", 16, 0, Ptr::Abs64, Len::U8Field, 9, kAny, 608},
    {Arch::X86_64, PatchKind::ReturnThunk, ".return_sites", "__return_sites", "__return_sites_end", 4, 0, Ptr::Rel32, Len::Decoded, 5, kAny, kNever},
    {Arch::X86_64, PatchKind::Retpoline, ".retpoline_sites", "__retpoline_sites", "__retpoline_sites_end", 4, 0, Ptr::Rel32, Len::Decoded, 5, kAny, kNever},
    {Arch::X86_64, PatchKind::CallDepth, ".call_sites", "__call_sites", "__call_sites_end", 4, 0, Ptr::Rel32, Len::Decoded, 5, kAny, kNever},
    {Arch::X86_64, PatchKind::EndbrSeal, ".ibt_endbr_seal", "__ibt_endbr_seal", "__ibt_endbr_seal_end", 4, 0, Ptr::Rel32, Len::Fixed, 4, kAny, kNever},
    {Arch::X86_64, PatchKind::SmpLock, ".smp_locks", "__smp_locks", "__smp_locks_end", 4, 0, Ptr::Rel32, Len::Fixed, 1, kAny, kNever},
    // jump_entry: s32 code, s32 target, long key; a jmp or nop of 2 or 5 bytes.
    {Arch::X86_64, PatchKind::JumpLabel, "__jump_table", "__start___jump_table", "__stop___jump_table", 16, 0, Ptr::Rel32, Len::Decoded, 5, kAny, kNever},
    // static_call_site: s32 addr, s32 key; a 5-byte call or nop.
    {Arch::X86_64, PatchKind::StaticCall, ".static_call_sites", "__start_static_call_sites", "__stop_static_call_sites", 8, 0, Ptr::Rel32, Len::Decoded, 5, kAny, kNever},
    // __fentry__ calls, nopped by ftrace at boot.
    {Arch::X86_64, PatchKind::Ftrace, "__mcount_loc", "__start_mcount_loc", "__stop_mcount_loc", 8, 0, Ptr::Abs64, Len::Decoded, 5, kAny, kNever},

    // arm64 alt_instr: s32 orig, s32 alt, u16 cpufeature, u8 orig_len, u8 alt_len.
    {Arch::Arm64, PatchKind::Alternative, ".altinstructions", "__alt_instructions", "__alt_instructions_end", 12, 0, Ptr::Rel32, Len::U8Field, 10, kAny, kNever},
    {Arch::Arm64, PatchKind::JumpLabel, "__jump_table", "__start___jump_table", "__stop___jump_table", 16, 0, Ptr::Rel32, Len::Fixed, 4, kAny, kNever},
    // -fpatchable-function-entry=2: two nops ftrace rewrites (mov x9, x30; nop).
    {Arch::Arm64, PatchKind::Ftrace, "__patchable_function_entries", "__start_mcount_loc", "__stop_mcount_loc", 8, 0, Ptr::Abs64, Len::Fixed, 8, kAny, kNever},

    // 32-bit ARM: absolute jump entries (u32 code, u32 target, u32 key); bl __gnu_mcount_nc.
    {Arch::Arm, PatchKind::JumpLabel, "__jump_table", "__start___jump_table", "__stop___jump_table", 12, 0, Ptr::Abs32, Len::Fixed, 4, kAny, kNever},
    {Arch::Arm, PatchKind::Ftrace, "__mcount_loc", "__start_mcount_loc", "__stop_mcount_loc", 4, 0, Ptr::Abs32, Len::Fixed, 4, kAny, kNever},
    {Arch::Arm, PatchKind::SmpAlt, ".alt.smp.init", "__smpalt_begin", "__smpalt_end", 8, 0, Ptr::Rel32, Len::Fixed, 4, kAny, kNever},
};

// ---- relocations -----------------------------------------------------------

// What a relocation type does to the bytes it covers.
enum class RelClass { Absolute, PcRelative };
struct RelType {
    unsigned size;
    RelClass cls;
};

RelType rel_type(unsigned machine, unsigned type) {
    switch (machine) {
        case EM_X86_64:
            switch (type) {
                case R_X86_64_64: return {8, RelClass::Absolute};
                case R_X86_64_32: case R_X86_64_32S: return {4, RelClass::Absolute};
                case R_X86_64_16: return {2, RelClass::Absolute};
                case R_X86_64_8: return {1, RelClass::Absolute};
                case R_X86_64_PC64: return {8, RelClass::PcRelative};
                case R_X86_64_PC16: return {2, RelClass::PcRelative};
                case R_X86_64_PC8: return {1, RelClass::PcRelative};
                default: return {4, RelClass::PcRelative};  // PC32, PLT32, GOTPCREL(X)
            }
        case EM_AARCH64:
            switch (type) {
                case R_AARCH64_ABS64: case R_AARCH64_RELATIVE: return {8, RelClass::Absolute};
                case R_AARCH64_ABS32: return {4, RelClass::Absolute};
                case R_AARCH64_ABS16: return {2, RelClass::Absolute};
                case R_AARCH64_PREL64: return {8, RelClass::PcRelative};
                case R_AARCH64_PREL16: return {2, RelClass::PcRelative};
                default:
                    if (type >= R_AARCH64_MOVW_UABS_G0 && type <= R_AARCH64_MOVW_UABS_G3) return {4, RelClass::Absolute};
                    return {4, RelClass::PcRelative};  // instruction fields, PREL32
            }
        case EM_ARM:
            switch (type) {
                case R_ARM_ABS32: case R_ARM_RELATIVE: case R_ARM_MOVW_ABS_NC: case R_ARM_MOVT_ABS:
                case R_ARM_THM_MOVW_ABS_NC: case R_ARM_THM_MOVT_ABS: return {4, RelClass::Absolute};
                case R_ARM_THM_PC11: case R_ARM_THM_PC9:  // THM_JUMP11, THM_JUMP8 return {2, RelClass::PcRelative};
                default: return {4, RelClass::PcRelative};
            }
        default: return {4, RelClass::Absolute};
    }
}

struct Reloc {
    std::uint64_t where;   // r_offset: section offset (ET_REL) or address (linked image)
    unsigned type;
    std::size_t sym;
    std::int64_t addend;   // RELA's; for REL, read in place by the caller
    bool rela;
};

template <class F>
void for_each_reloc(const ElfFile& f, const ElfSection& rs, F&& fn) {
    Elf_Scn* scn = elf_getscn(f.elf(), rs.index);
    Elf_Data* d = scn ? elf_getdata(scn, nullptr) : nullptr;
    if (!d) return;
    const bool rela = rs.type == SHT_RELA;
    const std::size_t esz = gelf_fsize(f.elf(), rela ? ELF_T_RELA : ELF_T_REL, 1, EV_CURRENT);
    const std::size_t n = esz ? d->d_size / esz : 0;
    for (std::size_t i = 0; i < n; ++i) {
        Reloc r{};
        if (rela) {
            GElf_Rela x;
            if (!gelf_getrela(d, static_cast<int>(i), &x)) continue;
            r = {x.r_offset, static_cast<unsigned>(GELF_R_TYPE(x.r_info)), GELF_R_SYM(x.r_info), x.r_addend, true};
        } else {
            GElf_Rel x;
            if (!gelf_getrel(d, static_cast<int>(i), &x)) continue;
            r = {x.r_offset, static_cast<unsigned>(GELF_R_TYPE(x.r_info)), GELF_R_SYM(x.r_info), 0, false};
        }
        fn(r);
    }
}

// The symbol table a relocation section refers to (sh_link).
Elf_Data* symbols_of(const ElfFile& f, const ElfSection& rs) {
    GElf_Shdr sh;
    Elf_Scn* scn = elf_getscn(f.elf(), rs.index);
    if (!scn || !gelf_getshdr(scn, &sh)) return nullptr;
    return elf_getdata(elf_getscn(f.elf(), sh.sh_link), nullptr);
}

std::optional<GElf_Sym> symbol_at(Elf_Data* symtab, std::size_t i) {
    GElf_Sym s;
    if (!symtab || !gelf_getsym(symtab, static_cast<int>(i), &s)) return std::nullopt;
    return s;
}

std::uint64_t read_le(std::string_view bytes, std::uint64_t off, unsigned n) {
    std::uint64_t v = 0;
    if (off + n > bytes.size()) return 0;
    for (unsigned k = 0; k < n; ++k) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[off + k])) << (8 * k);
    return v;
}

bool linked(const ElfFile& f) { return f.type() != ET_REL; }

// Relocation sections applying to `section`: its own (.rela.text; in a
// linked image, kept by --emit-relocs) and, in a linked image, the
// dynamic ones (.rela.dyn, sh_info 0) that cover the whole image.
bool applies_to(const ElfFile& f, const ElfSection& rs, std::size_t section) {
    if (rs.type != SHT_RELA && rs.type != SHT_REL) return false;
    GElf_Shdr sh;
    if (!gelf_getshdr(elf_getscn(f.elf(), rs.index), &sh)) return false;
    return sh.sh_info == section || (linked(f) && sh.sh_info == 0 && (sh.sh_flags & SHF_ALLOC));
}

// Bytes the kernel's relocations change. In a module, every one (the
// loader applies them all). In a linked image only what KASLR moves:
// absolute addresses, dynamic relocations, and on x86_64 pc-relative
// references to the zero-based per-cpu area or absolute symbols.
std::vector<PatchRange> relocation_ranges(const ElfFile& f, Arch arch, std::size_t section) {
    std::vector<PatchRange> out;
    const ElfSection& sec = f.sections()[section];
    const std::uint64_t base = linked(f) ? sec.addr : 0;
    for (const auto& rs : f.sections()) {
        if (!applies_to(f, rs, section)) continue;
        GElf_Shdr sh;
        gelf_getshdr(elf_getscn(f.elf(), rs.index), &sh);
        const bool dynamic = linked(f) && sh.sh_info == 0;
        Elf_Data* symtab = symbols_of(f, rs);
        for_each_reloc(f, rs, [&](const Reloc& r) {
            if (r.where < base || r.where >= base + sec.size) return;
            const RelType t = rel_type(f.machine(), r.type);
            if (linked(f) && !dynamic && t.cls == RelClass::PcRelative) {
                if (arch != Arch::X86_64) return;
                auto s = symbol_at(symtab, r.sym);
                if (!s) return;
                const bool abs = s->st_shndx == SHN_ABS;
                const bool percpu = s->st_shndx < f.sections().size() && f.sections()[s->st_shndx].name == ".data..percpu";
                if (!abs && !percpu) return;
            }
            const std::uint64_t b = r.where - base;
            out.push_back({b, b + t.size, PatchKind::Relocation});
        });
    }
    std::sort(out.begin(), out.end(), [](const PatchRange& a, const PatchRange& b) { return a.begin < b.begin; });
    return out;
}

// ---- what is read once per file ---------------------------------------------

// vmlinux has ~380k text relocations and ~150k symbols: reading them for
// every report would cost tens of milliseconds each, so the table bounds
// and each section's relocation ranges are kept per file (keyed by path,
// size and mtime: the same key means the same bytes).
struct FileFacts {
    std::mutex lock;
    bool have_bounds = false;
    std::map<std::string, std::uint64_t, std::less<>> bounds;
    std::map<std::size_t, std::shared_ptr<const std::vector<PatchRange>>> relocs;  // by section
    std::map<std::tuple<std::size_t, Arch, int, int>, std::shared_ptr<const struct SiteIndex>> sites;
};

std::shared_ptr<FileFacts> facts_for(const ElfFile& f) {
    static std::mutex lock;
    static std::map<std::tuple<std::string, std::uint64_t, std::int64_t>, std::shared_ptr<FileFacts>> cache;
    std::lock_guard g(lock);
    auto& slot = cache[{f.path(), f.file_size(), f.mtime()}];
    if (!slot) slot = std::make_shared<FileFacts>();
    return slot;
}

// ---- site tables -------------------------------------------------------------

struct TableSpan {
    std::size_t section = 0;       // the section holding the table
    std::uint64_t begin = 0, end = 0;  // offsets in that section
};

// Values of the named symbols of a linked image's symbol table.
std::map<std::string, std::uint64_t, std::less<>> bound_symbols(const ElfFile& f, Arch arch) {
    std::map<std::string, std::uint64_t, std::less<>> want;
    for (const auto& t : kTables)
        if (t.arch == arch) {
            want.emplace(t.start_sym, 0);
            want.emplace(t.stop_sym, 0);
        }
    if (arch == Arch::X86_64) want.emplace("__fentry__", 0);  // ftrace's call at every function entry
    std::map<std::string, std::uint64_t, std::less<>> got;
    for (const auto& s : f.symbols())
        if (want.count(s.name)) got.emplace(std::string(s.name), s.value);
    return got;
}

std::optional<TableSpan> locate_table(const ElfFile& f, const SiteTable& t,
                                      const std::map<std::string, std::uint64_t, std::less<>>& bounds) {
    for (const auto& s : f.sections())
        if (s.name == t.section && s.type == SHT_PROGBITS) return TableSpan{s.index, 0, s.size};
    if (!linked(f)) return std::nullopt;
    auto a = bounds.find(t.start_sym), b = bounds.find(t.stop_sym);
    if (a == bounds.end() || b == bounds.end() || b->second < a->second) return std::nullopt;
    for (const auto& s : f.sections())
        if (s.type == SHT_PROGBITS && (s.flags & SHF_ALLOC) && a->second >= s.addr && b->second <= s.addr + s.size)
            return TableSpan{s.index, a->second - s.addr, b->second - s.addr};
    return std::nullopt;
}

// Where the entries of a module's table point: relocation r_offset ->
// (section, offset). Self-relative and absolute pointers alike resolve to
// S + A, the site itself.
std::unordered_map<std::uint64_t, std::pair<std::size_t, std::uint64_t>> module_pointers(const ElfFile& f,
                                                                                          std::size_t table) {
    std::unordered_map<std::uint64_t, std::pair<std::size_t, std::uint64_t>> out;
    const std::string_view bytes = f.section_bytes(table);
    for (const auto& rs : f.sections()) {
        if (!applies_to(f, rs, table)) continue;
        Elf_Data* symtab = symbols_of(f, rs);
        for_each_reloc(f, rs, [&](const Reloc& r) {
            auto s = symbol_at(symtab, r.sym);
            if (!s || s->st_shndx == SHN_UNDEF || s->st_shndx >= f.sections().size()) return;
            const unsigned n = rel_type(f.machine(), r.type).size;
            const std::int64_t a = r.rela ? r.addend : static_cast<std::int32_t>(read_le(bytes, r.where, n == 8 ? 8 : 4));
            out[r.where] = {s->st_shndx, s->st_value + static_cast<std::uint64_t>(a)};
        });
    }
    return out;
}

// Linked images built PIE (arm64) leave absolute pointers zero in the file
// (--no-apply-dynamic-relocs): their value is a RELATIVE relocation's addend.
class DynamicAddends {
public:
    explicit DynamicAddends(const ElfFile& f) : f_(f) {}
    std::uint64_t at(std::uint64_t addr) {
        if (!built_) {
            built_ = true;
            for (const auto& rs : f_.sections()) {
                GElf_Shdr sh;
                if ((rs.type != SHT_RELA) || !gelf_getshdr(elf_getscn(f_.elf(), rs.index), &sh) || sh.sh_info != 0) continue;
                for_each_reloc(f_, rs, [&](const Reloc& r) { map_[r.where] = static_cast<std::uint64_t>(r.addend); });
            }
        }
        auto it = map_.find(addr);
        return it == map_.end() ? 0 : it->second;
    }

private:
    const ElfFile& f_;
    bool built_ = false;
    std::unordered_map<std::uint64_t, std::uint64_t> map_;
};

// Site (offset in `section`) of entry field at `field_off` of the table, or nullopt.
struct SiteResolver {
    const ElfFile& f;
    const ElfSection& sec;
    const TableSpan& span;
    const SiteTable& t;
    std::string_view bytes;  // the table section's bytes
    std::unordered_map<std::uint64_t, std::pair<std::size_t, std::uint64_t>> ptrs;  // modules only
    DynamicAddends& dyn;

    // Linked image: the address the entry field points at.
    std::uint64_t target(std::uint64_t field_off) {
        const std::uint64_t field_addr = f.sections()[span.section].addr + field_off;
        std::uint64_t a = 0;
        switch (t.ptr) {
            case Ptr::Rel32: a = field_addr + static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(read_le(bytes, field_off, 4)))); break;
            case Ptr::Abs64: a = read_le(bytes, field_off, 8); break;
            case Ptr::Abs32: a = read_le(bytes, field_off, 4); break;
        }
        if (a == 0 && t.ptr != Ptr::Rel32) a = dyn.at(field_addr);
        return a;
    }

    std::optional<std::uint64_t> site(std::uint64_t field_off) {
        if (!linked(f)) {
            auto it = ptrs.find(field_off);
            if (it == ptrs.end() || it->second.first != sec.index) return std::nullopt;
            return it->second.second;
        }
        const std::uint64_t a = target(field_off);
        if (a < sec.addr || a >= sec.addr + sec.size) return std::nullopt;
        return a - sec.addr;
    }

    bool lands_in_code(std::uint64_t field_off) {
        if (!linked(f)) {
            auto it = ptrs.find(field_off);
            return it != ptrs.end() && (f.sections()[it->second.first].flags & SHF_EXECINSTR);
        }
        const std::uint64_t a = target(field_off);
        for (const auto& s : f.sections())
            if ((s.flags & SHF_EXECINSTR) && a >= s.addr && a < s.addr + s.size) return true;
        return false;
    }
};

// A patched instruction's length when the table does not record it: the
// instruction at the site, decoded from the file.
unsigned decoded_length(const ElfFile& f, Arch arch, std::size_t section, std::uint64_t site, unsigned fallback) {
    const std::string_view text = f.section_bytes(section);
    if (site >= text.size()) return fallback;
    auto p = reinterpret_cast<const std::uint8_t*>(text.data()) + site;
    auto n = instruction_length(arch, false, std::span(p, std::min<std::size_t>(16, text.size() - site)));
    return n ? static_cast<unsigned>(*n) : fallback;
}

bool in_era(const SiteTable& t, int major, int minor) {
    if (!major) return true;  // release unknown: every layout is a candidate
    const int v = major * 100 + minor;
    return v >= t.since && v < t.until;
}

// Layouts of one table in other releases share its kind and section.
bool same_table(const SiteTable& a, const SiteTable& b) {
    return a.arch == b.arch && a.kind == b.kind && std::string_view(a.section) == b.section;
}

// A table whose entries the file leaves zero (6.12's __mcount_loc, filled
// in at build time elsewhere): no layout to read, and nothing to warn about.
bool all_zero(std::string_view b) { return std::all_of(b.begin(), b.end(), [](char c) { return c == 0; }); }

// Without the release, a layout is believed when its entries tile the
// table and their first sites all point into executable code.
bool plausible(const ElfFile& f, SiteResolver& sr, std::uint64_t begin, std::uint64_t end) {
    if ((end - begin) % sr.t.entry != 0) return false;
    int seen = 0;
    for (std::uint64_t e = begin; e + sr.t.entry <= end && seen < 32; e += sr.t.entry, ++seen)
        if (!sr.lands_in_code(e + sr.t.field)) return false;
    (void)f;
    return true;
}

}  // namespace

std::string_view patch_kind_name(PatchKind k) {
    static constexpr std::string_view names[kPatchKinds] = {
        "relocation", "alternative", "paravirt", "return-thunk", "retpoline", "jump-label",
        "static-call", "ftrace", "smp-lock", "endbr-seal", "call-depth", "smp-alt"};
    return names[static_cast<std::size_t>(k)];
}

namespace {

// Every patch site of one section, sorted by offset (table order among
// equal offsets: the first range containing a byte names it).
struct Site {
    std::uint64_t at = 0;
    unsigned len = 0;       // 0: decode the instruction at query time
    unsigned fallback = 0;  // length when it does not decode
    PatchKind kind = PatchKind::Alternative;
};
struct SiteIndex {
    std::vector<Site> sites;
    std::vector<std::string> notes;  // tables that could not be read, and why
};

SiteIndex index_sites(const ElfFile& f, Arch arch, std::size_t section, int major, int minor,
                      const std::map<std::string, std::uint64_t, std::less<>>& bounds) {
    SiteIndex out;
    const ElfSection& sec = f.sections()[section];
    DynamicAddends dyn(f);
    const SiteTable* done = nullptr;  // the table whose layout was chosen
    for (const auto& t : kTables) {
        if (t.arch != arch || !in_era(t, major, minor) || (done && same_table(*done, t))) continue;
        auto span = locate_table(f, t, bounds);
        if (!span) continue;
        const std::string_view bytes = f.section_bytes(span->section);
        SiteResolver sr{f, sec, *span, t, bytes, linked(f) ? decltype(SiteResolver::ptrs){} : module_pointers(f, span->section), dyn};
        const bool last_layout = &t + 1 == std::end(kTables) || !same_table(t, *(&t + 1));
        if (!plausible(f, sr, span->begin, span->end)) {
            if (last_layout && !all_zero(bytes.substr(span->begin, std::min<std::uint64_t>(span->end - span->begin, 256))))
                out.notes.push_back(std::string(t.section) + " of " + f.path() + ": no known layout of its entries fits (" +
                                    std::to_string(span->end - span->begin) + " bytes); its sites were not masked");
            continue;
        }
        done = &t;
        for (std::uint64_t e = span->begin; e + t.entry <= span->end; e += t.entry) {
            auto site = sr.site(e + t.field);
            if (!site) continue;
            Site st{*site, 0, t.len_value, t.kind};
            if (t.len == Len::Fixed) st.len = t.len_value;
            if (t.len == Len::U8Field) st.len = static_cast<unsigned>(read_le(bytes, e + t.len_value, 1));
            if (t.len != Len::Decoded && st.len == 0) continue;  // an empty patch
            out.sites.push_back(st);
        }
    }
    std::stable_sort(out.sites.begin(), out.sites.end(), [](const Site& a, const Site& b) { return a.at < b.at; });
    return out;
}

// The `call __fentry__` instructions (e8 rel32) of a linked image's
// section overlapping [lo, hi).
std::vector<PatchRange> fentry_calls(const ElfFile& f, std::size_t section, std::uint64_t lo, std::uint64_t hi,
                                     std::uint64_t fentry) {
    std::vector<PatchRange> out;
    const ElfSection& sec = f.sections()[section];
    const std::string_view text = f.section_bytes(section);
    constexpr std::uint64_t kLongest = 15;
    const std::uint64_t from = lo > kLongest ? lo - kLongest : 0, to = std::min<std::uint64_t>(hi, text.size());
    if (from >= to) return out;
    const auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(text.data()) + from, to - from);
    for (std::size_t start = 0; start < std::min<std::size_t>(kLongest, bytes.size()); ++start)
        for (const auto& insn : decode_fields(Arch::X86_64, bytes, start, start)) {
            if (insn.size != 5 || bytes[insn.offset] != 0xe8) continue;
            std::int32_t rel = 0;
            std::memcpy(&rel, bytes.data() + insn.offset + 1, 4);
            const std::uint64_t next = sec.addr + from + insn.offset + 5;
            if (next + static_cast<std::uint64_t>(std::int64_t{rel}) == fentry)
                out.push_back({from + insn.offset, from + insn.offset + 5, PatchKind::Ftrace});
        }
    return out;
}

}  // namespace

PatchScan patch_ranges(const ElfFile& f, Arch arch, std::size_t section, std::uint64_t lo, std::uint64_t hi,
                       int major, int minor) {
    // Tables and relocations are read once per file and section; a query
    // only decodes the few sites in its window.
    auto facts = facts_for(f);
    std::shared_ptr<const std::vector<PatchRange>> relocs;
    std::shared_ptr<const SiteIndex> index;
    {
        std::lock_guard g(facts->lock);
        if (!facts->have_bounds && linked(f)) facts->bounds = bound_symbols(f, arch);
        facts->have_bounds = true;
        auto& r = facts->relocs[section];
        if (!r) r = std::make_shared<const std::vector<PatchRange>>(relocation_ranges(f, arch, section));
        relocs = r;
        auto& s = facts->sites[{section, arch, major, minor}];
        if (!s) s = std::make_shared<const SiteIndex>(index_sites(f, arch, section, major, minor, facts->bounds));
        index = s;
    }
    PatchScan out;
    out.notes = index->notes;
    constexpr std::uint64_t kLongest = 16;  // no patched instruction group starting earlier reaches the window
    auto site = std::lower_bound(index->sites.begin(), index->sites.end(), lo > kLongest ? lo - kLongest : 0,
                                 [](const Site& s, std::uint64_t v) { return s.at < v; });
    for (; site != index->sites.end() && site->at < hi; ++site) {
        const unsigned len = site->len ? site->len : decoded_length(f, arch, section, site->at, site->fallback);
        if (site->at + len > lo) out.ranges.push_back({site->at, site->at + len, site->kind});
    }
    // x86_64 ftrace nops every `call __fentry__` at boot; where the table
    // cannot say where they are, the calls themselves do.
    if (auto fentry = facts->bounds.find("__fentry__"); arch == Arch::X86_64 && linked(f) && fentry != facts->bounds.end())
        for (const auto& r : fentry_calls(f, section, lo, hi, fentry->second)) out.ranges.push_back(r);
    // Last: a site the kernel patches names its purpose better than the
    // relocation that also covers it (the first range containing a byte wins).
    constexpr std::uint64_t kWidest = 8;  // the widest relocated field
    auto it = std::lower_bound(relocs->begin(), relocs->end(), lo > kWidest ? lo - kWidest : 0,
                               [](const PatchRange& r, std::uint64_t v) { return r.begin < v; });
    for (; it != relocs->end() && it->begin < hi; ++it)
        if (it->end > lo) out.ranges.push_back(*it);
    return out;
}

}  // namespace kaddr
