// What a kdump vmcore says about the kernel snapshot, for load_snapshot():
// the release, the exact KASLR offset and the build-id from VMCOREINFO,
// and every loaded module with each section's address, walked from the
// `modules` list with struct offsets from the vmlinux DWARF. This is the
// whole hook between the dump and the snapshot model: the loader takes
// these facts as it takes a /proc + /sys capture, marked as from the dump.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kaddr/elf_file.h"
#include "kaddr/vmcore.h"

namespace kaddr {

struct SnapshotInputs;

struct VmcoreModule {
    std::string name;
    std::uint64_t base = 0, size = 0;                  // core_layout (the /proc/modules base and size)
    std::uint64_t text_size = 0, ro_size = 0, ro_after_init_size = 0;
    std::uint64_t init_base = 0, init_size = 0;        // 0 once init is done
    int state = 0;                                     // enum module_state
    std::string taint;                                 // as /proc/modules prints it, e.g. "OE"
    std::map<std::string, std::uint64_t> sections;     // sect_attrs: what sysfs shows
};

struct VmcoreFacts {
    std::shared_ptr<const Vmcore> dump;
    std::string release, build_id;
    std::int64_t kaslr_offset = 0;
    std::uint64_t page_size = 0;
    std::optional<std::int64_t> crash_time;
    std::string vmlinux;                  // the file checked against BUILD-ID ("" if none was found)
    bool modules_walked = false;
    std::vector<VmcoreModule> modules;    // in list order (newest first)
    std::vector<std::string> notes;
};

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
