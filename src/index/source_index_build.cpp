// Building a source index: DwarfSource::tabulate() gives every address
// where the DWARF answer can change and the answer there; answers are
// interned (strings, inline contexts), runs of equal answers merged, and the
// result encoded in blocks (layout in kaddr/source_index.h).
#include <elf.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "kaddr/elf_facts.h"
#include "kaddr/error.h"
#include "kaddr/source_index.h"
#include "source_index_format.h"
#include "varint.h"

namespace kaddr {

namespace fmt = source_index_format;
namespace fs = std::filesystem;

namespace {

struct Entry {
    std::uint64_t addr;
    std::uint32_t file;
    std::int32_t line;
    std::uint32_t column;
    std::uint32_t context;  // 0: no compile unit answers (locate() is empty)
    std::uint32_t part;     // whose Interner the ids are in
    bool same_answer(const Entry& o) const {
        return file == o.file && line == o.line && column == o.column && context == o.context;
    }
};

// Strings and inline contexts, deduplicated. A context is a node: its
// function's name and, unless it is the outermost function, its parent
// node and the call site in the parent. Parents are made first, so a
// node's parent is always at a smaller offset (stored as a backward delta).
// Each tabulating thread has its own; the index's own is then filled in
// address order (canonical()), so the bytes of an index do not depend on
// threads or timing: the same debug file gives the same index on any host.
class Interner {
public:
    struct Key {
        std::uint32_t name, parent, file, line, column;
        bool operator==(const Key&) const = default;
    };
    std::string strings = std::string(1, '\0');
    std::string contexts = std::string(1, '\0');  // offset 0: "no answer"
    std::size_t ncontexts = 0;

    std::uint32_t string(std::string_view s) {
        if (s.empty()) return 0;
        // Looked up as a view: most calls find a string already interned,
        // and a key string per call was a quarter of the build.
        if (auto it = string_ids_.find(s); it != string_ids_.end()) return it->second;
        const auto id = static_cast<std::uint32_t>(strings.size());
        string_ids_.emplace(std::string(s), id);
        strings.append(s);
        strings.push_back('\0');
        return id;
    }

    std::uint32_t context(const Key& key) {
        auto [it, fresh] = context_ids_.try_emplace(key, static_cast<std::uint32_t>(contexts.size()));
        if (fresh) {
            ++ncontexts;
            keys_.emplace_back(it->second, key);  // in offset order
            varint::put_uleb(contexts, key.name);
            varint::put_uleb(contexts, key.parent ? it->second - key.parent : 0);
            if (key.parent) {
                varint::put_uleb(contexts, key.file);
                varint::put_uleb(contexts, key.line);
                varint::put_uleb(contexts, key.column);
            }
        }
        return it->second;
    }

    // locs: innermost first (DwarfSource::locate()).
    Entry entry(std::uint64_t addr, const std::vector<SourceLocation>& locs, std::uint32_t part) {
        if (locs.empty()) return {addr, 0, 0, 0, 0, part};
        std::uint32_t parent = 0;
        for (std::size_t k = locs.size(); k-- > 0;) {
            Key key{string(locs[k].function), parent, 0, 0, 0};
            if (parent) {
                key.file = string(locs[k + 1].file);
                key.line = static_cast<std::uint32_t>(locs[k + 1].line);
                key.column = static_cast<std::uint32_t>(locs[k + 1].column);
            }
            parent = context(key);
        }
        return {addr, string(locs[0].file), locs[0].line, static_cast<std::uint32_t>(locs[0].column), parent, part};
    }

    std::string_view string_at(std::uint32_t off) const { return std::string_view(strings.c_str() + off); }
    const Key& key_at(std::uint32_t off) const {
        auto it = std::lower_bound(keys_.begin(), keys_.end(), off, [](const auto& k, std::uint32_t o) { return k.first < o; });
        if (it == keys_.end() || it->first != off) throw std::out_of_range("no context at this offset");
        return it->second;
    }

private:
    struct KeyHash {
        std::size_t operator()(const Key& k) const { return XXH3_64bits(&k, sizeof k); }
    };
    struct ViewHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return XXH3_64bits(s.data(), s.size()); }
    };
    std::unordered_map<std::string, std::uint32_t, ViewHash, std::equal_to<>> string_ids_;
    std::unordered_map<Key, std::uint32_t, KeyHash> context_ids_;
    std::vector<std::pair<std::uint32_t, Key>> keys_;  // by offset, ascending
};

