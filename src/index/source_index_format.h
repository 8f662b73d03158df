// The on-disk form of a source index (see kaddr/source_index.h for the
// layout of the payload). Shared by the writer and the reader only.
#pragma once
#include <cstdint>
#include <string>

#include "kaddr/elf_file.h"
#include "kaddr/source_index.h"

namespace kaddr {

namespace source_index_format {
constexpr char kMagic[8] = {'K', 'A', 'D', 'D', 'R', 'S', 'R', 'C'};
// 2: no line for an address outside every compile unit's ranges.
constexpr std::uint32_t kVersion = 2;
constexpr std::uint64_t kPage = 64 * 1024;  // unit of lazy checksum verification
constexpr std::size_t kBlockEntries = 32;
// Which fields an entry changes (the low four bits of its head).
constexpr unsigned kFile = 1, kLine = 2, kColumn = 4, kContext = 8;

struct Block {
    std::uint64_t start;
    std::uint32_t data;  // offset of its entries in the entries area
    std::uint32_t pad;
};
struct Section {
    std::uint32_t elf_index, pad;
    std::uint64_t base, size;
};

std::uint64_t page_sum(const unsigned char* p, std::uint64_t len);
}  // namespace source_index_format

struct SourceIndex::Header {
    char magic[8];
    std::uint32_t version;
    std::uint32_t is_module;
    std::uint64_t digest;
    char build_id[64];  // lower-case hex, NUL padded
    std::uint64_t payload_size;
    std::uint64_t blocks_off, nblocks;
    std::uint64_t entries_off, entries_size, entries_count;
    std::uint64_t contexts_off, contexts_size, contexts_count;
    std::uint64_t strings_off, strings_size;
    std::uint64_t sections_off, nsections;
    std::uint64_t coverage_off, ncoverage;  // Section records: [elf index, lo, hi) offsets
    std::uint64_t header_sum;  // XXH3-64 of this header (this field 0) and the page sums
};

}  // namespace kaddr
