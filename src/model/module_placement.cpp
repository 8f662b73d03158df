#include "module_placement.h"

#include <gelf.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "kaddr/elf_facts.h"
#include "kaddr/error.h"
#include "kaddr/inputs.h"
#include "kaddr/lexemes.h"

namespace kaddr {

namespace fs = std::filesystem;

namespace {

// Placed sections first, by address (Module::sections' order).
void sort_sections(std::vector<PlacedSection>& sections) {
    std::stable_sort(sections.begin(), sections.end(), [](const PlacedSection& a, const PlacedSection& b) {
        if ((a.placement == Placement::Undetermined) != (b.placement == Placement::Undetermined))
            return b.placement == Placement::Undetermined;
        return a.addr < b.addr;
    });
}

}  // namespace

// Picks the module file that matches the loaded module: its layout must
// reproduce the sysfs addresses (or at least fit in the /proc/modules size);
// among matching files one with DWARF is preferred.
std::shared_ptr<const ElfFile> choose_ko(Snapshot& snap, Module& m, const std::vector<std::string>& candidates,
                                         const std::map<std::string, std::uint64_t>* sysfs, const LayoutRules& rules,
                                         const std::string& want_build_id, const OpenedFiles& opened) {
    struct Scored {
        std::shared_ptr<const ElfFile> file;
        bool matches = false;
        std::string why;
    };
    std::vector<Scored> scored;
    std::vector<std::string> wrong_build;
    for (const auto& path : candidates) {
        Scored s;
        try {
            const auto ahead = opened.find(path);
            s.file = with_debuglink(snap, ahead != opened.end() ? ahead->second : ElfFile::open(path));
        } catch (const Error& e) {
            snap.notes.push_back("module " + m.name + ": skipped " + e.what());
            continue;
        }
        if (s.file->type() != ET_REL) {
            snap.notes.push_back("module " + m.name + ": skipped " + path + " (not ET_REL)");
            continue;
        }
        if (const Arch a = elf_arch(*s.file); snap.arch != Arch::Unknown && a != snap.arch) {
            snap.notes.push_back("WARNING: module " + m.name + ": skipped " + path + ": it is an " +
                                 std::string(arch_name(a)) + " module, the kernel is " + std::string(arch_name(snap.arch)));
            continue;
        }
        // The report printed the module's build-id (`[mod id]`, 5.14+): a
        // file with another one is another build, whatever its layout says.
        if (!want_build_id.empty() && !s.file->build_id().empty() && !s.file->build_id().starts_with(want_build_id)) {
            wrong_build.push_back(path + " has " + s.file->build_id());
            continue;
        }
        if (sysfs && m.proc) {
            auto layout = reconstruct_layout(*s.file, m.proc->base, rules);
            std::size_t same = 0, differ = 0;
            for (const auto& p : layout) {
                auto it = sysfs->find(p.name);
                if (p.placement != Placement::Reconstructed || it == sysfs->end()) continue;
                (it->second == p.addr ? same : differ)++;
            }
            s.matches = differ == 0 && same > 0;
            s.why = s.matches ? "its layout reproduces all " + std::to_string(same) + " sysfs addresses"
                              : std::to_string(differ) + " section addresses differ from sysfs";
        } else if (m.proc) {
            auto layout = reconstruct_layout(*s.file, m.proc->base, rules);
            std::uint64_t end = m.proc->base;
            for (const auto& p : layout)
                if (p.placement == Placement::Reconstructed) end = std::max(end, p.addr + p.size);
            s.matches = end <= m.proc->base + m.proc->size;
            s.why = s.matches ? "its sections fit the /proc/modules size" : "its sections exceed the /proc/modules size";
        } else {
            s.matches = true;
            s.why = "no layout to check against";
        }
        scored.push_back(std::move(s));
    }
    if (scored.empty()) {
        if (!wrong_build.empty()) {
            std::string files;
            for (const auto& w : wrong_build) files += (files.empty() ? "" : "; ") + w;
            m.rejected_build_id = true;
            m.ko_choice = "BUILD-ID MISMATCH: the report prints build-id " + want_build_id + " but " + files +
                          " (give the module of the build that crashed)";
            snap.notes.push_back("WARNING: module " + m.name + ": " + m.ko_choice);
        }
        return nullptr;
    }
    auto best = std::stable_partition(scored.begin(), scored.end(), [](const Scored& s) { return s.matches; });
    auto pick = scored.begin();
    for (auto it = scored.begin(); it != best; ++it)
        if (it->file->has_dwarf()) {
            pick = it;
            break;
        }
    if (!pick->matches) {
        snap.notes.push_back("module " + m.name + ": no file matches the loaded module (" + pick->file->path() +
                             ": " + pick->why + "); not using it");
        return nullptr;
    }
    m.ko_choice = pick->file->path() + " (" + pick->why + (pick->file->has_dwarf() ? ", has DWARF" : ", no DWARF") + ")";
    if (scored.size() > 1) {
        std::string others;
        for (const auto& s : scored)
            if (&s != &*pick) others += (others.empty() ? "" : ", ") + s.file->path() + " (" + s.why + ")";
        snap.notes.push_back("module " + m.name + ": chose " + m.ko_choice + " over " + others);
    }
    return pick->file;
}

void place_sections(Module& m, const std::map<std::string, std::uint64_t>* sysfs, const LayoutRules& rules) {
    if (m.ko && sysfs) {
        m.layout = Placement::Exact;
        for (auto p : loadable_sections(*m.ko, rules)) {
            auto it = sysfs->find(p.name);
            if (it != sysfs->end()) {
                p.addr = it->second;
                p.placement = Placement::Exact;
            } else {
                p.why = "not in the captured sysfs sections";
            }
            m.sections.push_back(std::move(p));
        }
    } else if (m.ko && m.proc) {
        m.layout = Placement::Reconstructed;
        m.sections = reconstruct_layout(*m.ko, m.proc->base, rules);
    } else if (m.ko) {
        m.layout = Placement::Relative;
        m.sections = relative_layout(*m.ko, rules);
    } else if (sysfs) {
        m.layout = Placement::Exact;
        for (const auto& [name, addr] : *sysfs) {
            PlacedSection p;
            p.name = name;
            p.addr = addr;
            p.placement = Placement::Exact;
            // layout_symtab() puts the module's full symtab in the init
            // allocation; before 6.4 anything outside the core allocation
            // is init too (from 6.4 core allocations lie anywhere).
            p.init = is_init_section(name, rules.arch) || name == ".symtab" || name == ".strtab" ||
                     (rules.era == ModuleMemoryEra::CoreInit && m.proc &&
                      (addr < m.proc->base || addr >= m.proc->base + m.proc->size));
            m.sections.push_back(std::move(p));
        }
    }
    sort_sections(m.sections);
    if (!m.ko) {
        // sysfs gives addresses only: a core section extends to the next one,
        // the last to the end of the /proc/modules allocation (before 6.4)
        // or of its page (from 6.4, where allocations are page-aligned and
        // the sum in /proc/modules bounds none of them). Init sections were
        // freed; their sizes stay unknown.
        PlacedSection* prev = nullptr;
        for (auto& s : m.sections) {
            if (s.init) continue;
            if (prev) prev->size = s.addr - prev->addr;
            prev = &s;
        }
        if (prev && rules.era == ModuleMemoryEra::PerType) prev->size = (prev->addr | 0xfff) + 1 - prev->addr;
        else if (prev && m.proc && m.proc->base + m.proc->size > prev->addr)
            prev->size = m.proc->base + m.proc->size - prev->addr;
    }
}

// A file with no DWARF that names its separate debug file (.gnu_debuglink,
// as stripped Fedora modules and vmlinux do): the debug file, found next to
// it or in .debug/, replaces it when its CRC-32 matches.
std::shared_ptr<const ElfFile> with_debuglink(Snapshot& snap, std::shared_ptr<const ElfFile> f) {
    if (f->has_dwarf()) return f;
    const auto link = read_debuglink(*f);
    if (!link) return f;
    const fs::path dir = fs::path(f->path()).parent_path();
    for (const fs::path& cand : {dir / link->name, dir / ".debug" / link->name}) {
        std::error_code ec;
        if (!fs::is_regular_file(cand, ec) || fs::equivalent(cand, f->path(), ec)) continue;
        if (file_crc32(cand.string()) != link->crc) {
            snap.notes.push_back("WARNING: " + cand.string() + " is named by " + f->path() +
                                 "'s .gnu_debuglink but its CRC differs: another build; not used");
            continue;
        }
        auto debug = ElfFile::open(cand.string());
        snap.notes.push_back(f->path() + ": DWARF from " + cand.string() + " (.gnu_debuglink, CRC matches)");
        return debug;
    }
    snap.notes.push_back(f->path() + ": no DWARF, and its .gnu_debuglink file " + link->name +
                         " is not beside it or in .debug/: symbol-only");
    return f;
}

// A module placed only section-relatively gets its load address from a
// frame that printed both an address and a symbol of it: the symbol's
// section is then at `address - offset - st_value`, and layout_sections()
// puts every other core section relative to it. Frames that disagree with
// the first are said loudly; frames in init sections fix nothing else.
void derive_layout(Snapshot& snap, Module& m, const std::vector<SnapshotInputs::Anchor>& anchors, const LayoutRules& rules) {
    if (m.layout != Placement::Relative || !m.ko) return;
    if (std::none_of(anchors.begin(), anchors.end(),
                     [&](const SnapshotInputs::Anchor& a) { return canonical_module_name(a.symbol.module) == m.name; }))
        return;  // no frame of this module printed an address: nothing to read
    std::optional<std::uint64_t> base;
    std::string how;
    const auto probe = reconstruct_layout(*m.ko, 0, rules);
    const auto syms = m.ko->symbols();
    for (const auto& a : anchors) {
        if (canonical_module_name(a.symbol.module) != m.name) continue;
        const ElfSymbol* sym = nullptr;
        for (const auto& e : syms)
            if (e.name == a.symbol.name && (e.type == STT_FUNC || !sym)) sym = &e;
        if (!sym) continue;
        const PlacedSection* sec = nullptr;
        for (const auto& p : probe)
            if (p.elf_index == sym->section) sec = &p;
        const std::string frame = a.symbol.name + "+" + hex(a.symbol.offset) + " printed at " + hex(a.address) + " (" + a.where + ")";
        if (!sec || sec->placement != Placement::Reconstructed) {
            snap.notes.push_back("module " + m.name + ": the frame " + frame +
                                 " is in an init section: it does not place the rest of the module");
            continue;
        }
        const std::uint64_t b = a.address - a.symbol.offset - sym->value - sec->addr;
        if (!base) {
            base = b;
            how = "derived from the frame " + frame;
        } else if (*base != b) {
            snap.notes.push_back("WARNING: module " + m.name + ": the frame " + frame + " puts the module at " + hex(b) +
                                 ", another frame at " + hex(*base) + "; keeping the first");
        }
    }
    if (!base) return;
    m.sections = reconstruct_layout(*m.ko, *base, rules);
    m.layout = Placement::Reconstructed;
    m.layout_how = how;
    snap.notes.push_back("module " + m.name + ": layout " + how + ": base " + hex(*base));
}

// 6.4+: the allocations /proc/modules does not give (data, rodata,
// ro_after_init) placed by the module's own kallsyms lines: a symbol the
// .ko has in a section of allocation T at st_value puts T's base at
// kallsyms address - (section offset in T + st_value). Every symbol of T
// that the .ko and kallsyms share must agree, or T stays unknown.
void place_from_kallsyms(Snapshot& snap, Module& m) {
    if (!m.ko || m.listed.empty() || m.layout != Placement::Reconstructed) return;
    std::map<std::size_t, const PlacedSection*> by_index;
    for (const auto& p : m.sections)
        if (p.placement == Placement::Undetermined && !p.init && p.offset) by_index[p.elf_index] = &p;
    if (by_index.empty()) return;
    std::map<std::string_view, std::uint64_t> listed;
    for (const auto& l : m.listed)
        if (!l.is_absolute()) listed.emplace(l.name, l.addr);
    struct Vote {
        std::optional<std::uint64_t> base;
        std::string example;
        bool conflict = false;
    };
    std::map<ModMemType, Vote> votes;
    for (const auto& e : m.ko->symbols()) {
        auto sec = by_index.find(e.section);
        if (sec == by_index.end() || e.name.empty()) continue;
        auto k = listed.find(e.name);
        if (k == listed.end()) continue;
        Vote& v = votes[sec->second->memory];
        const std::uint64_t base = k->second - *sec->second->offset - e.value;
        if (!v.base) {
            v.base = base;
            v.example = std::string(e.name) + " at " + hex(k->second);
        } else if (*v.base != base) {
            v.conflict = true;
        }
    }
    for (const auto& [type, v] : votes) {
        const std::string alloc(mod_mem_type_name(type));
        if (v.conflict) {
            snap.notes.push_back("WARNING: module " + m.name + ": its kallsyms symbols disagree on where " + alloc +
                                 " starts: left unknown");
            continue;
        }
        if (place_allocation(m.sections, type, *v.base) == 0) continue;
        m.layout_how += std::string(m.layout_how.empty() ? "" : "; ") + alloc + " at " + hex(*v.base) +
                        " from kallsyms (" + v.example + ")";
    }
    sort_sections(m.sections);
}

void use_dump_module(Snapshot& snap, Module& m, const VmcoreModule& vm) {
    if (snap.module_memory.per_type()) {
        for (ModMemType t : kAllModMemTypes)
            if (const auto& [base, size] = vm.mem[static_cast<int>(t)]; base && size)
                m.memory.push_back({std::string(mod_mem_type_name(t)), base, size});
    } else {
        if (vm.base && vm.size) m.memory.push_back({"core_layout", vm.base, vm.size});
        if (vm.init_base && vm.init_size) m.memory.push_back({"init_layout", vm.init_base, vm.init_size});
    }
    if (m.ko && m.layout == Placement::Reconstructed && snap.module_memory.per_type()) {
        for (ModMemType t : kAllModMemTypes)
            if (const auto& [base, size] = vm.mem[static_cast<int>(t)]; base && size)
                place_allocation(m.sections, t, base);
        m.layout_how = "allocations from the dump's mem[]";
        sort_sections(m.sections);
    }
    if (m.ko || vm.symbols.empty()) return;
    // kallsyms' view of the module, from the same table /proc/kallsyms reads.
    auto names = std::make_shared<std::vector<std::string>>();
    names->reserve(vm.symbols.size() + 1);
    names->push_back(m.name);
    for (const auto& s : vm.symbols) names->push_back(s.name);
    for (std::size_t i = 0; i < vm.symbols.size(); ++i)
        m.listed.push_back({vm.symbols[i].addr, vm.symbols[i].type, (*names)[i + 1], (*names)[0]});
    snap.owned_text.push_back(names);
    m.listed_from = "the dump's symbol table";
}

// Build-ids of the loaded modules from a captured sys/module tree
// (NAME/notes/.note.gnu.build-id); modules without the file are left out.
std::map<std::string, std::string> module_notes(const std::string& sys_module) {
    std::map<std::string, std::string> ids;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(sys_module, ec)) {
        const fs::path note = e.path() / "notes/.note.gnu.build-id";
        if (fs::is_regular_file(note, ec)) ids[e.path().filename().string()] = read_build_id_notes(note.string());
    }
    return ids;
}

// A module file built for another release than the kernel's (its
// vermagic) may still answer, but never as `exact`.
void doubt_module_release(Snapshot& snap, const Module& m) {
    if (!m.ko || snap.version.release.empty()) return;
    const std::string built = module_vermagic_release(*m.ko);
    if (built.empty() || built == snap.version.release) return;
    snap.doubted_files.emplace(m.ko->path(), Snapshot::Doubt{"built for " + built + ", the kernel is " + snap.version.release});
    snap.notes.push_back("WARNING: module " + m.name + ": " + m.ko->path() + " was built for " + built + ", not " +
                         snap.version.release + ": its answers are doubtful");
}

}  // namespace kaddr
