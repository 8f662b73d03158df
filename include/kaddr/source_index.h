// A persisted source index of one debug file (vmlinux or a .ko): every
// address range over which the DWARF answer (function, file:line:column and
// the inline chain) is the same, with that answer, in one compact, mapped,
// versioned file. Built once (`kaddr index`, `kaddr batch`) by tabulating
// DwarfSource itself, so its answers are the DWARF path's by construction
// (and tested to be).
//
// Named and validated by the file's build-id and a digest of its ELF and
// section headers, never by path or mtime, so a store of indexes can be
// shared read-only by many hosts and copied between them (`--index-dir`).
// Written atomically (temporary file + rename). Damage is detected by a
// checksum per 64 KiB page, checked the first time a page is read, so a
// lookup maps only the pages it touches; a damaged page makes the lookup
// fall back to DWARF (see IndexedSource), never a wrong answer.
//
// Layout (all little-endian, offsets from the start of the payload):
//   blocks   [start u64, data u32, pad u32] sorted by start: 32 entries each
//   entries  per block, from a zero state: uleb(delta<<4 | changed),
//            then file uleb, line sleb delta, column uleb, context sleb delta
//            for the fields `changed` names
//   contexts a node per inline context: name, parent (backwards delta),
//            and, with a parent, the call site's file, line, column (uleb)
//   strings  NUL-terminated, deduplicated; offset 0 is ""
//   sections (module only) [elf index u32, pad u32, base u64, size u64]:
//            where each section sits in the layout the index was built in
//   coverage (module only) the same records, [elf index, lo, hi): the
//            section offsets the compile units cover. Only there is a
//            module's answer independent of its layout; elsewhere libdwfl
//            answers for whichever unit starts below the address in the
//            layout at hand, so DWARF is asked (IndexedSource).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "kaddr/dwarf_source.h"
#include "kaddr/elf_file.h"

namespace kaddr {

class MappedFile;

struct SourceIndexStats {
    std::size_t entries = 0, contexts = 0, bytes = 0;
};

class SourceIndex {
public:
    // The index of `file` in `dir`, if one is there and its headers are sound.
    static std::shared_ptr<const SourceIndex> open(const ElfFile& file, const std::string& dir);
    // Tabulates `file`'s DWARF with `threads` threads and saves the index in
    // `dir` (when not empty). Throws Error when the DWARF cannot be read.
    // `cus`: vmlinux's CU ranges from its ImageIndex, as the DWARF path
    // it replaces is given them (see DwarfSource::for_image).
    static std::shared_ptr<const SourceIndex> build(std::shared_ptr<const ElfFile> file, const std::string& dir,
                                                    unsigned threads, std::span<const CuRange> cus = {});
    // Where the index of `file` lives in `dir`.
    static std::string path_in(const ElfFile& file, const std::string& dir);
    ~SourceIndex();

    // The DWARF answer at `addr`: a link-time address for vmlinux, an
    // address in the index's own layout for a module (see section_base).
    // nullopt: the index is damaged there (the caller asks DWARF instead).
    std::optional<std::vector<SourceLocation>> locate(std::uint64_t addr) const;
    // Module indexes: where section `elf_index` starts in the index's layout
    // and its size there.
    std::optional<std::pair<std::uint64_t, std::uint64_t>> section_base(std::size_t elf_index) const;
    // Module indexes: whether a compile unit covers `offset` in section `elf_index`.
    bool covered(std::size_t elf_index, std::uint64_t offset) const;
    const std::string& path() const { return path_; }
    SourceIndexStats stats() const { return stats_; }

    struct Header;

private:
    SourceIndex() = default;
    // Checks the headers of the index bytes at `base` (kept alive by
    // `storage`) against `file`; nullptr when they do not belong together.
    static std::shared_ptr<const SourceIndex> adopt(std::shared_ptr<const void> storage, const unsigned char* base,
                                                    std::uint64_t size, const ElfFile& file, std::uint64_t digest,
                                                    const std::string& path);
    // `digest`: elf_content_digest(file), computed once by the caller.
    static std::string path_for(const ElfFile& file, std::uint64_t digest, const std::string& dir);
    static std::shared_ptr<const SourceIndex> open_at(const std::string& path, const ElfFile& file,
                                                      std::uint64_t digest);
    bool verified(std::uint64_t off, std::uint64_t len) const;
    std::optional<std::string> string_at(std::uint64_t off) const;

    std::string path_;
    std::shared_ptr<const void> storage_;
    const unsigned char* payload_ = nullptr;
    std::uint64_t payload_size_ = 0;
    const std::uint64_t* page_sums_ = nullptr;
    std::unique_ptr<std::atomic<std::uint8_t>[]> page_state_;  // 0 unchecked, 1 good, 2 damaged
    std::uint64_t blocks_off_ = 0, nblocks_ = 0, entries_off_ = 0, entries_size_ = 0;
    std::uint64_t contexts_off_ = 0, contexts_size_ = 0, strings_off_ = 0, strings_size_ = 0;
    std::vector<std::tuple<std::uint32_t, std::uint64_t, std::uint64_t>> sections_, coverage_;
    SourceIndexStats stats_;
};

// A LocationSource answering from an index, and from DWARF where the index
// is damaged or, for a module, where an address lies between its sections. For a module, runtime addresses are translated through the
// placed sections to the index's layout.
class IndexedSource final : public LocationSource {
public:
    using Fallback = std::function<std::unique_ptr<DwarfSource>()>;
    IndexedSource(std::shared_ptr<const SourceIndex> index, Fallback fallback,
                  std::vector<PlacedSection> module_sections = {}, bool is_module = false);
    std::vector<SourceLocation> locate(std::uint64_t addr) override;

private:
    // nullopt: damaged, or (`outside`) a module address in no section.
    std::optional<std::vector<SourceLocation>> lookup(std::uint64_t addr, bool& outside) const;

    std::shared_ptr<const SourceIndex> index_;
    Fallback make_fallback_;
    std::vector<PlacedSection> sections_;
    bool is_module_;
    std::once_flag fallback_once_;
    std::unique_ptr<DwarfSource> fallback_;
    std::atomic<bool> warned_{false};
};

// When to answer from an index: `use` an index found in `dir`; `build` one
// first when there is none (kaddr batch, kaddr index), with `threads`.
struct SourceIndexPolicy {
    bool use = true;
    bool build = false;
    std::string dir;
    unsigned threads = 0;  // 0: the number of CPUs
};

// The source of locations for `file`: its index under `policy`, else
// DWARF (`dwarf` makes the DwarfSource, also the index's fallback).
// `module_sections`: a module's placed sections; `cus`: see build().
std::unique_ptr<LocationSource> open_location_source(std::shared_ptr<const ElfFile> file,
                                                     const SourceIndexPolicy& policy,
                                                     IndexedSource::Fallback dwarf,
                                                     std::vector<PlacedSection> module_sections = {},
                                                     std::span<const CuRange> cus = {});

}  // namespace kaddr
