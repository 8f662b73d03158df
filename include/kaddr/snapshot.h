// One immutable description of a kernel snapshot: architecture, release,
// KASLR offset and how it was derived, the core image's symbols, and every
// loaded module with its base, size and each section's address marked
// exact (sysfs) or reconstructed. Built once from whatever inputs the user
// has; every resolver reads it, nothing writes it afterwards (the DWARF
// sessions inside are created lazily and are thread-safe).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kaddr/arch.h"
#include "kaddr/dwarf_source.h"
#include "kaddr/elf_file.h"
#include "kaddr/image_index.h"
#include "kaddr/source_index.h"
#include "kaddr/inputs.h"
#include "kaddr/lexemes.h"
#include "kaddr/module_layout.h"
#include "kaddr/module_memory.h"
#include "kaddr/symbol_table.h"
#include "kaddr/vmcore_facts.h"

namespace kaddr {

// What the user gave; any subset works.
struct SnapshotInputs {
    std::string snapshot_dir;   // a captured tree: proc/{kallsyms,modules,version}, sys/module
    std::string vmlinux, system_map, kallsyms, proc_modules, sections, version;
    std::string kernel_notes;   // /sys/kernel/notes (the running image's build-id)
    std::string debug_root;     // an extracted -dbg package
    std::vector<std::string> module_dirs;  // searched recursively for .ko[.xz|.zst|.gz]
    std::vector<std::string> ko_files;     // explicit module files
    // Modules read as addr2line reads a .ko (`resolve -e FILE.ko`): when
    // nothing says where the module was loaded, .text sits at address 0.
    std::vector<std::string> link_time_modules;
    std::string arch;
    std::optional<std::int64_t> kaslr_offset;  // from `Kernel Offset:` or the user
    std::string kaslr_offset_source;
    // Frames printed with both an address and a core symbol: with a vmlinux
    // or System.map they give the KASLR offset when nothing else does.
    struct Anchor {
        std::uint64_t address;
        SymbolRef symbol;
        std::string where;
    };
    std::vector<Anchor> anchors;
    // What the crash report says of its kernel (see report_facts.h), used
    // where no capture says it and checked against it where one does.
    std::string report_release;             // from `CPU: ... Tainted: ... RELEASE #1` or `Linux version`
    std::string report_where;               // file:line of the report, for messages
    std::vector<std::string> report_modules;  // modules its frames name (`[mod]`): looked for in the module trees
    std::map<std::string, std::string> report_build_ids;  // module -> build-id printed as `[mod id]`
    Arch report_arch = Arch::Unknown;       // from the report's register and frame shapes
    bool use_debuginfod = true; // fetch missing debug files by build-id ($DEBUGINFOD_URLS)
    // A kdump vmcore: its release, KASLR offset, build-id and exact module
    // layout replace a capture's (read by read_vmcore_facts unless given).
    std::string vmcore;
    std::shared_ptr<const VmcoreFacts> vmcore_facts;
    bool use_index = true;      // the persisted indexes (image_index.h, source_index.h)
    bool build_source_index = false;  // build a debug file's source index on first use (batch, index)
    std::string index_dir;      // default: default_index_dir()
};

struct CoreImage {
    std::shared_ptr<const ElfFile> vmlinux;
    SymbolTable symbols;          // runtime addresses
    std::string symbols_from;     // "vmlinux symtab", "kallsyms", "System.map"
    std::optional<std::int64_t> kaslr_offset;
    std::string kaslr_how;        // how the offset was derived, or why it is unknown
    std::uint64_t start = 0, end = 0;  // runtime range of the image
    std::span<const CuRange> cu_ranges;  // from the persisted index; empty: libdwfl finds CUs itself
    std::shared_ptr<const void> cu_storage;  // what cu_ranges points into
    mutable std::once_flag dwarf_once;
    mutable std::shared_ptr<LocationSource> dwarf;  // shared by every snapshot of the same vmlinux
    mutable std::string dwarf_error;  // why `dwarf` could not be opened (names the file)
    std::string dwarf_unusable;   // why vmlinux's DWARF cannot be read (then answers are symbol-only)
};

// A symbol table entry for a listed (kallsyms, System.map) symbol moved by `shift`.
SymbolTable::Entry listed_entry(const ListedSymbol& s, std::uint64_t shift);

// One of a loaded module's memory allocations as a dump names it: from 6.4
// mem[MOD_TEXT..] ("MOD_DATA"), before "core_layout" / "init_layout".
struct ModuleAllocation {
    std::string name;
    std::uint64_t base = 0, size = 0;
};

struct Module {
    std::string name;
    std::optional<ProcModule> proc;
    std::vector<ModuleAllocation> memory;  // known from a dump; empty otherwise
    std::vector<PlacedSection> sections;   // sorted by address, placed ones first
    Placement layout = Placement::Undetermined;  // exact (sysfs, vmcore), reconstructed, or section-relative
    std::string layout_how;                // where the layout came from, when it was derived from a report's frame
    std::string exact_from = "sysfs";      // where exact addresses come from: "sysfs" or "vmcore"
    std::shared_ptr<const ElfFile> ko;
    std::string ko_choice;                 // which file, and why
    std::string ko_source;                 // "debuginfod" or "build-id path" when found by build-id, else ""
    bool rejected_build_id = false;        // every file found was another build (ko_choice says which)
    std::string build_id;                  // the loaded module's, from the report or the capture's notes
    std::vector<ListedSymbol> listed;      // its kallsyms lines (views into the capture's text)
    std::string listed_from = "kallsyms";  // or "the dump's symbol table" (mod->kallsyms)
    // Only kallsyms knows the module: the runs of its symbols that no other
    // module's symbol interrupts stand in for its allocations ([first, end
    // of the last one's page), never past the next module's symbol). One
    // run before 6.4; from 6.4 one per allocation, interleaved with other
    // modules' allocations.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> listed_runs;
    // Runtime addresses: the .ko's symbol table at the placed sections, else
    // its kallsyms lines. Built on first use: a run asks about few of the
    // loaded modules, and reading a symbol table is most of a module's cost.
    const SymbolTable& symbols() const;
    const std::string& symbols_from() const;  // "module symtab" or "kallsyms"
    mutable std::once_flag dwarf_once;
    mutable std::unique_ptr<LocationSource> dwarf;
    mutable std::string dwarf_error;
    std::string dwarf_unusable;            // why its DWARF cannot be read (see elf_facts.h)