// Re-interns each entry's strings and context from its part's Interner
// into `out`, in address order.
void canonical(std::vector<Entry>& runs, const std::vector<Interner>& parts, Interner& out) {
    std::vector<std::unordered_map<std::uint32_t, std::uint32_t>> memo(parts.size());
    auto context = [&](auto& self, std::uint32_t part, std::uint32_t off) -> std::uint32_t {
        if (off == 0) return 0;
        auto it = memo[part].find(off);
        if (it != memo[part].end()) return it->second;
        const Interner::Key& k = parts[part].key_at(off);
        Interner::Key key{0, self(self, part, k.parent), 0, k.line, k.column};
        key.name = out.string(parts[part].string_at(k.name));
        key.file = out.string(parts[part].string_at(k.file));
        return memo[part][off] = out.context(key);
    };
    // A few thousand files for a million entries: each is interned once
    // per part, not hashed again for every entry.
    std::vector<std::unordered_map<std::uint32_t, std::uint32_t>> files(parts.size());
    for (auto& e : runs) {
        auto [it, fresh] = files[e.part].try_emplace(e.file, 0);
        if (fresh) it->second = out.string(parts[e.part].string_at(e.file));
        e.file = it->second;
        e.context = context(context, e.part, e.context);
        e.part = 0;
    }
}

// A module's sections in a private layout of the builder's own: each
// loadable section at its own place, so no address belongs to two.
std::vector<PlacedSection> private_layout(const ElfFile& ko) {
    std::vector<PlacedSection> out;
    std::uint64_t at = 0x10000000;
    for (const auto& s : ko.sections()) {
        if (!(s.flags & SHF_ALLOC) || s.size == 0) continue;
        const std::uint64_t align = std::max<std::uint64_t>(16, s.align);
        at = (at + align - 1) / align * align;
        PlacedSection p;
        p.name = s.name;
        p.elf_index = s.index;
        p.addr = at;
        p.size = s.size;
        p.placement = Placement::Relative;
        out.push_back(p);
        at += s.size + 0x1000;
    }
    return out;
}

void align8(std::string& out) { out.resize((out.size() + 7) / 8 * 8, '\0'); }

// Records of (section, lo, hi): the sections of `layout`, or the parts of
// them that `ranges` (addresses in `layout`) cover.
std::vector<fmt::Section> section_records(const std::vector<PlacedSection>& layout,
                                          const std::vector<std::pair<std::uint64_t, std::uint64_t>>* ranges) {
    std::vector<fmt::Section> out;
    for (const auto& s : layout) {
        if (!ranges) {
            out.push_back({static_cast<std::uint32_t>(s.elf_index), 0, s.addr, s.size});
            continue;
        }
        for (const auto& [lo, hi] : *ranges) {
            const std::uint64_t a = std::max(lo, s.addr), b = std::min(hi, s.addr + s.size);
            if (a < b) out.push_back({static_cast<std::uint32_t>(s.elf_index), 0, a - s.addr, b - s.addr});
        }
    }
    return out;
}

// Address order, one entry per address (every part gives the same answer
// there), and only where the answer changes.
std::vector<Entry> merge_runs(std::vector<std::vector<Entry>>& parts, const std::vector<Interner>& interners,
                              Interner& out) {
    std::vector<Entry> entries;
    for (auto& p : parts) {
        entries.insert(entries.end(), p.begin(), p.end());
        std::vector<Entry>().swap(p);
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.addr < b.addr; });
    std::vector<Entry> runs;
    for (const auto& e : entries) {
        if (!runs.empty() && runs.back().addr == e.addr) continue;
        runs.push_back(e);
    }
    std::vector<Entry>().swap(entries);
    canonical(runs, interners, out);
    std::size_t kept = 0;
    for (const auto& e : runs)
        if (kept ? !runs[kept - 1].same_answer(e) : e.context != 0) runs[kept++] = e;
    runs.resize(kept);
    return runs;
}

