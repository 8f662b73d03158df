#include "kaddr/resolver.h"

#include <gelf.h>

#include <algorithm>

namespace kaddr {

namespace {

// Assembly has line tables but no subprogram DIEs: name the function after
// the nearest symbol label, as addr2line does.
void name_unnamed(std::vector<SourceLocation>& locs, const SymbolTable& table, std::uint64_t lookup) {
    if (locs.empty() || !locs.back().function.empty()) return;
    if (const Symbol* s = table.nearest(lookup)) locs.back().function = s->name;
}

// `lookup` is where the symbol and source are looked up (a return address
// minus one instruction), `addr` what the offset is counted from: the
// kernel's %pB does the same, so a call that ends its function (a value at
// the next function's start, on x86 an unreliable `?` frame) is
// `prev+size/size`, as printed; 6.12's `? __pfx_f+0x10/0x10` likewise.
void set_symbol(Resolution& r, const SymbolTable& table, std::uint64_t addr, std::uint64_t lookup) {
    const SymbolTable::Found found = table.find(lookup);
    const Symbol* s = found.symbol;
    if (!s) return;
    const Symbol* label = found.nearest;
    if (label && label != s && label->addr > s->addr)
        r.notes.push_back("inside " + std::string(s->name) + " after the label " + std::string(label->name) + "+" +
                          hex(addr - label->addr));
    // A return address at the next symbol (the kernel prints prev+span/span):
    // said, not doubted.
    const bool at_next = lookup != addr && addr - s->addr == std::max(s->size, s->span);
    if (at_next)
        r.notes.push_back("the return address is just past the end of " + std::string(s->name) +
                          ": a call that does not return, or a value on the stack that is no return address");
    r.symbol = s->name;
    r.offset = addr - s->addr;
    r.size = s->size;
    r.size_kind = s->size_known ? "exact" : "inferred";
    r.span = s->span;
    for (const Symbol* a : found.aliases) r.aliases.emplace_back(a->name);
    if (s->size > 0 && !at_next && lookup >= s->addr && lookup - s->addr >= s->size) {
        r.notes.push_back("address is " + hex(r.offset - s->size) + " bytes past the end of " + std::string(s->name));
        r.confidence = "guess";
    }
}

// At a data address (outside executable sections) a location with neither
// file nor line is no source information: DWARF describes code, and a data
// address inside a CU's range gets such an empty answer. Code without line
// information (assembly) keeps its `??:0` location.
void drop_sourceless(std::vector<SourceLocation>& locs, bool in_code) {
    if (in_code) return;
    if (std::all_of(locs.begin(), locs.end(), [](const SourceLocation& l) { return l.file.empty() && l.line == 0; }))
        locs.clear();
}

}  // namespace

void Resolver::fill_core(Resolution& r, std::uint64_t addr, std::uint64_t lookup) const {
    const CoreImage& core = snap_.core;
    const std::uint64_t link = snap_.to_link(lookup);
    bool in_code = true;
    if (core.vmlinux) {
        for (const auto& s : core.vmlinux->sections())
            if ((s.flags & SHF_ALLOC) && s.size && link >= s.addr && link < s.addr + s.size && !(s.flags & SHF_TLS)) {
                r.section = s.name;
                in_code = s.flags & SHF_EXECINSTR;
                break;
            }
    }
    set_symbol(r, core.symbols, addr, lookup);
    if (!r.symbol.empty()) r.found_by.push_back(core.symbols_from);
    if (!r.symbol.empty() || snap_.in_core(lookup)) r.owner = Owner::Kernel;
    if (core.vmlinux && !core.kaslr_offset && snap_.has_kallsyms)
        r.notes.push_back("KASLR offset unknown: " + core.kaslr_how);
    else if (core.vmlinux && !core.kaslr_offset)
        r.notes.push_back("no KASLR information (kallsyms, Kernel Offset): the address is taken as link-time");
    if (LocationSource* dw = snap_.core_dwarf()) {
        r.locations = dw->locate(link);
        drop_sourceless(r.locations, in_code);
        name_unnamed(r.locations, core.symbols, lookup);
        if (!r.locations.empty()) r.found_by.push_back("DWARF (vmlinux)");
    } else if (!core.vmlinux) {
        r.notes.push_back("no vmlinux: no source lines for the core kernel (give --vmlinux or --debug-root)");
    } else if (!core.dwarf_unusable.empty()) {
        r.notes.push_back(core.dwarf_unusable);
    }
    if (r.confidence.empty()) r.confidence = r.locations.empty() ? "symbol-only" : "exact";
    if (core.vmlinux) apply_doubts(r, core.vmlinux->path());
}

namespace {

// How a module's section addresses are known, as found_by says it.
std::string layout_source(const Module& m) {
    switch (m.layout) {
        case Placement::Exact: return m.exact_from + " sections";
        case Placement::Relative: return "section-relative (module load address unknown)";
        default: return m.layout_how.empty() ? "reconstructed layout" : "layout derived from a frame";
    }
}

std::string layout_confidence(const Module& m) {
    switch (m.layout) {
        case Placement::Exact: return "exact";
        case Placement::Relative: return "module-relative";
        default: return "reconstructed-layout";
    }
}

}  // namespace

void Resolver::apply_doubts(Resolution& r, const std::string& file) const {
    auto it = snap_.doubted_files.find(file);
    if (it == snap_.doubted_files.end()) return;
    if (it->second.build_id_mismatch) {
        r.error = file + ": " + it->second.why;
        r.error_code = ResolveErrorCode::DebugFileMismatch;
        r.locations.clear();
        r.confidence.clear();
        return;
    }
    r.notes.push_back("WARNING: " + file + " may not be the crashed kernel's: " + it->second.why);
    r.confidence = "guess";
}

void Resolver::fill_module(Resolution& r, const Module& m, std::uint64_t addr, std::uint64_t lookup) const {
    r.module = m.name;
    r.owner = Owner::Module;
    bool in_code = true;
    if (const PlacedSection* s = m.section_at(lookup)) {
        r.section = s->name;
        if (m.ko && s->elf_index && s->elf_index < m.ko->sections().size())
            in_code = m.ko->sections()[s->elf_index].flags & SHF_EXECINSTR;
        r.section_offset = addr - s->addr;
        r.found_by.push_back(layout_source(m));
    } else if (m.proc) {
        r.found_by.push_back("/proc/modules");
        if (snap_.module_memory.per_type())
            r.notes.push_back("from 6.4 /proc/modules gives only module " + m.name +
                              "'s text base: this address is in its base + size, a sum of separate allocations, "
                              "so which allocation (and which module) holds it is not known");
    } else if (!m.listed_runs.empty()) {
        r.notes.push_back("module " + m.name + "'s extent is inferred from its kallsyms symbols (no /proc/modules)");
    }
    set_symbol(r, m.symbols(), addr, lookup);
    if (!r.symbol.empty()) r.found_by.push_back(m.symbols_from());
    if (LocationSource* dw = snap_.module_dwarf(m)) {
        r.locations = dw->locate(lookup);
        drop_sourceless(r.locations, in_code);
        name_unnamed(r.locations, m.symbols(), lookup);
        if (!r.locations.empty()) r.found_by.push_back("DWARF (" + m.ko->path() + ")");
        if (!r.locations.empty() && !m.ko_source.empty()) r.found_by.push_back("module file from " + m.ko_source);
    } else if (!m.ko) {
        r.notes.push_back("no .ko for module " + m.name + ": symbol only (give --modules, --ko or --debug-root)");
    } else if (!m.dwarf_unusable.empty()) {
        r.notes.push_back(m.dwarf_unusable);
    } else if (!m.dwarf_error.empty()) {
        r.notes.push_back(m.dwarf_error);
    } else {
        r.notes.push_back(m.ko->path() + " has no DWARF: symbol only");
    }
    if (r.confidence.empty()) r.confidence = r.locations.empty() ? "symbol-only" : layout_confidence(m);
    if (m.ko) apply_doubts(r, m.ko->path());
}

Resolution Resolver::resolve_relative(const Module& m, std::uint64_t addr, AddressKind kind) const {
    Resolution r;
    r.region = "module " + m.name + " (load address unknown)";
    r.kind = kind;
    const std::uint64_t lookup = kind == AddressKind::Return ? addr - return_address_step(snap_.arch) : addr;
    fill_module(r, m, addr, lookup);
    r.notes.push_back("no load address for module " + m.name +
                      ": the answer is section-relative (a capture of /proc/modules or /sys/module/" + m.name +
                      "/sections, or a frame printed with its address, gives runtime addresses)");
    return r;
}

Resolution Resolver::resolve_address(std::uint64_t addr, AddressKind kind) const {
    Resolution r;
    r.input = hex(addr);
    r.address = addr;
    const std::uint64_t lookup = kind == AddressKind::Return ? addr - return_address_step(snap_.arch) : addr;
    r.lookup = lookup;
    r.kind = kind;
    const Region region = static_region(snap_.arch, addr, snap_.core.kaslr_offset == 0 && snap_.has_kallsyms);
    r.static_region = region.name;
    r.region_assumption = region.assumption;
    const Module* m = snap_.module_at(lookup);
    const bool in_core = !m && snap_.in_core(lookup);
    if (m) r.region.append("module ").append(m->name).append(" (").append(region.name).append(")");
    else if (in_core) r.region.append("kernel image (").append(region.name).append(")");
    else r.region = region.name;
    if (m) fill_module(r, *m, addr, lookup);
    else if (in_core || (snap_.modules.empty() && snap_.core.end == 0)) fill_core(r, addr, lookup);
    if (!r.resolved() && !r.error) {
        if (snap_.core.symbols.empty() && snap_.modules.empty()) {
            r.error = "no symbols loaded: give --kallsyms, --vmlinux, --system-map or --snapshot";
            r.error_code = ResolveErrorCode::NoSymbols;
        } else if (r.region == "user") {
            r.error = "user-space address: not in the kernel";
            r.error_code = ResolveErrorCode::UserAddress;
        } else if (r.region == "NULL page") {
            r.error = "NULL pointer + " + hex(addr) + ": never mapped";
            r.error_code = ResolveErrorCode::NullPage;
        } else if (m) {
            r.error = "no symbol at this address of module " + m->name +
                      (m->ko ? std::string(": it lies in no symbol of ") + m->ko->path()
                             : std::string(": no module file, and no symbols of it in kallsyms or the dump") +
                                   " (give --modules, --ko or --debug-root)");
            r.error_code = ResolveErrorCode::UnknownSymbol;
        } else {
            r.error = "no symbol at this address: it is outside the kernel image and every known module";
            r.error_code = ResolveErrorCode::UnmappedAddress;
        }
    }
    return r;
}

Resolution Resolver::resolve_symbol(const SymbolRef& ref, AddressKind kind) const {
    struct Hit {
        const Module* module;
        const Symbol* sym;
    };
    std::vector<Hit> hits;
    const Module* only = nullptr;
    if (!ref.module.empty()) {
        only = snap_.module_named(ref.module);
        if (!only) {
            Resolution r;
            r.input = ref.name;
            r.module = canonical_module_name(ref.module);
            auto why = snap_.missing_modules.find(*r.module);
            r.error = why != snap_.missing_modules.end()
                          ? "module " + ref.module + ": " + why->second.why
                          : "module " + ref.module + " is not in this snapshot (give its .ko with --ko or --modules, or /proc/modules, sysfs sections or kallsyms)";
            r.error_code = why != snap_.missing_modules.end() && why->second.build_id_mismatch
                               ? ResolveErrorCode::DebugFileMismatch
                               : ResolveErrorCode::UnknownModule;
            r.kind = kind;
            return r;
        }
        for (const Symbol* s : only->symbols().by_name(ref.name)) hits.push_back({only, s});
    } else {
        for (const Symbol* s : snap_.core.symbols.by_name(ref.name)) hits.push_back({nullptr, s});
        if (hits.empty())
            for (const auto& m : snap_.modules)
                for (const Symbol* s : m->symbols().by_name(ref.name)) hits.push_back({m.get(), s});
    }
    std::string text = ref.name;
    if (ref.offset || ref.size) text += "+" + hex(ref.offset);
    if (ref.size) text += "/" + hex(*ref.size);
    if (!ref.module.empty()) text += " [" + ref.module + "]";
    if (hits.empty()) {
        Resolution r;
        r.input = text;
        r.error = "unknown symbol " + ref.name + (only ? " in module " + only->name : std::string());
        r.error_code = ResolveErrorCode::UnknownSymbol;
        r.kind = kind;
        return r;
    }
    // Like faddr2line: the printed size (the kallsyms span) narrows same-named symbols.
    if (ref.size && hits.size() > 1) {
        std::vector<Hit> sized;
        for (const auto& h : hits)
            if (h.sym->span == *ref.size || h.sym->size == *ref.size) sized.push_back(h);
        if (!sized.empty()) hits = sized;
    }
    auto one = [&](const Hit& h) {
        Resolution r = h.module && h.module->layout == Placement::Relative
                           ? resolve_relative(*h.module, h.sym->addr + ref.offset, kind)
                           : resolve_address(h.sym->addr + ref.offset, kind);
        r.symbol = h.sym->name;  // keep the name the user gave among aliases
        r.offset = ref.offset;
        r.size = h.sym->size;
        r.span = h.sym->span;
        return r;
    };
    Resolution r = one(hits.front());
    r.input = text;
    if (ref.size && hits.front().sym->span != *ref.size && hits.front().sym->size != *ref.size) {
        r.notes.push_back("printed size " + hex(*ref.size) + " differs from the symbol's (" + hex(hits.front().sym->span) +
                          "): the debug file is probably not the crashed build");
        r.confidence = "guess";
    }
    // %pB prints a return address as the call's symbol + size when the call
    // ends its function (a noreturn call): offset == size is then normal.
    const std::uint64_t extent = std::max(hits.front().sym->size, hits.front().sym->span);
    const bool past = kind == AddressKind::Return ? ref.offset > extent : ref.offset >= extent;
    if (extent && past && r.confidence != "guess") {
        r.notes.push_back("offset " + hex(ref.offset) + " lies past the end of " + ref.name + " (" + hex(extent) +
                          " bytes): the debug file is probably not the crashed build");
        r.confidence = "guess";
    }
    if (hits.size() > 1) {
        r.notes.push_back(std::to_string(hits.size()) + " symbols are named " + ref.name + "; all are listed");
        r.confidence = "guess";
        for (const auto& h : hits) {
            const Resolution c = &h == &hits.front() ? r : one(h);  // the first is the answer itself
            Candidate cand;
            cand.module = h.module ? h.module->name : "";
            cand.address = h.sym->addr + ref.offset;
            cand.size = h.sym->size;
            if (!c.locations.empty()) {
                cand.file = c.locations.front().file;
                cand.line = c.locations.front().line;
            }
            r.candidates.push_back(std::move(cand));
        }
    }
    return r;
}

Resolution Resolver::resolve_text(std::string_view text, AddressKind kind) const {
    std::string_view t = trim(text);
    if (auto a = parse_address_text(t)) {
        Resolution r = resolve_address(*a, kind);
        r.input.assign(t);
        return r;
    }
    std::size_t used = 0;
    auto ref = parse_symbol_ref(t, &used);
    if (!ref || used != t.size()) {
        Resolution r;
        r.input.assign(t);
        r.error = "not an address or a symbol reference (expected 0xADDR, ADDR, sym, sym+0xOFF, sym+0xOFF/0xSIZE [mod])";
        r.error_code = ResolveErrorCode::BadInput;
        r.kind = kind;
        return r;
    }
    Resolution r = resolve_symbol(*ref, kind);
    r.input.assign(t);
    return r;
}

}  // namespace kaddr
