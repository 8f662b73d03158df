// How the core image's symbol table and address range are derived from
// vmlinux: shared by the snapshot loader and the persisted image index, so
// both produce the same table.
#pragma once
#include <optional>
#include <utility>
#include <vector>

#include "kaddr/elf_file.h"
#include "kaddr/symbol_table.h"

namespace kaddr {

// Adds vmlinux's loadable symbols at link address + shift (names are views
// into the mapped file). The caller finalizes.
void add_image_symbols(SymbolTable& table, const ElfFile& image, const std::vector<ElfSymbol>& syms,
                       std::uint64_t shift);
// The link-time [start, end) of the image: loadable sections, clipped to
// _text.._end when those exist (x86_64 links per-cpu sections at 0).
std::pair<std::uint64_t, std::uint64_t> image_range(const ElfFile& image, std::optional<std::uint64_t> text,
                                                    std::optional<std::uint64_t> end);

}  // namespace kaddr
