// One immutable description of a kernel snapshot: architecture, release,
// KASLR offset and how it was derived, the core image's symbols, and every
// loaded module with its base, size and each section's address marked
// exact (sysfs) or reconstructed. Built once from whatever inputs the user
// has; every resolver reads it, nothing writes it afterwards (the DWARF
// sessions inside are created lazily and are thread-safe).
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kaddr/arch.h"
#include "kaddr/dwarf_source.h"
#include "kaddr/elf_file.h"
#include "kaddr/image_index.h"
#include "kaddr/inputs.h"
#include "kaddr/lexemes.h"
#include "kaddr/module_layout.h"
#include "kaddr/symbol_table.h"

namespace kaddr {

// What the user gave; any subset works.
struct SnapshotInputs {
    std::string snapshot_dir;   // a captured tree: proc/{kallsyms,modules,version}, sys/module
    std::string vmlinux, system_map, kallsyms, proc_modules, sections, version;
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
    bool use_index = true;      // the persisted vmlinux index (see image_index.h)
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
    mutable std::unique_ptr<DwarfSource> dwarf;
};

struct Module {
    std::string name;
    std::optional<ProcModule> proc;
    std::vector<PlacedSection> sections;   // sorted by address, placed ones first
    Placement layout = Placement::Undetermined;  // exact (sysfs) or reconstructed
    std::shared_ptr<const ElfFile> ko;
    std::string ko_choice;                 // which file, and why
    SymbolTable symbols;                   // runtime addresses
    std::string symbols_from;              // "module symtab" or "kallsyms"
    mutable std::once_flag dwarf_once;
    mutable std::unique_ptr<DwarfSource> dwarf;
    mutable std::string dwarf_error;

    const PlacedSection* section_at(std::uint64_t addr) const;
};

class Snapshot {
public:
    Arch arch = Arch::Unknown;
    KernelVersion version;
    CoreImage core;
    std::vector<std::unique_ptr<Module>> modules;
    std::vector<std::string> notes;  // what was chosen or assumed, and what is missing
    bool has_kallsyms = false;
    std::vector<std::shared_ptr<const void>> owned_text;  // capture text the symbol names point into

    const Module* module_at(std::uint64_t addr) const;
    const Module* module_named(const std::string& name) const;
    bool in_core(std::uint64_t addr) const { return core.end > core.start && addr >= core.start && addr < core.end; }
    // Runtime <-> link-time for the core image (identity when unknown).
    std::uint64_t to_link(std::uint64_t runtime) const;
    DwarfSource* core_dwarf() const;
    DwarfSource* module_dwarf(const Module& m) const;
};

// Throws Error on unreadable or inconsistent inputs (naming the file).
std::unique_ptr<Snapshot> load_snapshot(const SnapshotInputs& in);

}  // namespace kaddr
