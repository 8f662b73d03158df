#include "kaddr/source_index.h"

#include <elf.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "kaddr/elf_facts.h"
#include "kaddr/mapped_file.h"
#include "source_index_format.h"
#include "varint.h"

namespace kaddr {

namespace fmt = source_index_format;

std::uint64_t fmt::page_sum(const unsigned char* p, std::uint64_t len) { return XXH3_64bits(p, len); }

std::string SourceIndex::path_in(const ElfFile& file, const std::string& dir) {
    return path_for(file, elf_content_digest(file), dir);
}

std::string SourceIndex::path_for(const ElfFile& file, std::uint64_t digest, const std::string& dir) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(digest));
    return (std::filesystem::path(dir) / (file.build_id() + "-" + hex + ".ksrc")).string();
}

SourceIndex::~SourceIndex() = default;

namespace {

bool within(std::uint64_t off, std::uint64_t len, std::uint64_t size) { return off <= size && len <= size - off; }

}  // namespace

std::shared_ptr<const SourceIndex> SourceIndex::open(const ElfFile& file, const std::string& dir) {
    if (file.build_id().empty() || dir.empty()) return nullptr;
    const std::uint64_t digest = elf_content_digest(file);
    return open_at(path_for(file, digest, dir), file, digest);
}

std::shared_ptr<const SourceIndex> SourceIndex::open_at(const std::string& path, const ElfFile& file,
                                                        std::uint64_t digest) {
    auto m = MappedFile::try_open(path, false);
    if (!m) return nullptr;
    const auto* base = reinterpret_cast<const unsigned char*>(m->bytes().data());
    const std::size_t size = m->size();
    return adopt(std::move(m), base, size, file, digest, path);
}

std::shared_ptr<const SourceIndex> SourceIndex::adopt(std::shared_ptr<const void> storage, const unsigned char* base,
                                                      std::uint64_t file_size, const ElfFile& file,
                                                      std::uint64_t digest, const std::string& path) {
    if (file_size < sizeof(Header)) return nullptr;
    Header h;
    std::memcpy(&h, base, sizeof h);
    const std::uint64_t npages = (h.payload_size + fmt::kPage - 1) / fmt::kPage;
    if (std::memcmp(h.magic, fmt::kMagic, sizeof h.magic) != 0 || h.version != fmt::kVersion ||
        h.digest != digest ||
        std::string(h.build_id, strnlen(h.build_id, sizeof h.build_id)) != file.build_id() ||
        h.payload_size > file_size || npages > (file_size - sizeof h) / 8 ||
        sizeof h + npages * 8 + h.payload_size != file_size)
        return nullptr;
    Header zeroed = h;
    zeroed.header_sum = 0;
    XXH3_state_t* st = XXH3_createState();
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, &zeroed, sizeof zeroed);
    XXH3_64bits_update(st, base + sizeof h, npages * 8);
    const bool sound = XXH3_64bits_digest(st) == h.header_sum;
    XXH3_freeState(st);
    const std::uint64_t size = h.payload_size;
    if (!sound || !within(h.blocks_off, h.nblocks * sizeof(fmt::Block), size) ||
        !within(h.entries_off, h.entries_size, size) || !within(h.contexts_off, h.contexts_size, size) ||
        !within(h.strings_off, h.strings_size, size) || h.nblocks > size || h.nsections > size ||
        h.ncoverage > size || !within(h.sections_off, h.nsections * sizeof(fmt::Section), size) ||
        !within(h.coverage_off, h.ncoverage * sizeof(fmt::Section), size) || h.blocks_off % 8)
        return nullptr;
    std::shared_ptr<SourceIndex> idx(new SourceIndex);
    idx->path_ = path;
    idx->payload_ = base + sizeof h + npages * 8;
    idx->payload_size_ = size;
    idx->page_sums_ = reinterpret_cast<const std::uint64_t*>(base + sizeof h);
    idx->page_state_ = std::make_unique<std::atomic<std::uint8_t>[]>(npages);
    idx->blocks_off_ = h.blocks_off;
    idx->nblocks_ = h.nblocks;
    idx->entries_off_ = h.entries_off;
    idx->entries_size_ = h.entries_size;
    idx->contexts_off_ = h.contexts_off;
    idx->contexts_size_ = h.contexts_size;
    idx->strings_off_ = h.strings_off;
    idx->strings_size_ = h.strings_size;
    idx->stats_ = {h.entries_count, h.contexts_count, file_size};
    idx->storage_ = std::move(storage);
    auto records = [&](std::uint64_t off, std::uint64_t n, auto& out) {
        if (!idx->verified(off, n * sizeof(fmt::Section))) return false;
        for (std::uint64_t i = 0; i < n; ++i) {
            fmt::Section s;
            std::memcpy(&s, idx->payload_ + off + i * sizeof s, sizeof s);
            out.emplace_back(s.elf_index, s.base, s.size);
        }
        return true;
    };
    if (!records(h.sections_off, h.nsections, idx->sections_) || !records(h.coverage_off, h.ncoverage, idx->coverage_))
        return nullptr;
    // Every lookup searches the block table: checked once, here (0.6 MB for
    // Debian's vmlinux), instead of page by page on each search.
    if (!idx->verified(h.blocks_off, h.nblocks * sizeof(fmt::Block))) return nullptr;
    std::sort(idx->coverage_.begin(), idx->coverage_.end());
    return idx;
}

