// Source locations from DWARF through libdwfl. One session per image:
// vmlinux is reported at its link-time addresses; a module (.ko, ET_REL) is
// reported with the real address of each section, which libdwfl asks for
// through its section_address callback and uses to relocate the DWARF.
//
// Speed: the first lookup in a compile unit walks that CU's DIE tree once and
// flattens its subprogram / inlined-subroutine ranges into sorted segments;
// every later lookup in the CU is a binary search plus a line-table lookup.
// Nothing is re-parsed per address (the eu-addr2line mistake).
//
// Threads: libdw is not thread-safe within one session, so a DwarfSource
// keeps a small pool of independent sessions over the same file (up to the
// number of CPUs, or $KADDR_DWARF_SESSIONS), created as concurrent callers
// need them.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kaddr/elf_file.h"
#include "kaddr/image_index.h"
#include "kaddr/module_layout.h"

namespace kaddr {

struct SourceLocation {
    std::string function;  // DWARF name of the function this location is in
    std::string file;
    int line = 0;
    int column = 0;
    bool operator==(const SourceLocation&) const = default;
};

// Where source locations come from: DWARF itself (DwarfSource) or a
// persisted index of it (source_index.h). Both give the same answers.
class LocationSource {
public:
    virtual ~LocationSource() = default;
    // Innermost first: the inlined calls, then the out-of-line function.
    // Empty when no DWARF describes the address. Thread-safe.
    virtual std::vector<SourceLocation> locate(std::uint64_t addr) = 0;
};

class DwarfSource final : public LocationSource {
public:
    // vmlinux (ET_EXEC or ET_DYN): look-ups take link-time addresses.
    // `cus`, from a persisted index (kept alive by `keep`), replaces
    // libdwfl's .debug_aranges load.
    static std::unique_ptr<DwarfSource> for_image(std::shared_ptr<const ElfFile> image,
                                                  std::span<const CuRange> cus = {},
                                                  std::shared_ptr<const void> keep = nullptr);
    // A module: look-ups take runtime addresses, given the placed sections.
    static std::unique_ptr<DwarfSource> for_module(std::shared_ptr<const ElfFile> ko,
                                                   std::vector<PlacedSection> sections);
    ~DwarfSource() override;

    std::vector<SourceLocation> locate(std::uint64_t addr) override;

    // For building a persisted index: calls `at` with every address at
    // which locate()'s answer can change, and locate()'s answer there;
    // between two such addresses the answer is the first one's. Callers run
    // it on several threads (each gets its own session) sharing `next_cu`,
    // from 0: each call takes compile units from it until none is left and
    // gives each one's addresses in address order. Answers at a unit's
    // addresses may come from any CU, exactly as locate() would give them.
    // The compile units' address ranges [lo, hi), as look-ups take them.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> cu_ranges();

    using TabulateSink = std::function<void(std::uint64_t addr, std::vector<SourceLocation>&& answer)>;
    void tabulate(std::atomic<std::size_t>& next_cu, const TabulateSink& at);

    struct Impl;

private:
    explicit DwarfSource(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace kaddr
