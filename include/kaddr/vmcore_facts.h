// What a kdump vmcore says about the kernel snapshot, for load_snapshot():
// the release, the exact KASLR offset and the build-id from VMCOREINFO,
// and every loaded module with each section's address, walked from the
// `modules` list with struct offsets from the vmlinux DWARF. This is the
// whole hook between the dump and the snapshot model: the loader takes
// these facts as it takes a /proc + /sys capture, marked as from the dump.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kaddr/elf_file.h"
#include "kaddr/module_memory.h"
#include "kaddr/vmcore.h"

namespace kaddr {

struct SnapshotInputs;

// A symbol read from a module's symbol table in the dump, as kallsyms lists it.
struct DumpSymbol {
    std::uint64_t addr = 0, size = 0;
    char type = '?';  // nm letter from the typetab
    std::string name;
};

struct VmcoreModule {
    std::string name;
    // What /proc/modules prints: the core base and size before 6.4; from
    // 6.4 the MOD_TEXT base and the sum of the core allocations' sizes.
    std::uint64_t base = 0, size = 0;
    std::uint64_t text_size = 0, ro_size = 0, ro_after_init_size = 0;  // core_layout (before 6.4)
    std::uint64_t init_base = 0, init_size = 0;        // 0 once init is done
    // From 6.4: mem[] by ModMemType, {base, size} ({0, 0}: not allocated).
    std::array<std::pair<std::uint64_t, std::uint64_t>, kModMemTypes> mem{};
    int state = 0;                                     // enum module_state
    std::string taint;                                 // as /proc/modules prints it, e.g. "OE"
    std::map<std::string, std::uint64_t> sections;     // sect_attrs: what sysfs shows
    // The module's own symbol table in the dump (mod->kallsyms: what
    // /proc/kallsyms lists for it), for a module without a file.
    std::uint64_t symtab = 0, strtab = 0, typetab = 0;
    std::uint32_t num_symtab = 0;
    std::vector<DumpSymbol> symbols;                   // read from there (see read_module_symbols)
    // x86_64 ORC unwind tables (mod->arch), for a module without a file.
    std::uint64_t orc_unwind_ip = 0, orc_unwind = 0;
    std::uint32_t num_orcs = 0;
    std::string unread;                                // what of it could not be read, and why
};

struct VmcoreFacts {
    std::shared_ptr<const Vmcore> dump;
    std::string release, build_id;
    std::int64_t kaslr_offset = 0;
    std::uint64_t page_size = 0;
    std::optional<std::int64_t> crash_time;
    std::string vmlinux;                  // the file checked against BUILD-ID ("" if none was found)
    bool modules_walked = false;
    ModuleMemoryModel module_memory;      // the era, from the vmlinux's struct module
    std::vector<VmcoreModule> modules;    // in list order (newest first)
    std::vector<std::string> notes;
};

// A module's symbols from its symbol table in the dump (empty when the
// dump does not hold it: said in `why`).
std::vector<DumpSymbol> read_module_symbols(const Vmcore& dump, const VmcoreModule& m, std::string& why);

// The vmlinux for a dump of `release`: the one given, else the -dbg
// package's usr/lib/debug/boot/vmlinux-RELEASE. "" when neither exists.
std::string vmlinux_for_dump(const SnapshotInputs& in, const std::string& release);

// Throws Error naming the vmlinux when its build-id differs from the dump's.
void check_build_id(const Vmcore& dump, const ElfFile& vmlinux);

// The dump's facts. With a vmlinux (DWARF needed for struct module) the
// modules are walked; without one the facts hold VMCOREINFO only and a note.
std::shared_ptr<const VmcoreFacts> read_vmcore_facts(std::shared_ptr<const Vmcore> dump,
                                                     std::shared_ptr<const ElfFile> vmlinux);
// From SnapshotInputs::vmcore (opened here) and the vmlinux it implies.
std::shared_ptr<const VmcoreFacts> read_vmcore_facts(const SnapshotInputs& in);

// "Live", "Coming", "Going", "Unformed".
std::string_view module_state_name(int state);

}  // namespace kaddr