bool SourceIndex::verified(std::uint64_t off, std::uint64_t len) const {
    if (!within(off, len, payload_size_)) return false;
    if (len == 0) return true;
    for (std::uint64_t page = off / fmt::kPage; page <= (off + len - 1) / fmt::kPage; ++page) {
        auto& state = page_state_[page];
        std::uint8_t s = state.load(std::memory_order_acquire);
        if (s == 0) {
            const std::uint64_t at = page * fmt::kPage, n = std::min(fmt::kPage, payload_size_ - at);
            s = fmt::page_sum(payload_ + at, n) == page_sums_[page] ? 1 : 2;
            state.store(s, std::memory_order_release);
        }
        if (s != 1) return false;
    }
    return true;
}

std::optional<std::string> SourceIndex::string_at(std::uint64_t off) const {
    if (off >= strings_size_) return std::nullopt;
    const auto* p = payload_ + strings_off_ + off;
    // Verify page by page up to the NUL: a string never runs past its area.
    const std::uint64_t room = strings_size_ - off;
    const void* nul = std::memchr(p, 0, room);
    if (!nul) return std::nullopt;
    const std::uint64_t len = static_cast<const unsigned char*>(nul) - p;
    if (!verified(strings_off_ + off, len + 1)) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(p), len);
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> SourceIndex::section_base(std::size_t elf_index) const {
    for (const auto& [index, base, size] : sections_)
        if (index == elf_index) return std::make_pair(base, size);
    return std::nullopt;
}

bool SourceIndex::covered(std::size_t elf_index, std::uint64_t offset) const {
    // The last range of this section starting at or before the offset.
    auto it = std::upper_bound(coverage_.begin(), coverage_.end(),
                               std::make_tuple(static_cast<std::uint32_t>(elf_index), offset, ~std::uint64_t{0}));
    if (it == coverage_.begin()) return false;
    const auto& [index, lo, hi] = *std::prev(it);
    return index == elf_index && offset >= lo && offset < hi;
}

std::optional<std::vector<SourceLocation>> SourceIndex::locate(std::uint64_t addr) const {
    using varint::get_sleb;
    using varint::get_uleb;
    std::vector<SourceLocation> out;
    auto block_at = [&](std::uint64_t i) {
        fmt::Block b;
        std::memcpy(&b, payload_ + blocks_off_ + i * sizeof b, sizeof b);
        return b;
    };
    auto start_of = [&](std::uint64_t i) {
        std::uint64_t start;
        std::memcpy(&start, payload_ + blocks_off_ + i * sizeof(fmt::Block), sizeof start);
        return start;
    };
    // The last block starting at or before addr.
    std::uint64_t lo = 0, hi = nblocks_;
    while (lo < hi) {
        const std::uint64_t mid = lo + (hi - lo) / 2;
        if (start_of(mid) <= addr) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0) return out;  // before the first entry: no DWARF there
    const fmt::Block b = block_at(lo - 1);
    const std::uint64_t data_end = lo < nblocks_ ? block_at(lo).data : entries_size_;
    if (b.data > data_end || !verified(entries_off_ + b.data, data_end - b.data)) return std::nullopt;
    const unsigned char* p = payload_ + entries_off_ + b.data;
    const unsigned char* end = payload_ + entries_off_ + data_end;
    std::uint64_t at = b.start, file = 0, column = 0, context = 0;
    std::int64_t line = 0;
    struct State {
        std::uint64_t file, column, context;
        std::int64_t line;
    } found{0, 0, 0, 0};
    bool any = false;
    while (p < end) {
        auto head = get_uleb(p, end);
        if (!head) return std::nullopt;
        at += *head >> 4;
        if (any && at > addr) break;
        if (*head & fmt::kFile) {
            auto v = get_uleb(p, end);
            if (!v) return std::nullopt;
            file = *v;
        }
        if (*head & fmt::kLine) {
            auto v = get_sleb(p, end);
            // A delta past the range of a line is a damaged entry (found by fuzzing: signed overflow).
            if (!v || __builtin_add_overflow(line, *v, &line)) return std::nullopt;
        }
        if (*head & fmt::kColumn) {
            auto v = get_uleb(p, end);
            if (!v) return std::nullopt;
            column = *v;
        }
        if (*head & fmt::kContext) {
            auto v = get_sleb(p, end);
            if (!v) return std::nullopt;
            context += static_cast<std::uint64_t>(*v);
        }
        if (at > addr) break;  // (the first entry starts the block: never)
        found = {file, column, context, line};
        any = true;
    }
    if (!any) return std::nullopt;
    if (found.context == 0) return out;  // no compile unit answers here
    // The context chain: innermost function first, then each caller.
    const unsigned char* cbase = payload_ + contexts_off_;
    const unsigned char* cend = cbase + contexts_size_;
    std::uint64_t node = found.context;
    SourceLocation loc;
    auto file_name = string_at(found.file);
    if (!file_name) return std::nullopt;
    loc.file = std::move(*file_name);
    loc.line = static_cast<int>(found.line);
    loc.column = static_cast<int>(found.column);
    for (int depth = 0;; ++depth) {
        if (node >= contexts_size_ || depth > 512 || !verified(contexts_off_ + node, std::min<std::uint64_t>(64, contexts_size_ - node)))
            return std::nullopt;
        const unsigned char* q = cbase + node;
        auto name = get_uleb(q, cend);
        auto parent = get_uleb(q, cend);
        if (!name || !parent || (*parent != 0 && *parent >= node)) return std::nullopt;
        auto fn = string_at(*name);
        if (!fn) return std::nullopt;
        loc.function = std::move(*fn);
        out.push_back(std::move(loc));
        if (*parent == 0) break;
        auto cfile = get_uleb(q, cend), cline = get_uleb(q, cend), ccol = get_uleb(q, cend);
        if (!cfile || !cline || !ccol) return std::nullopt;
        auto caller_file = string_at(*cfile);
        if (!caller_file) return std::nullopt;
        loc = SourceLocation{};
        loc.file = std::move(*caller_file);
        loc.line = static_cast<int>(*cline);
        loc.column = static_cast<int>(*ccol);
        node -= *parent;
    }
    return out;
}

