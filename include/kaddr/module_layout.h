// Where each section of a loaded module lives. Exact addresses come from
// /sys/module/<m>/sections; without them, the layout is reconstructed from
// the /proc/modules base and the .ko's section headers the way the kernel's
// load_module() -> layout_sections() places them for that release. The
// trap this avoids: a section's address is NOT base + sh_offset.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kaddr/arch.h"
#include "kaddr/elf_file.h"
#include "kaddr/module_memory.h"

namespace kaddr {

// Exact (sysfs, a vmcore) and Reconstructed (layout_sections() from a known
// base) addresses are runtime addresses. Relative ones are not: with no
// load address at all (a report and the .ko, no capture) each section gets
// a place in a private layout so that symbols and DWARF still answer in
// section-relative terms (`.text+0x4f`), and no runtime lookup can land there.
enum class Placement { Exact, Reconstructed, Relative, Undetermined };
std::string_view placement_name(Placement p);
inline bool is_runtime(Placement p) { return p == Placement::Exact || p == Placement::Reconstructed; }

struct PlacedSection {
    std::string name;
    std::size_t elf_index = 0;    // 0: not in the .ko (address known from sysfs only)
    std::uint64_t addr = 0;       // valid unless Undetermined
    std::uint64_t size = 0;
    bool init = false;            // in the init allocation (freed after init)
    Placement placement = Placement::Undetermined;
    std::string why;              // for Undetermined: the reason
    // The memory type layout_sections() gives it (6.4+: the allocation it
    // is in; before 6.4: the pass that placed it in the core or init
    // allocation), and its offset from that allocation's start, which is
    // known from the .ko alone even when the allocation's base is not.
    ModMemType memory = ModMemType::Text;
    std::optional<std::uint64_t> offset;  // nullopt: not laid out by the loader (sysfs only)
};

struct LayoutRules {
    Arch arch = Arch::Unknown;
    ModuleMemoryEra era = ModuleMemoryEra::CoreInit;  // see module_memory.h
    std::uint64_t page_size = 4096; // CONFIG_STRICT_MODULE_RWX aligns each pass to a page
    bool randomize_base = true;     // arm64: PLTs only counted with KASLR
};

// The kernel's offsets for every SHF_ALLOC section of `ko`, with the
// /proc/modules base at `base` (the core allocation before 6.4, MOD_TEXT
// from 6.4). Init sections, and in the 6.4+ era every section outside the
// text allocation, come out Undetermined with the reason (naming the
// allocation whose base is unknown) and their offset in it.
std::vector<PlacedSection> reconstruct_layout(const ElfFile& ko, std::uint64_t base, const LayoutRules& rules);

// Places every section of allocation `type` (6.4+) at `base` + its offset,
// as Reconstructed; returns how many were placed.
std::size_t place_allocation(std::vector<PlacedSection>& sections, ModMemType type, std::uint64_t base);

// module_init_layout_section(): .init* (and on 32-bit ARM its unwind tables).
bool is_init_section(const std::string& name, Arch arch);

// Every loadable section (init ones too) in a private layout with the
// kernel's own offsets inside each allocation (so spans equal the sizes the
// kernel prints), each allocation at its own private base:
// Placement::Relative.
std::vector<PlacedSection> relative_layout(const ElfFile& ko, const LayoutRules& rules);

// The sections the kernel would list in sysfs (SHF_ALLOC with size > 0),
// and their size after the kernel's own adjustments (PLTs).
std::vector<PlacedSection> loadable_sections(const ElfFile& ko, const LayoutRules& rules);

}  // namespace kaddr
