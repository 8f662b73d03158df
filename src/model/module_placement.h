// Which module file answers for a loaded module and where its sections
// sit: candidates checked against the kernel (architecture, build-id,
// layout), .gnu_debuglink files, placement from sysfs, /proc/modules, a
// report's frame or nothing (section-relative), and the build-id and
// release checks of the chosen file. Used by load_snapshot().
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kaddr/snapshot.h"

namespace kaddr {

// `f`, or its .gnu_debuglink debug file when f has no DWARF and the CRC matches.
std::shared_ptr<const ElfFile> with_debuglink(Snapshot& snap, std::shared_ptr<const ElfFile> f);
// Module files already opened, by path (opened ahead on another thread).
using OpenedFiles = std::map<std::string, std::shared_ptr<const ElfFile>>;
// The candidate that matches the loaded module (null when none does; why is in m.ko_choice and the notes).
// A candidate in `opened` is not opened again.
std::shared_ptr<const ElfFile> choose_ko(Snapshot& snap, Module& m, const std::vector<std::string>& candidates,
                                         const std::map<std::string, std::uint64_t>* sysfs, const LayoutRules& rules,
                                         const std::string& want_build_id, const OpenedFiles& opened);
// m.sections and m.layout from sysfs, /proc/modules, or section-relative.
void place_sections(Module& m, const std::map<std::string, std::uint64_t>* sysfs, const LayoutRules& rules);
// A section-relative module placed by a frame printed with address and symbol.
void derive_layout(Snapshot& snap, Module& m, const std::vector<SnapshotInputs::Anchor>& anchors, const LayoutRules& rules);
// 6.4+: the allocations /proc/modules does not give, placed by the
// module's kallsyms symbols (m.listed) that its .ko also has.
void place_from_kallsyms(Snapshot& snap, Module& m);
// A module walked from a dump: its allocations, the sections of a .ko
// placed by mem[] where the dump held no section addresses (6.4+), and
// its symbols from the dump's own table when no file gives them (their
// names kept alive in snap.owned_text).
void use_dump_module(Snapshot& snap, Module& m, const VmcoreModule& vm);
// Build-ids from a captured sys/module tree (NAME/notes/.note.gnu.build-id).
std::map<std::string, std::string> module_notes(const std::string& sys_module);
// A module file built for another release than the kernel's is doubted.
void doubt_module_release(Snapshot& snap, const Module& m);

}  // namespace kaddr