IndexedSource::IndexedSource(std::shared_ptr<const SourceIndex> index, Fallback fallback,
                             std::vector<PlacedSection> module_sections, bool is_module)
    : index_(std::move(index)), make_fallback_(std::move(fallback)), sections_(std::move(module_sections)),
      is_module_(is_module) {}

std::optional<std::vector<SourceLocation>> IndexedSource::lookup(std::uint64_t addr, bool& outside) const {
    if (!is_module_) return index_->locate(addr);
    // The section this address is in, as DwarfSource's section_address
    // callback places it; the index knows each section's own place.
    for (bool init : {false, true})
        for (const auto& s : sections_) {
            if (s.init != init || s.placement == Placement::Undetermined || !s.elf_index || addr < s.addr) continue;
            auto in_index = index_->section_base(s.elf_index);
            if (in_index && addr - s.addr < in_index->second && index_->covered(s.elf_index, addr - s.addr))
                return index_->locate(in_index->first + (addr - s.addr));
        }
    // Between sections libdwfl gives the answer of whichever compile unit
    // starts below the address in this layout: only DWARF knows.
    outside = true;
    return std::nullopt;
}

std::vector<SourceLocation> IndexedSource::locate(std::uint64_t addr) {
    bool outside = false;
    if (auto answer = lookup(addr, outside)) return std::move(*answer);
    std::call_once(fallback_once_, [&] {
        try {
            fallback_ = make_fallback_();
        } catch (const std::exception&) {
        }
    });
    if (!outside && !warned_.exchange(true))
        std::cerr << "kaddr: warning: " << index_->path()
                  << ": damaged; answering from DWARF (delete it, or run kaddr index to rebuild it)\n";
    return fallback_ ? fallback_->locate(addr) : std::vector<SourceLocation>{};
}

namespace {

bool writable(const std::string& dir) {
    std::error_code ec;
    std::filesystem::path p(dir);
    while (!p.empty() && !std::filesystem::exists(p, ec)) p = p.parent_path();  // created on save
    return !p.empty() && ::access(p.c_str(), W_OK) == 0;
}

}  // namespace

std::unique_ptr<LocationSource> open_location_source(std::shared_ptr<const ElfFile> file,
                                                     const SourceIndexPolicy& policy, IndexedSource::Fallback dwarf,
                                                     std::vector<PlacedSection> module_sections,
                                                     std::span<const CuRange> cus) {
    std::shared_ptr<const SourceIndex> index;
    if (policy.use && !file->build_id().empty()) {
        index = SourceIndex::open(*file, policy.dir);
        // A read-only store (shared by hosts) is used as it is: an index
        // that could not be kept would be rebuilt by every run.
        if (!index && policy.build && writable(policy.dir)) {
            const unsigned threads = policy.threads ? policy.threads : std::max(1u, std::thread::hardware_concurrency());
            // An index is an optimisation: when one cannot be built (memory,
            // a DWARF form libdw tabulates badly), answers come from DWARF
            // as they would without it.
            try {
                index = SourceIndex::build(file, policy.dir, threads, cus);
            } catch (const std::exception& e) {
                std::cerr << "kaddr: warning: no source index for " << file->path() << ": " << e.what()
                          << "; answering from DWARF\n";
            }
        }
    }
    if (!index) return dwarf();
    const bool is_module = file->type() == ET_REL;
    return std::make_unique<IndexedSource>(std::move(index), std::move(dwarf), std::move(module_sections), is_module);
}

}  // namespace kaddr
