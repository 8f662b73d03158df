// load_snapshot(): reads each input once, derives what can be derived
// (architecture, KASLR offset, module layouts), cross-checks inputs against
// each other (vmlinux vs kallsyms, .ko vs sysfs), and records every choice
// and assumption in Snapshot::notes.
#include <gelf.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <unordered_map>

#include "kaddr/error.h"
#include "kaddr/lexemes.h"
#include "kaddr/snapshot.h"
#include "kaddr/elf_facts.h"
#include "core_image.h"
#include "cross_checks.h"
#include "debug_tree.h"
#include "debuginfod_fetch.h"
#include "listed_symbols.h"
#include "module_finder.h"
#include "module_placement.h"

namespace kaddr {

namespace fs = std::filesystem;

namespace {

template <class Parser>
auto parse_file(const std::string& path, Parser parse) {
    std::istringstream in = text_input_stream(path);  // refuses directories, binary, oversized input
    return parse(in, path);
}

std::string existing(const std::string& p) {
    std::error_code ec;
    return fs::exists(p, ec) ? p : std::string();
}

// Fills unset inputs from a captured tree (the -dbg package is expanded in
// load_snapshot, which needs the release first).
SnapshotInputs expand(SnapshotInputs in) {
    if (!in.snapshot_dir.empty()) {
        std::error_code ec;
        if (!fs::is_directory(in.snapshot_dir, ec))
            throw Error(in.snapshot_dir, "not a directory", "--snapshot takes a captured tree with proc/ and sys/");
        const fs::path d(in.snapshot_dir);
        if (in.kallsyms.empty()) in.kallsyms = existing(d / "proc/kallsyms");
        if (in.proc_modules.empty()) in.proc_modules = existing(d / "proc/modules");
        if (in.version.empty()) in.version = existing(d / "proc/version");
        if (in.sections.empty()) in.sections = existing(d / "sys/module");
        if (in.kernel_notes.empty()) in.kernel_notes = existing(d / "sys/kernel/notes");
    }
    return in;
}

const ListedSymbol* find_listed(const std::vector<ListedSymbol>& v, std::string_view name) {
    for (const auto& s : v)
        if (s.name == name) return &s;
    return nullptr;
}

// A core symbol table from an nm-style listing (kallsyms, or System.map
// moved by the KASLR offset).
void core_from_listing(CoreImage& core, const std::vector<ListedSymbol>& syms, std::uint64_t shift) {
    std::uint64_t lo = ~0ULL, hi = 0;
    const ListedSymbol* start = find_listed(syms, "_text");
    if (!start) start = find_listed(syms, "_stext");
    // x86_64's System.map lists per-cpu variables as D at their offsets
    // from 0 (kallsyms marks them A): in a 64-bit kernel those are not
    // addresses of the image.
    const bool high_kernel = start && start->addr >= 0xffff000000000000ULL;
    core.symbols.reserve(syms.size());
    for (const auto& s : syms) {
        if (s.is_absolute()) continue;
        if (high_kernel && s.addr < 0x0001000000000000ULL) continue;
        core.symbols.add(listed_entry(s, shift));
        lo = std::min(lo, s.addr + shift);
        hi = std::max(hi, s.addr + shift + 1);
    }
    const ListedSymbol* end = find_listed(syms, "_end");
    core.start = start ? std::min(start->addr + shift, lo) : lo;
    core.end = end ? end->addr + shift : hi;
    core.symbols.finalize(core.end);
}

// The kallsyms functions compared against vmlinux/System.map to prove they
// come from the same build: about one text symbol in 97.
void check_same_build(const std::vector<ListedSymbol>& sample,
                      const std::unordered_map<std::string_view, std::uint64_t>& link, std::int64_t offset,
                      const std::string& link_file, const std::string& kallsyms_file) {
    std::size_t compared = 0, differ = 0;
    std::string example;
    for (const ListedSymbol& k : sample) {
        auto it = link.find(k.name);
        if (it == link.end()) continue;
        ++compared;
        if (it->second + static_cast<std::uint64_t>(offset) != k.addr) {
            ++differ;
            if (example.empty())
                example = std::string(k.name) + " is at " + hex(k.addr) + " in kallsyms but " +
                          hex(it->second + static_cast<std::uint64_t>(offset)) + " in " + link_file;
        }
    }
    // An unrelated ELF with a symbol table shares few names with the capture.
    if (sample.size() >= 20 && compared * 2 < sample.size())
        throw Error(link_file, "shares only " + std::to_string(compared) + " of " + std::to_string(sample.size()) +
                                   " sampled function names with " + kallsyms_file + ": it is not this kernel's image",
                    "give the vmlinux/System.map of the kernel that produced the capture");
    if (compared >= 10 && differ * 20 > compared)
        throw Error(link_file, "is from another build than " + kallsyms_file + ": " + std::to_string(differ) + " of " +
                                   std::to_string(compared) + " sampled functions differ (" + example + ")",
                    "give the vmlinux/System.map of the kernel that produced the capture");
}

void build_core(Snapshot& snap, const SnapshotInputs& in, Listed& listed) {
    CoreImage& core = snap.core;
    std::optional<ImageIndex> index;
    std::string_view strtab;
    std::vector<ElfSymbol> elf_syms;
    const std::vector<ListedSymbol>& map_syms = listed.system_map;
    std::string link_file;
    if (core.vmlinux) {
        if (in.use_index) index = image_index(*core.vmlinux, in.index_dir.empty() ? default_index_dir() : in.index_dir);
        if (index) strtab = core.vmlinux->section_bytes(index->strtab_section);
        else elf_syms = core.vmlinux->symbols();
        if (elf_syms.empty() && (!index || index->symbols.empty()))
            snap.notes.push_back(in.vmlinux + ": no symbol table (stripped?)");
        link_file = in.vmlinux;
    } else if (!map_syms.empty()) {
        link_file = in.system_map;
    }
    const bool have_link = !elf_syms.empty() || !map_syms.empty() || (index && !index->symbols.empty());

    // Link-time addresses of only the names needed: the image bounds, the
    // KASLR anchors, the same-build sample, and frames printed with an address.
    const auto& sample = listed.core_sample;
    std::unordered_map<std::string_view, std::uint64_t> link;
    for (const char* n : {"_text", "_stext", "_end"}) link.emplace(n, 0);
    for (const ListedSymbol& k : sample) link.emplace(k.name, 0);
    for (const auto& a : in.anchors)
        if (a.symbol.module.empty()) link.emplace(a.symbol.name, 0);
    std::unordered_map<std::string_view, std::uint64_t> found;
    for (const auto& e : elf_syms)
        if (link.count(e.name)) found.emplace(e.name, e.value);
    if (index)
        for (const auto& [name, unused] : link)
            if (auto a = index->link_address(name, strtab)) found.emplace(name, *a);
    for (const auto& m : map_syms)
        if (link.count(m.name)) found.emplace(m.name, m.addr);
    link = std::move(found);
    auto link_of = [&](std::string_view n) -> std::optional<std::uint64_t> {
        auto it = link.find(n);
        return it == link.end() ? std::nullopt : std::optional<std::uint64_t>(it->second);
    };

    // KASLR offset: kallsyms _text (arm64 has only _stext) minus link-time.
    if (in.kaslr_offset) {
        core.kaslr_offset = in.kaslr_offset;
        core.kaslr_how = in.kaslr_offset_source;
    }
    if (listed.has_core && have_link) {
        for (const char* anchor : {"_text", "_stext"}) {
            const ListedSymbol* k = find_listed(listed.core_anchors, anchor);
            auto l = link.find(anchor);
            if (!k || l == link.end()) continue;
            std::int64_t off = static_cast<std::int64_t>(k->addr - l->second);
            if (core.kaslr_offset && *core.kaslr_offset != off)
                snap.notes.push_back("KASLR offset " + hex(static_cast<std::uint64_t>(*core.kaslr_offset)) + " (" +
                                     core.kaslr_how + ") disagrees with kallsyms " + anchor + " (" +
                                     hex(static_cast<std::uint64_t>(off)) + "); using kallsyms");
            core.kaslr_offset = off;
            core.kaslr_how = std::string("kallsyms ") + anchor + " - " + (core.vmlinux ? "vmlinux " : "System.map ") + anchor;
            check_same_build(sample, link, off, link_file, in.kallsyms);
            break;
        }
    }
    if (!core.kaslr_offset && have_link) {
        for (const auto& a : in.anchors) {
            if (!a.symbol.module.empty()) continue;
            auto l = link.find(a.symbol.name);
            if (l == link.end()) continue;
            core.kaslr_offset = static_cast<std::int64_t>(a.address - (l->second + a.symbol.offset));
            core.kaslr_how = "derived from the frame " + a.symbol.name + "+" + hex(a.symbol.offset) + " printed at " +
                             hex(a.address) + " (" + a.where + ")";
            break;
        }
    }
    if (!core.kaslr_offset && have_link) {
        core.kaslr_how = !listed.has_core ? "unknown: no kallsyms or Kernel Offset line; addresses are taken as link-time"
                                             : "unknown: kallsyms has neither _text nor _stext";
    }
    const std::uint64_t shift = static_cast<std::uint64_t>(core.kaslr_offset.value_or(0));

    if (core.vmlinux && have_link) {
        const auto [lo, hi] = image_range(*core.vmlinux, link_of("_text"), link_of("_end"));
        core.start = lo + shift;
        core.end = hi + shift;
        if (index) {
            index->load_into(core.symbols, strtab, shift);
            core.cu_ranges = index->cus;
            core.cu_storage = index->storage;
        } else {
            add_image_symbols(core.symbols, *core.vmlinux, elf_syms, shift);
            core.symbols.finalize(core.end);
        }
        core.symbols_from = "vmlinux symtab";
    } else if (listed.has_core) {
        core_from_listing(core, all_core(listed, in.kallsyms), 0);
        core.symbols_from = "kallsyms";
    } else if (!map_syms.empty()) {
        core_from_listing(core, map_syms, shift);
        core.symbols_from = "System.map";
    }
}

// Modules known only by kallsyms: each gets the runs of its symbols in
// address order that no other module's symbol interrupts, to the end of
// the last one's page (allocations are page-granular) or the next
// module's symbol, whichever comes first.
void set_listed_runs(std::vector<std::unique_ptr<Module>>& modules) {
    std::vector<std::pair<std::uint64_t, Module*>> all;
    for (auto& m : modules) {
        if (m->proc || !m->sections.empty()) continue;
        for (const auto& s : m->listed)
            if (!s.is_absolute()) all.emplace_back(s.addr, m.get());
    }
    std::sort(all.begin(), all.end());
    for (std::size_t i = 0; i < all.size();) {
        std::size_t j = i;
        while (j + 1 < all.size() && all[j + 1].second == all[i].second) ++j;
        std::uint64_t end = (all[j].first | 0xfff) + 1;
        if (j + 1 < all.size()) end = std::min(end, all[j + 1].first);
        all[i].second->listed_runs.emplace_back(all[i].first, std::max(end, all[j].first + 1));
        i = j + 1;
    }
}

// Sections known from sysfs alone (no .ko) have inferred sizes: each runs
// to its module's next section. From 6.4 that next section may lie in
// another allocation, with other modules' memory between: no inferred
// section runs past the next section of any module.
void clip_inferred_sizes(std::vector<std::unique_ptr<Module>>& modules) {
    std::vector<std::uint64_t> starts;
    for (const auto& m : modules)
        for (const auto& s : m->sections)
            if (!s.init && is_runtime(s.placement)) starts.push_back(s.addr);
    std::sort(starts.begin(), starts.end());
    for (auto& m : modules) {
        if (m->ko) continue;
        for (auto& s : m->sections) {
            if (s.init || !is_runtime(s.placement)) continue;
            auto next = std::upper_bound(starts.begin(), starts.end(), s.addr);
            if (next != starts.end() && s.addr + s.size > *next) s.size = *next - s.addr;
        }
    }
}

// The release: /proc/version's, else the report's. A report of another
// release than the capture is the wrong pairing and is said loudly.
void settle_release(Snapshot& snap, const SnapshotInputs& in) {
    if (!in.version.empty()) snap.version = parse_file(in.version, parse_proc_version);
    if (in.report_release.empty()) return;
    if (snap.version.release.empty()) {
        snap.version = version_from_release(in.report_release);
        snap.notes.push_back("release " + in.report_release + " from the report" +
                             (in.report_where.empty() ? "" : " (" + in.report_where + ")"));
    } else if (snap.version.release != in.report_release) {
        snap.notes.push_back("WARNING: the report" + (in.report_where.empty() ? "" : " (" + in.report_where + ")") +
                             " is from kernel " + in.report_release + " but " + in.version + " says " +
                             snap.version.release + ": the capture is of another kernel");
    }
}

// Finds this kernel's files in a debug tree. Several kernels: the release
// chooses, and the choice is said; none of this release: a loud warning,
// and the files of the only other kernel, if there is exactly one, are
// used but doubted.
DebugTree use_debug_tree(Snapshot& snap, SnapshotInputs& in, ModuleFiles& module_files, std::string& doubt) {
    DebugTree tree(in.debug_root);
    std::string release = snap.version.release;
    std::string list;
    for (const auto& r : tree.releases()) list += (list.empty() ? "" : ", ") + r;
    if (release.empty()) {
        if (tree.releases().empty())
            throw Error(in.debug_root, "holds no kernel (no boot/vmlinux-* or lib/modules/*)", "is this an extracted -dbg package?");
        if (tree.releases().size() > 1)
            throw Error(in.debug_root, "holds several kernels (" + list + ") and nothing says which crashed",
                        "give --version, --snapshot, or a report that prints its release");
        release = tree.releases().front();
        snap.version = version_from_release(release);
    }
    KernelDebugFiles k = tree.kernel(release);
    if (k.vmlinux.empty() && k.modules_dir.empty()) {
        std::string msg = "WARNING: " + in.debug_root + " has no debug files for " + release + " (it has: " +
                          (list.empty() ? "none" : list) + ")";
        if (tree.releases().size() == 1) {
            k = tree.kernel(tree.releases().front());
            doubt = "debug files of " + k.release + ", but the kernel is " + release;
            msg += "; using " + k.release + "'s: every answer from them is doubtful";
        }
        snap.notes.push_back(msg);
    } else if (tree.releases().size() > 1) {
        snap.notes.push_back(in.debug_root + ": chose " + release + " (" + k.convention + " layout) of " + list);
    }
    if (in.vmlinux.empty()) in.vmlinux = k.vmlinux;
    if (in.system_map.empty()) in.system_map = k.system_map;
    if (in.vmlinux.empty() && !k.release.empty())
        snap.notes.push_back(in.debug_root + ": no vmlinux for " + k.release);
    if (!k.modules_dir.empty()) {
        scan_module_dir(k.modules_dir, module_files);
        snap.module_dirs.push_back(k.modules_dir);
    }
    return tree;
}

}  // namespace


std::unique_ptr<Snapshot> load_snapshot(const SnapshotInputs& raw) {
    SnapshotInputs in = expand(raw);
    auto snap = std::make_unique<Snapshot>();
    snap->source_index = {in.use_index, in.build_source_index,
                          in.index_dir.empty() ? default_index_dir() : in.index_dir, 0};
    settle_release(*snap, in);
    if (!in.vmcore.empty() && !in.vmcore_facts) in.vmcore_facts = read_vmcore_facts(in);
    if ((snap->vmcore = in.vmcore_facts)) {  // the dump's own word beats a capture's
        const VmcoreFacts& f = *snap->vmcore;
        snap->version = version_from_release(f.release);
        in.kaslr_offset = f.kaslr_offset;
        in.kaslr_offset_source = "VMCOREINFO KERNELOFFSET (" + f.dump->path() + ")";
        if (in.vmlinux.empty()) in.vmlinux = f.vmlinux;
        snap->notes.insert(snap->notes.end(), f.notes.begin(), f.notes.end());
    }

    ModuleFiles module_files;
    for (const auto& d : in.module_dirs) scan_module_dir(d, module_files);
    snap->module_dirs = in.module_dirs;
    std::string doubt;  // why the debug tree's files may not be this kernel's
    std::optional<DebugTree> tree;
    if (!in.debug_root.empty()) tree = use_debug_tree(*snap, in, module_files, doubt);
    // A file by build-id: the debug tree's .build-id/ directory, then debuginfod.
    auto by_build_id = [&](const std::string& id, const std::string& what, std::string& source) -> std::string {
        if (tree)
            if (std::string p = tree->by_build_id(id); !p.empty()) {
                source = "build-id path";
                return p;
            }
        if (!in.use_debuginfod) return {};
        Fetched f = fetch_debuginfo(id);
        if (f.path.empty()) {
            snap->notes.push_back(what + ": " + f.why);
            return {};
        }
        source = "debuginfod";
        snap->notes.push_back(what + ": debug file from debuginfod: " + f.path);
        return f.path;
    };
    // The running image's build-id (a captured /sys/kernel/notes) finds or checks vmlinux.
    const std::string kernel_id = in.kernel_notes.empty() ? std::string() : read_build_id_notes(in.kernel_notes);
    if (in.vmlinux.empty() && !kernel_id.empty()) {
        std::string source;
        in.vmlinux = by_build_id(kernel_id, "vmlinux (build-id " + kernel_id + ")", source);
    }
    for (const auto& f : in.ko_files) {
        std::string name = module_name_of_file(fs::path(f).filename().string());
        if (name.empty()) throw Error(f, "not a module file name", "expected NAME.ko, NAME.ko.xz, NAME.ko.zst or NAME.ko.gz");
        auto& v = module_files[name];
        v.insert(v.begin(), f);  // explicit files are tried first
    }
    // A sys/module tree is hundreds of small files (3 system calls each):
    // read on a second thread while this one opens vmlinux and reads
    // kallsyms, and then that thread opens the loaded modules' files. The
    // sections are taken where they were read before, so an error in them
    // still comes after an earlier input's; a file that fails to open here
    // is opened again, and its error said, when the module is placed.
    // (module_files is not changed until then.)
    struct SysfsAhead {
        SectionAddresses sysfs;
        OpenedFiles opened;
    };
    std::future<SysfsAhead> sysfs_read = std::async(
        in.sections.empty() ? std::launch::deferred : std::launch::async, [sections = in.sections, &module_files] {
            SysfsAhead ahead;
            std::error_code ec;
            if (sections.empty()) return ahead;
            ahead.sysfs = fs::is_directory(sections, ec) ? read_sysfs_sections(sections) : parse_file(sections, parse_section_list);
            for (const auto& [name, unused] : ahead.sysfs)
                if (auto files = module_files.find(name); files != module_files.end())
                    for (const auto& path : files->second) try {
                            ahead.opened.emplace(path, ElfFile::open(path));
                        } catch (const Error&) {
                        }
            return ahead;
        });
    {
        std::string where;
        for (const auto& d : in.module_dirs) where += (where.empty() ? "--modules " : ", --modules ") + d;
        if (!in.debug_root.empty()) where += (where.empty() ? "--debug-root " : ", --debug-root ") + in.debug_root;
        snap->module_search = where;
    }

    if (!in.vmlinux.empty()) {
        snap->core.vmlinux = with_debuglink(*snap, ElfFile::open(in.vmlinux));
        if (snap->core.vmlinux->type() == ET_REL)
            throw Error(in.vmlinux, "is a module (ET_REL), not vmlinux", "pass modules with --ko or --modules");
        if (!snap->core.vmlinux->has_dwarf())
            snap->notes.push_back(in.vmlinux + ": no DWARF; core-kernel answers are symbol-only");
        snap->core.dwarf_unusable = dwarf_unreadable_reason(*snap->core.vmlinux);
        if (!snap->core.dwarf_unusable.empty()) snap->notes.push_back(snap->core.dwarf_unusable);
        if (!doubt.empty()) snap->doubted_files.emplace(snap->core.vmlinux->path(), Snapshot::Doubt{doubt});
        const std::string& have = snap->core.vmlinux->build_id();
        if (!kernel_id.empty() && !have.empty() && have != kernel_id) {
            const std::string why = "BUILD-ID MISMATCH: the crashed kernel's build-id is " + kernel_id + " (" +
                                    in.kernel_notes + "), this file's is " + have +
                                    " (give the debug vmlinux of the build that crashed)";
            snap->doubted_files[snap->core.vmlinux->path()] = Snapshot::Doubt{why, true};
            snap->notes.push_back("WARNING: " + in.vmlinux + ": " + why);
        }
    }

    Listed listed;
    if (!in.kallsyms.empty()) {
        TextFile text = read_text_file(in.kallsyms);
        snap->owned_text.push_back(text.storage);  // the symbol tables point into it
        read_kallsyms(listed, text.text, in.kallsyms, !snap->core.vmlinux && in.system_map.empty());
        snap->has_kallsyms = true;
    }

    // Architecture: explicit, else vmlinux, else release, else the report, else an address.
    snap->arch = arch_from_name(in.arch);
    if (!in.arch.empty() && snap->arch == Arch::Unknown)
        throw Error("--arch", "unknown architecture '" + in.arch + "'", "use x86_64, arm64 or arm");
    if (snap->core.vmlinux) {
        const Arch image = elf_arch(*snap->core.vmlinux);
        const Arch report = in.report_arch != Arch::Unknown ? in.report_arch : arch_from_name(in.report_release);
        if (report != Arch::Unknown && image != Arch::Unknown && image != report)
            throw Error(in.vmlinux, "is an " + std::string(arch_name(image)) + " kernel, but the report" +
                                        (in.report_where.empty() ? "" : " (" + in.report_where + ")") + " is from " +
                                        std::string(arch_name(report)),
                        "give the vmlinux of the kernel that crashed");
        if (snap->arch == Arch::Unknown) snap->arch = image;
    }
    if (snap->arch == Arch::Unknown) snap->arch = arch_from_name(snap->version.release);
    if (snap->arch == Arch::Unknown) snap->arch = in.report_arch;
    if (!in.system_map.empty() && !snap->core.vmlinux) {
        SymbolList list = parse_system_map(read_text_file(in.system_map), in.system_map);
        snap->owned_text.push_back(list.storage);
        listed.system_map = std::move(list.symbols);
    }
    for (const auto* syms : {&listed.core_anchors, &listed.system_map})  // a text address of either listing
        if (snap->arch == Arch::Unknown)
            if (const ListedSymbol* t = find_listed(*syms, "_stext")) snap->arch = arch_from_kernel_address(t->addr);

    build_core(*snap, in, listed);

    // The module-memory era, once, for every consumer below; the kernel's
    // DWARF is read for it only when there are modules to lay out.
    const bool any_modules = !in.proc_modules.empty() || !in.sections.empty() || !listed.modules.empty() ||
                             !in.ko_files.empty() || !in.report_modules.empty() || !in.link_time_modules.empty() ||
                             snap->vmcore;
    if (snap->vmcore && snap->vmcore->modules_walked) {
        snap->module_memory = snap->vmcore->module_memory;
    } else if (any_modules) {
        std::string disagreement;
        snap->module_memory = module_memory_of(snap->core.dwarf_unusable.empty() ? snap->core.vmlinux.get() : nullptr,
                                               snap->version.major, snap->version.minor, &disagreement);
        if (!disagreement.empty()) snap->notes.push_back("WARNING: " + disagreement);
    }

    std::vector<ProcModule> procs;
    if (!in.proc_modules.empty()) {
        procs = parse_file(in.proc_modules, parse_proc_modules);
        check_proc_modules(procs, snap->arch, snap->module_memory, in.proc_modules);
        check_modules_against_kallsyms(procs, listed.modules, in.proc_modules, in.kallsyms);
    }
    SysfsAhead ahead = sysfs_read.get();
    SectionAddresses& sysfs = ahead.sysfs;

    if (snap->vmcore && snap->vmcore->modules_walked) {
        if (!procs.empty() || !sysfs.empty()) snap->notes.push_back("modules: the dump's module list replaces the capture's");
        procs.clear();
        sysfs.clear();
        for (const auto& vm : snap->vmcore->modules) {
            procs.push_back({vm.name, vm.size + vm.init_size, vm.base, std::string(module_state_name(vm.state)), vm.taint});
            if (!vm.sections.empty()) sysfs[vm.name] = vm.sections;
        }
    }
    std::set<std::string> sys_from_capture;  // the others are -e modules at link-time addresses
    for (const auto& [n, secs] : sysfs) sys_from_capture.insert(n);
    for (const auto& f : in.link_time_modules) {
        const std::string name = module_name_of_file(fs::path(f).filename().string());
        const bool placed = sysfs.count(name) || std::any_of(procs.begin(), procs.end(), [&](const ProcModule& p) { return p.name == name; });
        if (placed) continue;
        // As addr2line -e reads a module: addresses are offsets into .text.
        // The other sections follow it (a section-relative layout moved so
        // that .text is at 0), so data and DWARF relocations resolve too.
        std::shared_ptr<const ElfFile> ko;
        try {
            ko = ElfFile::open(f);
        } catch (const Error&) {
            continue;  // said when the module's files are tried
        }
        LayoutRules rules;
        rules.arch = snap->arch;
        rules.era = snap->module_memory.era;
        const auto layout = relative_layout(*ko, rules);
        const auto text = std::find_if(layout.begin(), layout.end(), [](const PlacedSection& p) { return p.name == ".text"; });
        const std::uint64_t origin = text == layout.end() ? 0 : text->addr;
        for (const auto& p : layout)
            if (p.addr >= origin) sysfs[name][p.name] = p.addr - origin;
        snap->notes.push_back(f + ": not loaded in this snapshot; read at its link-time addresses (.text at 0), as addr2line -e reads a module");
    }
    std::set<std::string> given_ko;  // modules named by an explicit --ko file
    for (const auto& f : in.ko_files) {
        given_ko.insert(module_name_of_file(fs::path(f).filename().string()));
        // A module file of another architecture given by name is a mistake,
        // not a candidate. (One that cannot be opened is skipped, with the
        // reason, when the module's files are tried.)
        std::shared_ptr<const ElfFile> ko;
        try {
            ko = ElfFile::open(f);
        } catch (const Error&) {
            continue;
        }
        if (const Arch a = elf_arch(*ko); snap->arch != Arch::Unknown && a != snap->arch)
            throw Error(f, "is an " + std::string(arch_name(a)) + " module, but the kernel is " +
                               std::string(arch_name(snap->arch)),
                        "give the module built for the kernel that crashed");
    }
    std::set<std::string> names = given_ko;
    for (const auto& p : procs) names.insert(p.name);
    for (const auto& [n, v] : sysfs) names.insert(n);
    for (const auto& [n, v] : listed.modules) names.insert(n);
    // Modules the report's frames name: looked for in the module trees even
    // with no capture listing them (their layout is then section-relative).
    // Build-ids: the capture's notes, else what the report printed; both
    // given and different is the wrong pairing, said loudly.
    std::map<std::string, std::string> want_ids;
    for (const auto& [n, id] : in.report_build_ids) want_ids[canonical_module_name(n)] = id;
    if (!in.sections.empty() && fs::is_directory(in.sections))
        for (const auto& [n, id] : module_notes(in.sections)) {
            auto [it, fresh] = want_ids.emplace(n, id);
            if (!fresh && !id.starts_with(it->second))
                snap->notes.push_back("WARNING: module " + n + ": the report prints build-id " + it->second +
                                      " but the capture's notes say " + id + ": they are not of the same build");
            it->second = id;
        }
    std::map<std::string, std::string> ko_source;  // module -> where its file was found by build-id
    std::set<std::string> from_report;
    for (const auto& n : in.report_modules) {
        const std::string c = canonical_module_name(n);
        if (!module_files.count(c) && want_ids.count(c) && want_ids[c].size() == 40) {
            std::string source;
            if (std::string p = by_build_id(want_ids[c], "module " + c + " (build-id " + want_ids[c] + ")", source); !p.empty()) {
                module_files[c].push_back(p);
                ko_source[c] = source;
            }
        }
        if (module_files.count(c)) from_report.insert(c);
        else if (!names.count(c))
            snap->missing_modules[c] = {snap->module_search.empty()
                                            ? "no module file: give --modules DIR, --debug-root DIR or --ko FILE"
                                            : "no " + c + ".ko in " + snap->module_search};
    }
    names.insert(from_report.begin(), from_report.end());

    LayoutRules rules;
    rules.arch = snap->arch;
    rules.era = snap->module_memory.era;
    if (snap->module_memory.assumed && !names.empty()) snap->notes.push_back("module layouts: " + snap->module_memory.how);
    for (const auto& name : names) {
        auto m = std::make_unique<Module>();
        m->name = name;
        for (const auto& p : procs)
            if (p.name == name) m->proc = p;
        auto sys = sysfs.find(name);
        const auto* sysmap = sys == sysfs.end() ? nullptr : &sys->second;
        // Modules with no sections and no base in the capture (built-in ones
        // listed in sys/module) are not loaded modules.
        if (!m->proc && !sysmap && !listed.modules.count(name) && !given_ko.count(name) && !from_report.count(name))
            continue;
        if (auto id = want_ids.find(name); id != want_ids.end()) m->build_id = id->second;
        if (auto it = module_files.find(name); it != module_files.end())
            m->ko = choose_ko(*snap, *m, it->second, sysmap, rules, m->build_id, ahead.opened);
        if (m->ko && ko_source.count(name)) m->ko_source = ko_source[name];
        // A stripped module file (no DWARF, no .gnu_debuglink match) whose
        // build-id the debug tree or debuginfod knows: that debug file answers.
        if (m->ko && !m->ko->has_dwarf() && !m->ko->build_id().empty()) {
            const std::string id = m->ko->build_id();
            std::string source;
            if (std::string p = by_build_id(id, "module " + name + " (build-id " + id + ")", source); !p.empty()) try {
                    auto debug = ElfFile::open(p);
                    if (debug->type() == ET_REL && debug->has_dwarf() && debug->build_id() == id) {
                        snap->notes.push_back("module " + name + ": " + m->ko->path() + " has no DWARF; its debug file " +
                                              p + " has the same build-id (" + source + ")");
                        m->ko = std::move(debug);
                        m->ko_source = source;
                    }
                } catch (const Error& e) {
                    snap->notes.push_back("module " + name + ": " + e.what());
                }
        }
        if (m->ko) m->dwarf_unusable = dwarf_unreadable_reason(*m->ko);
        if (!m->dwarf_unusable.empty()) snap->notes.push_back("module " + m->name + ": " + m->dwarf_unusable);
        if (from_report.count(name) && !m->ko && !m->proc && !sysmap && !listed.modules.count(name)) {
            snap->missing_modules[name] = {m->ko_choice.empty() ? "no usable module file (see the notes)" : m->ko_choice,
                                           m->rejected_build_id};
            continue;
        }
        place_sections(*m, sysmap, rules);
        derive_layout(*snap, *m, in.anchors, rules);
        if (sysmap && snap->vmcore) m->exact_from = "vmcore";
        if (sysmap && !sys_from_capture.count(name)) m->exact_from = "link-time (-e)";
        if (auto lm = listed.modules.find(name); lm != listed.modules.end()) m->listed = std::move(lm->second);
        if (rules.era == ModuleMemoryEra::PerType) place_from_kallsyms(*snap, *m);
        if (snap->vmcore)
            for (const auto& vm : snap->vmcore->modules)
                if (vm.name == name) use_dump_module(*snap, *m, vm);
        if (m->ko && !doubt.empty() && m->ko->path().starts_with(in.debug_root))
            snap->doubted_files.emplace(m->ko->path(), Snapshot::Doubt{doubt});
        doubt_module_release(*snap, *m);
        snap->modules.push_back(std::move(m));
    }
    set_listed_runs(snap->modules);
    clip_inferred_sizes(snap->modules);
    snap->seal_module_bounds();
    return snap;
}

}  // namespace kaddr
