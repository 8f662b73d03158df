#include "kaddr/snapshot.h"

#include <gelf.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>

#include "kaddr/error.h"

namespace kaddr {

SymbolTable::Entry listed_entry(const ListedSymbol& s, std::uint64_t shift) {
    return {s.addr + shift, 0, false, s.type == 'T' || s.type == 't', std::isupper(static_cast<unsigned char>(s.type)) != 0,
            s.name, false};
}

const SymbolTable& Module::symbols() const {
    std::call_once(symbols_once_, [this] { build_symbols(); });
    return symbols_;
}

const std::string& Module::symbols_from() const {
    symbols();
    return symbols_from_;
}

// Never throws: an exception leaving std::call_once aborts with the static
// runtime. (ElfFile::symbols() reads an ELF already opened and checked; what
// could still fail is memory, and then the module answers without symbols.)
void Module::build_symbols() const {
    try {
        if (ko) {
            std::map<std::size_t, const PlacedSection*> by_index;
            for (const auto& s : sections)
                if (s.elf_index && s.placement != Placement::Undetermined) by_index[s.elf_index] = &s;
            for (const auto& s : ko->symbols()) {
                auto it = by_index.find(s.section);
                if (it == by_index.end()) continue;
                symbols_.add({it->second->addr + s.value, s.size, true, s.type == STT_FUNC, s.bind != STB_LOCAL, s.name, false});
            }
            symbols_from_ = "module symtab";
        }
        if (symbols_.empty() && !listed.empty()) {
            for (const auto& s : listed)
                if (!s.is_absolute()) symbols_.add(listed_entry(s, 0));
            symbols_from_ = listed_from;
        }
        symbols_.finalize(proc ? proc->base + proc->size : 0);
    } catch (...) {
        symbols_ = SymbolTable();
        symbols_from_.clear();
    }
}

const PlacedSection* Module::section_at(std::uint64_t addr) const {
    for (bool init : {false, true})
        for (const auto& s : sections)
            if (s.init == init && s.placement != Placement::Undetermined && addr >= s.addr && addr < s.addr + s.size)
                return &s;
    return nullptr;
}

void Snapshot::seal_module_bounds() {
    std::uint64_t lo = ~std::uint64_t{0}, hi = 0;
    auto add = [&](std::uint64_t a, std::uint64_t b) {
        if (b <= a) return;
        lo = std::min(lo, a);
        hi = std::max(hi, b);
    };
    for (const auto& m : modules) {
        for (const auto& s : m->sections)
            if (is_runtime(s.placement)) add(s.addr, s.addr + s.size);
        if (m->proc) add(m->proc->base, m->proc->base + m->proc->size);
        for (const auto& a : m->memory) add(a.base, a.base + a.size);
        for (const auto& [lo, hi] : m->listed_runs) add(lo, hi);
    }
    module_bounds = std::make_pair(lo, hi);
}

const Module* Snapshot::module_at(std::uint64_t addr) const {
    if (module_bounds && (addr < module_bounds->first || addr >= module_bounds->second)) return nullptr;
    // Init allocations are freed after init and their memory reused by later
    // modules: a core section anywhere beats a (stale) init section.
    for (bool init : {false, true})
        for (const auto& m : modules)
            for (const auto& s : m->sections)
                if (s.init == init && is_runtime(s.placement) && addr >= s.addr && addr < s.addr + s.size)
                    return m.get();
    for (const auto& m : modules)
        for (const auto& a : m->memory)
            if (addr >= a.base && addr < a.base + a.size) return m.get();
    // /proc/modules' [base, base + size): the core allocation before 6.4;
    // from 6.4 only a bound (the sum of separate allocations), where a
    // neighbour may start inside: the nearest base below wins.
    const Module* by_span = nullptr;
    for (const auto& m : modules)
        if (m->proc && addr >= m->proc->base && addr < m->proc->base + m->proc->size &&
            (!by_span || m->proc->base > by_span->proc->base))
            by_span = m.get();
    if (by_span) return by_span;
    for (const auto& m : modules)
        for (const auto& [lo, hi] : m->listed_runs)
            if (addr >= lo && addr < hi) return m.get();
    return nullptr;
}

const Module* Snapshot::module_named(const std::string& name) const {
    std::string want = canonical_module_name(name);
    for (const auto& m : modules)
        if (m->name == want) return m.get();
    return nullptr;
}

std::uint64_t Snapshot::to_link(std::uint64_t runtime) const {
    return runtime - static_cast<std::uint64_t>(core.kaslr_offset.value_or(0));
}

LocationSource* Snapshot::core_dwarf() const {
    if (!core.vmlinux || !core.vmlinux->has_dwarf() || !core.dwarf_unusable.empty()) return nullptr;
    // Look-ups in vmlinux take link-time addresses, so its DWARF session
    // (and the per-CU indexes it builds) serves every snapshot of the same
    // file whatever KASLR offset a report brings. No exception may leave a
    // call_once: with the statically linked runtime it aborts the process
    // (exit 134, no message); the error is kept and reported by the caller.
    std::call_once(core.dwarf_once, [&] {
        static std::mutex mu;
        static std::map<std::string, std::weak_ptr<LocationSource>> shared;
        const ElfFile& f = *core.vmlinux;
        const std::string key = f.path() + '\n' + f.build_id() + '\n' + std::to_string(f.file_size()) + '\n' +
                                std::to_string(f.mtime());
        try {
            std::lock_guard lock(mu);
            core.dwarf = shared[key].lock();
            if (!core.dwarf) {
                auto image = core.vmlinux;
                auto cus = core.cu_ranges;
                auto keep = core.cu_storage;
                core.dwarf = open_location_source(
                    image, source_index, [image, cus, keep] { return DwarfSource::for_image(image, cus, keep); }, {},
                    cus);
                shared[key] = core.dwarf;
            }
        } catch (const std::exception& e) {
            core.dwarf_error = e.what();
        }
    });
    if (!core.dwarf && !core.dwarf_error.empty()) throw Error(core.vmlinux->path(), "no usable DWARF: " + core.dwarf_error);
    return core.dwarf.get();
}

LocationSource* Snapshot::module_dwarf(const Module& m) const {
    if (!m.ko || !m.ko->has_dwarf() || !m.dwarf_unusable.empty()) return nullptr;
    std::call_once(m.dwarf_once, [&] {
        try {
            auto ko = m.ko;
            auto sections = m.sections;
            m.dwarf = open_location_source(
                ko, source_index, [ko, sections] { return DwarfSource::for_module(ko, sections); }, m.sections);
        } catch (const std::exception& e) {
            m.dwarf_error = e.what();
        }
    });
    return m.dwarf.get();
}

}  // namespace kaddr