    const PlacedSection* section_at(std::uint64_t addr) const;

private:
    void build_symbols() const;
    mutable std::once_flag symbols_once_;
    mutable SymbolTable symbols_;
    mutable std::string symbols_from_;
};

class Snapshot {
public:
    Arch arch = Arch::Unknown;
    KernelVersion version;
    ModuleMemoryModel module_memory;  // the era of the module layouts, and where it was read
    CoreImage core;
    std::vector<std::unique_ptr<Module>> modules;
    std::vector<std::string> notes;  // what was chosen or assumed, and what is missing
    // Debug files that disagree with the crash (another release, another
    // build-id): path -> why. Every answer from such a file says so and is
    // never `exact`.
    struct Doubt {
        std::string why;
        bool build_id_mismatch = false;  // then the file's answers are errors, not guesses
    };
    std::map<std::string, Doubt> doubted_files;
    std::string module_search;       // where module files were looked for (for "not found" messages)
    std::vector<std::string> module_dirs;  // the directories searched for module files (--modules, the debug tree's)
    // Modules the report names that have no usable file: name -> why.
    struct Missing {
        std::string why;
        bool build_id_mismatch = false;  // its only files are another build's
    };
    std::map<std::string, Missing> missing_modules;
    std::shared_ptr<const VmcoreFacts> vmcore;  // the dump it came from, if any
    bool has_kallsyms = false;
    std::vector<std::shared_ptr<const void>> owned_text;  // capture text the symbol names point into
    std::optional<std::pair<std::uint64_t, std::uint64_t>> module_bounds;  // see seal_module_bounds()

    const Module* module_at(std::uint64_t addr) const;
    // Done by load_snapshot once the modules are final: the span every
    // module address lies in, so module_at() rejects core-kernel addresses
    // without scanning every section (it was 15% of a 100,000-address run).
    void seal_module_bounds();
    const Module* module_named(const std::string& name) const;
    bool in_core(std::uint64_t addr) const { return core.end > core.start && addr >= core.start && addr < core.end; }
    // Runtime <-> link-time for the core image (identity when unknown).
    std::uint64_t to_link(std::uint64_t runtime) const;
    SourceIndexPolicy source_index;  // where locations come from: an index or DWARF
    // Source locations of the core image (link-time addresses) and of a
    // module (runtime addresses); nullptr without DWARF.
    LocationSource* core_dwarf() const;
    LocationSource* module_dwarf(const Module& m) const;
};

// Throws Error on unreadable or inconsistent inputs (naming the file).
std::unique_ptr<Snapshot> load_snapshot(const SnapshotInputs& in);

}  // namespace kaddr
