// Where the running kernel's text differs from the file it was built into,
// by design: the byte ranges of one section (of vmlinux or a .ko) that boot,
// module load, KASLR and runtime patching rewrite. A `Code:` line compared
// with the file must treat these bytes as wildcards.
//
// The sites are read from the tables the kernel itself patches from
// (.altinstructions, .parainstructions, .return_sites, .retpoline_sites,
// __jump_table, .static_call_sites, __mcount_loc / __patchable_function_entries,
// .smp_locks, ...) and from the relocations: in a .ko every relocation is
// applied at load time; in vmlinux (--emit-relocs) only those KASLR moves.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kaddr/arch.h"
#include "kaddr/code_check.h"
#include "kaddr/elf_file.h"

namespace kaddr {


struct PatchRange {
    std::uint64_t begin = 0, end = 0;  // offsets into the section
    PatchKind kind = PatchKind::Relocation;
};

struct PatchScan {
    std::vector<PatchRange> ranges;
    std::vector<std::string> notes;  // tables that could not be read, and why
};

// The patched ranges of section `section` of `file` that overlap
// [lo, hi) (section offsets). `major`/`minor`: the kernel release, since
// some table layouts changed (0: assume the newest known).
PatchScan patch_ranges(const ElfFile& file, Arch arch, std::size_t section, std::uint64_t lo, std::uint64_t hi,
                       int major, int minor);

}  // namespace kaddr
