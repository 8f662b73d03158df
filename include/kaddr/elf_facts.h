// Facts a debug file states about itself, read to check it against the
// crash before it is trusted: the release a module was built for, the
// separate debug file it points to, and whether its machine is the
// snapshot's.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "kaddr/arch.h"
#include "kaddr/elf_file.h"

namespace kaddr {

// The release of a module's `vermagic=` (.modinfo), "" when it has none.
std::string module_vermagic_release(const ElfFile& ko);

// `.gnu_debuglink`: the separate debug file's name and the CRC-32 of its contents.
struct DebugLink {
    std::string name;
    std::uint32_t crc = 0;
};
std::optional<DebugLink> read_debuglink(const ElfFile& f);
// The CRC-32 (zlib's, as gdb and eu-unstrip compute it) of a whole file.
std::uint32_t file_crc32(const std::string& path);

// Why this libdw cannot read the file's DWARF although it has some ("" when
// it can): zstd-compressed debug sections need elfutils 0.189 or newer.
std::string dwarf_unreadable_reason(const ElfFile& f);

// The architecture of an ELF file, or Unknown for a machine kaddr does not know.
Arch elf_arch(const ElfFile& f);

// XXH3-64 of what identifies a file's content besides its build-id: its
// size, ELF header facts and every section header. A stripped image and its
// debug file share a build-id but not their sections. Persisted indexes are
// named by build-id and this, never by path or mtime.
std::uint64_t elf_content_digest(const ElfFile& f);

}  // namespace kaddr
