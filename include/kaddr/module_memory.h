// How a kernel lays out a loaded module's memory: the one description of
// the module-memory era that every consumer reads (/proc/modules checks,
// layout reconstruction, kallsyms placement, the vmcore module walk,
// gdb-symbols), so that no consumer guesses the era on its own.
//
// Up to 6.3 a module has one core and one init allocation (struct module's
// core_layout/init_layout): /proc/modules prints the core base and size,
// and every core section lies in [base, base + size). From 6.4 struct
// module holds mem[MOD_TEXT .. MOD_INIT_RODATA], one page-aligned
// allocation per memory type, in no fixed order: /proc/modules prints the
// MOD_TEXT base and the SUM of the core allocations' sizes, so only .text
// follows from the base and a neighbour may start inside [base, base + size).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kaddr {

enum class ModuleMemoryEra {
    CoreInit,  // core_layout + init_layout (before 6.4)
    PerType,   // mem[MOD_MEM_NUM_TYPES] (6.4 and later)
};

// enum mod_mem_type, in the kernel's order (its values index mem[]).
enum class ModMemType { Text, Data, Rodata, RoAfterInit, InitText, InitData, InitRodata };
inline constexpr std::size_t kModMemTypes = 7;
inline constexpr std::array<ModMemType, kModMemTypes> kAllModMemTypes = {
    ModMemType::Text,     ModMemType::Data,     ModMemType::Rodata,    ModMemType::RoAfterInit,
    ModMemType::InitText, ModMemType::InitData, ModMemType::InitRodata};
// The kernel's enumerator name: "MOD_TEXT", "MOD_RO_AFTER_INIT", ...
std::string_view mod_mem_type_name(ModMemType t);
// "text", "ro_after_init", ... (the JSON spelling)
std::string_view mod_mem_type_key(ModMemType t);
bool is_init_memory(ModMemType t);

struct ModuleMemoryModel {
    ModuleMemoryEra era = ModuleMemoryEra::CoreInit;
    // Where the era was read: "vmlinux DWARF (struct module has mem[])",
    // "release 6.12", or the fallback with its reason.
    std::string how;
    bool assumed = false;  // no DWARF and no release: the 6.1 rules, said so

    bool per_type() const { return era == ModuleMemoryEra::PerType; }
    // /proc/modules' [base, base + size) holds every core section (before 6.4).
    bool proc_size_is_span() const { return era == ModuleMemoryEra::CoreInit; }
};

std::string_view era_name(ModuleMemoryEra e);  // "core/init layouts (before 6.4)", "per-type memory (6.4+)"

// From the release ("6.12.118+deb12-cloud-amd64": major 6, minor 12);
// major 0 (unknown): the 6.1 rules, marked assumed.
ModuleMemoryModel module_memory_from_release(int major, int minor);
// From the kernel's own DWARF: whether struct module has `mem` or
// `core_layout`. nullopt when the DWARF says neither (then the release decides).
std::optional<ModuleMemoryModel> module_memory_from_members(bool has_mem, bool has_core_layout);

}  // namespace kaddr

namespace kaddr {
class ElfFile;
// The era of a kernel: from its debug vmlinux's DWARF when it has usable
// DWARF (struct module's members), else from the release; a DWARF that
// contradicts the release is believed and said in `disagreement`.
ModuleMemoryModel module_memory_of(const ElfFile* vmlinux, int major, int minor, std::string* disagreement = nullptr);
}  // namespace kaddr
