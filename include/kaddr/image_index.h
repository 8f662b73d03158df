// A persisted index of a kernel image (vmlinux), so a second run on the same
// build skips the work that is the same every time: sorting the ELF symbol
// table and sorting libdw's .debug_aranges. Built on any first run (it is
// cheap; the source index beside it, source_index.h, is built on request).
// Keyed by build-id and the content digest (elf_content_digest), stored in
// the user's cache directory or --index-dir, written atomically (temporary
// file + rename) so concurrent runs are safe, verified by a checksum on
// load, and searched in place (mapped, not copied). It holds only what the
// image itself determines; answers with and without it are identical (tested).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kaddr/elf_file.h"
#include "kaddr/symbol_table.h"

namespace kaddr {

struct CuRange {
    std::uint64_t lo, hi;     // link-time [lo, hi)
    std::uint64_t cu_offset;  // the compile unit's DIE offset in .debug_info
};

// Views into the mapped index file (or into freshly built arrays).
struct ImageIndex {
    std::uint32_t strtab_section = 0;         // which section the names point into
    std::span<const PackedSymbol> symbols;   // sorted, spans computed
    std::span<const std::uint32_t> by_name;   // indexes into symbols, sorted by name then address
    std::span<const CuRange> cus;             // sorted by lo; empty without DWARF
    std::shared_ptr<const void> storage;      // keeps what the views point into alive

    // Names are views into the image's string section `strtab` (empty when
    // a damaged record points outside it).
    std::string_view name(const PackedSymbol& s, std::string_view strtab) const {
        return std::uint64_t{s.name_off} + s.name_len <= strtab.size() ? strtab.substr(s.name_off, s.name_len)
                                                                        : std::string_view();
    }
    // The link-time address of a symbol the image defines.
    std::optional<std::uint64_t> link_address(std::string_view name, std::string_view strtab) const;
    // Makes `table` search the index's symbols in place, moved by `shift`:
    // KASLR moves the image in one piece, so the sorted order and spans
    // stay valid.
    void load_into(SymbolTable& table, std::string_view strtab, std::uint64_t shift) const;
};

// The directory indexes live in: $KADDR_CACHE/index, else
// $XDG_CACHE_HOME/kaddr/index, else ~/.cache/kaddr/index.
std::string default_index_dir();

// Loads the index for `image` from `dir`, or builds and saves it. Returns
// nullopt when the image has no build-id (nothing safe to key it by).
// Index I/O problems are never fatal: the index is rebuilt in memory.
std::optional<ImageIndex> image_index(const ElfFile& image, const std::string& dir);

// Builds the index from the image alone (used on a miss, and by tests).
ImageIndex build_image_index(const ElfFile& image);

}  // namespace kaddr