std::string encode(const std::vector<Entry>& runs, const Interner& in, const std::vector<PlacedSection>& layout,
                   const std::vector<std::pair<std::uint64_t, std::uint64_t>>& cu_ranges, const ElfFile& file,
                   std::uint64_t digest) {
    std::vector<fmt::Block> blocks;
    std::string data;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        static const Entry zero{0, 0, 0, 0, 0, 0};
        const bool first = i % fmt::kBlockEntries == 0;
        if (first) blocks.push_back({runs[i].addr, static_cast<std::uint32_t>(data.size()), 0});
        const Entry& prev = first ? zero : runs[i - 1];
        const Entry& e = runs[i];
        unsigned changed = (e.file != prev.file ? fmt::kFile : 0) | (e.line != prev.line ? fmt::kLine : 0) |
                           (e.column != prev.column ? fmt::kColumn : 0) |
                           (e.context != prev.context ? fmt::kContext : 0);
        varint::put_uleb(data, ((first ? 0 : e.addr - prev.addr) << 4) | changed);
        if (changed & fmt::kFile) varint::put_uleb(data, e.file);
        if (changed & fmt::kLine) varint::put_sleb(data, std::int64_t{e.line} - prev.line);
        if (changed & fmt::kColumn) varint::put_uleb(data, e.column);
        if (changed & fmt::kContext)
            varint::put_sleb(data, static_cast<std::int64_t>(e.context) - static_cast<std::int64_t>(prev.context));
    }
    if (data.size() > UINT32_MAX) throw Error(file.path(), "too much DWARF for one source index");

    SourceIndex::Header h{};
    std::memcpy(h.magic, fmt::kMagic, sizeof h.magic);
    h.version = fmt::kVersion;
    h.is_module = file.type() == ET_REL;
    h.digest = digest;
    std::memcpy(h.build_id, file.build_id().data(), std::min(file.build_id().size(), sizeof h.build_id));
    std::string payload;
    h.blocks_off = 0;
    h.nblocks = blocks.size();
    payload.append(reinterpret_cast<const char*>(blocks.data()), blocks.size() * sizeof(fmt::Block));
    h.entries_off = payload.size();
    h.entries_size = data.size();
    h.entries_count = runs.size();
    payload += data;
    h.contexts_off = payload.size();
    h.contexts_size = in.contexts.size();
    h.contexts_count = in.ncontexts;
    payload += in.contexts;
    h.strings_off = payload.size();
    h.strings_size = in.strings.size();
    payload += in.strings;
    align8(payload);
    auto put_records = [&](const std::vector<fmt::Section>& recs, std::uint64_t& off, std::uint64_t& n) {
        off = payload.size();
        n = recs.size();
        payload.append(reinterpret_cast<const char*>(recs.data()), recs.size() * sizeof(fmt::Section));
    };
    put_records(section_records(layout, nullptr), h.sections_off, h.nsections);
    put_records(section_records(layout, &cu_ranges), h.coverage_off, h.ncoverage);
    h.payload_size = payload.size();
    std::vector<std::uint64_t> sums;
    for (std::uint64_t at = 0; at < payload.size(); at += fmt::kPage)
        sums.push_back(fmt::page_sum(reinterpret_cast<const unsigned char*>(payload.data()) + at,
                                     std::min<std::uint64_t>(fmt::kPage, payload.size() - at)));
    XXH3_state_t* st = XXH3_createState();
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, &h, sizeof h);
    XXH3_64bits_update(st, sums.data(), sums.size() * 8);
    h.header_sum = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    std::string out(reinterpret_cast<const char*>(&h), sizeof h);
    out.append(reinterpret_cast<const char*>(sums.data()), sums.size() * 8);
    out += payload;
    return out;
}

// Write aside, then rename: a concurrent reader sees no file or a whole one.
bool save(const std::string& bytes, const std::string& path) {
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(std::random_device{}());
    {
        std::ofstream out(tmp, std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out) {
            fs::remove(tmp, ec);
            return false;
        }
    }
    fs::rename(tmp, path, ec);
    if (ec) fs::remove(tmp, ec);
    return !ec;
}

}  // namespace

std::shared_ptr<const SourceIndex> SourceIndex::build(std::shared_ptr<const ElfFile> file, const std::string& dir,
                                                      unsigned threads, std::span<const CuRange> cus) {
    if (!file->has_dwarf()) throw Error(file->path(), "has no DWARF to index");
    const bool is_module = file->type() == ET_REL;
    std::vector<PlacedSection> layout;
    std::unique_ptr<DwarfSource> dwarf;
    if (is_module) {
        layout = private_layout(*file);
        dwarf = DwarfSource::for_module(file, layout);
    } else {
        dwarf = DwarfSource::for_image(file, cus);
    }
    threads = std::max(1u, threads);
    std::vector<Interner> interners(threads);
    std::vector<std::vector<Entry>> parts(threads);
    std::vector<std::string> errors(threads);
    std::atomic<std::size_t> next_cu{0};
    auto run = [&](unsigned part) {
        try {
            // Neighbouring addresses mostly share an answer: each run of
            // equal answers is interned once.
            std::vector<SourceLocation> last;
            Entry interned{};
            bool any = false;
            dwarf->tabulate(next_cu, [&](std::uint64_t addr, std::vector<SourceLocation>&& locs) {
                if (!any || locs != last) {
                    interned = interners[part].entry(addr, locs, part);
                    last = std::move(locs);
                    any = true;
                }
                interned.addr = addr;
                parts[part].push_back(interned);
            });
        } catch (const std::exception& e) {
            errors[part] = e.what();
        }
    };
    std::vector<std::thread> workers;
    for (unsigned p = 1; p < threads; ++p) workers.emplace_back(run, p);
    run(0);
    for (auto& w : workers) w.join();
    for (const auto& e : errors)
        if (!e.empty()) throw Error(file->path(), "cannot index its DWARF: " + e);
    Interner interner;
    const std::vector<Entry> runs = merge_runs(parts, interners, interner);
    std::vector<Interner>().swap(interners);
    const auto cu_ranges = is_module ? dwarf->cu_ranges() : std::vector<std::pair<std::uint64_t, std::uint64_t>>{};
    const std::uint64_t digest = elf_content_digest(*file);
    auto bytes = std::make_shared<std::string>(encode(runs, interner, layout, cu_ranges, *file, digest));
    const std::string path = dir.empty() ? std::string() : path_for(*file, digest, dir);
    if (!path.empty() && save(*bytes, path))
        if (auto mapped = open_at(path, *file, digest)) return mapped;
    const auto* base = reinterpret_cast<const unsigned char*>(bytes->data());
    const std::size_t size = bytes->size();
    return adopt(std::move(bytes), base, size, *file, digest,
                 path.empty() ? file->path() + " (index in memory)" : path);
}

}  // namespace kaddr
