#include "kaddr/image_index.h"

#include <elfutils/libdw.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core_image.h"
#include "kaddr/elf_facts.h"
#include "kaddr/mapped_file.h"

namespace kaddr {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'K', 'A', 'D', 'D', 'R', 'I', 'X', '1'};
constexpr std::uint32_t kVersion = 6;  // 6: XXH3-64 checksum

struct Header {
    char magic[8];
    std::uint32_t version;
    std::uint32_t strtab_section;
    std::uint64_t nsymbols;
    std::uint64_t ncus;  // the by-name permutation has nsymbols entries
    std::uint64_t checksum;
};

// XXH3-64 of the payload, in place of the hand-written SSE4.2 CRC-32C
// this had: a library's hash instead of our SIMD code. It reads the whole
// 5 MB index on every run, a few milliseconds on a loaded machine (the
// figures against the old CRC and zlib's are in README). Detects a damaged or
// truncated file; it is not a defence against a crafted one, which is
// why every offset read from the file is bounds-checked where it is used.
std::uint64_t payload_checksum(const ImageIndex& idx) {
    XXH3_state_t* st = XXH3_createState();
    if (!st) return 0;  // never matches a stored checksum: the index is rebuilt
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, idx.symbols.data(), idx.symbols.size_bytes());
    XXH3_64bits_update(st, idx.by_name.data(), idx.by_name.size_bytes());
    XXH3_64bits_update(st, idx.cus.data(), idx.cus.size_bytes());
    const std::uint64_t h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h;
}

// File layout: Header, symbols, by_name, padding to 8 bytes, cus.
std::size_t cus_offset(std::uint64_t nsymbols) {
    std::size_t off = sizeof(Header) + nsymbols * sizeof(PackedSymbol) + nsymbols * sizeof(std::uint32_t);
    return (off + 7) / 8 * 8;
}

struct Built {
    std::vector<PackedSymbol> symbols;
    std::vector<std::uint32_t> by_name;
    std::vector<CuRange> cus;
};

std::string index_path(const ElfFile& image, const std::string& dir) {
    char digest[17];
    std::snprintf(digest, sizeof digest, "%016llx", static_cast<unsigned long long>(elf_content_digest(image)));
    return (fs::path(dir) / (image.build_id() + "-" + digest + ".idx")).string();
}

std::optional<ImageIndex> load(const ElfFile& image, const std::string& path) {
    // Only a regular file is mapped: a FIFO or device planted at the path
    // is skipped (and replaced by the rename in save()), never waited on.
    // Populated up front: the checksum reads every page anyway, and one
    // call maps them faster than a fault per page.
    auto m = MappedFile::try_open(path, true);
    if (!m || m->size() < sizeof(Header)) return std::nullopt;
    const char* base = m->bytes().data();
    Header h;
    std::memcpy(&h, base, sizeof h);
    if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.version != kVersion ||
        h.strtab_section != image.symbol_strings() || h.nsymbols > (1u << 26) || h.ncus > (1u << 26) ||
        cus_offset(h.nsymbols) + h.ncus * sizeof(CuRange) != m->size())
        return std::nullopt;
    ImageIndex idx;
    idx.strtab_section = h.strtab_section;
    idx.symbols = {reinterpret_cast<const PackedSymbol*>(base + sizeof(Header)), h.nsymbols};
    idx.by_name = {reinterpret_cast<const std::uint32_t*>(base + sizeof(Header) + h.nsymbols * sizeof(PackedSymbol)),
                   h.nsymbols};
    idx.cus = {reinterpret_cast<const CuRange*>(base + cus_offset(h.nsymbols)), h.ncus};
    if (payload_checksum(idx) != h.checksum) return std::nullopt;
    // Names and the by-name permutation are bounds-checked where they are
    // used (SymbolTable::adopt_packed, ImageIndex::name).
    idx.storage = std::move(m);
    return idx;
}

void save(const ImageIndex& idx, const std::string& path) {
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    // Write aside, then rename: a concurrent reader sees the old file or the
    // whole new one, never half of it.
    std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(std::random_device{}());
    {
        std::ofstream out(tmp, std::ios::binary);
        Header h{};
        std::memcpy(h.magic, kMagic, sizeof kMagic);
        h.version = kVersion;
        h.strtab_section = idx.strtab_section;
        h.nsymbols = idx.symbols.size();
        h.ncus = idx.cus.size();
        h.checksum = payload_checksum(idx);
        out.write(reinterpret_cast<const char*>(&h), sizeof h);
        out.write(reinterpret_cast<const char*>(idx.symbols.data()), static_cast<std::streamsize>(idx.symbols.size() * sizeof(PackedSymbol)));
        out.write(reinterpret_cast<const char*>(idx.by_name.data()), static_cast<std::streamsize>(idx.by_name.size() * sizeof(std::uint32_t)));
        const std::size_t pad = cus_offset(idx.symbols.size()) - (sizeof h + idx.symbols.size_bytes() + idx.by_name.size_bytes());
        out.write("\0\0\0\0\0\0\0", static_cast<std::streamsize>(pad));
        out.write(reinterpret_cast<const char*>(idx.cus.data()), static_cast<std::streamsize>(idx.cus.size() * sizeof(CuRange)));
        if (!out) {
            fs::remove(tmp, ec);
            return;
        }
    }
    fs::rename(tmp, path, ec);
    if (ec) fs::remove(tmp, ec);
}

std::optional<std::uint64_t> find(const std::vector<ElfSymbol>& syms, std::string_view name) {
    for (const auto& s : syms)
        if (s.name == name) return s.value;
    return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> ImageIndex::link_address(std::string_view n, std::string_view strtab) const {
    auto name_at = [&](std::uint32_t i) { return i < symbols.size() ? name(symbols[i], strtab) : std::string_view(); };
    auto it = std::lower_bound(by_name.begin(), by_name.end(), n,
                               [&](std::uint32_t i, std::string_view key) { return name_at(i) < key; });
    if (it == by_name.end() || *it >= symbols.size() || name_at(*it) != n) return std::nullopt;
    return symbols[*it].addr;
}

void ImageIndex::load_into(SymbolTable& table, std::string_view strtab, std::uint64_t shift) const {
    table.adopt_packed(symbols, by_name, strtab, shift, storage);
}

std::string default_index_dir() {
    if (const char* c = std::getenv("KADDR_CACHE"); c && *c) return std::string(c) + "/index";
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/kaddr/index";
    if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/kaddr/index";
    return {};
}

ImageIndex build_image_index(const ElfFile& image) {
    auto built = std::make_shared<Built>();
    ImageIndex idx;
    idx.strtab_section = static_cast<std::uint32_t>(image.symbol_strings());
    const std::string_view strtab = image.section_bytes(idx.strtab_section);
    const auto syms = image.symbols();
    SymbolTable table;
    add_image_symbols(table, image, syms, 0);
    table.finalize(image_range(image, find(syms, "_text"), find(syms, "_end")).second);
    built->symbols.reserve(table.size());
    for (const auto& s : table.all()) {
        PackedSymbol r{};
        r.addr = s.addr;
        r.size = s.size;
        r.span = s.span;
        r.name_off = static_cast<std::uint32_t>(s.name.data() - strtab.data());
        r.name_len = static_cast<std::uint32_t>(s.name.size());
        r.size_known = s.size_known;
        r.is_function = s.is_function;
        r.rank = static_cast<std::int8_t>(s.rank);
        built->symbols.push_back(r);
    }
    // The by-name permutation, sorted on each name's first 24 bytes (three
    // big-endian words, so that integer order is byte order) before the
    // names themselves: comparing 110,000 names in the string table was a
    // third of a first run (cache misses), and kernel names share long
    // prefixes (__ksymtab_, trace_event_raw_event_, ...).
    constexpr std::size_t kWords = 3;
    struct Keyed {
        std::array<std::uint64_t, kWords> prefix;
        std::uint32_t index;
    };
    std::vector<Keyed> keyed(built->symbols.size());
    for (std::uint32_t i = 0; i < keyed.size(); ++i) {
        const std::string_view n = idx.name(built->symbols[i], strtab);
        keyed[i].index = i;
        for (std::size_t w = 0; w < kWords; ++w) {
            std::uint64_t word = 0;
            for (std::size_t k = w * 8; k < w * 8 + 8; ++k) word = word << 8 | (k < n.size() ? static_cast<unsigned char>(n[k]) : 0u);
            keyed[i].prefix[w] = word;
        }
    }
    std::sort(keyed.begin(), keyed.end(), [&](const Keyed& a, const Keyed& b) {
        for (std::size_t w = 0; w < kWords; ++w)  // not std::array's operators: they call memcmp
            if (a.prefix[w] != b.prefix[w]) return a.prefix[w] < b.prefix[w];
        // The same first 24 bytes (or the whole of names shorter than that,
        // which hold no NUL): the rest decides, then the address order.
        const std::string_view na = idx.name(built->symbols[a.index], strtab), nb = idx.name(built->symbols[b.index], strtab);
        const std::size_t skip = 8 * kWords;
        const std::string_view ta = na.substr(std::min(skip, na.size())), tb = nb.substr(std::min(skip, nb.size()));
        return ta != tb ? ta < tb : a.index < b.index;
    });
    auto& names = built->by_name;
    names.resize(keyed.size());
    for (std::size_t i = 0; i < keyed.size(); ++i) names[i] = keyed[i].index;
    if (image.has_dwarf()) {
        // The same .debug_aranges libdwfl would read and sort on every run.
        if (Dwarf* dw = dwarf_begin_elf(image.elf(), DWARF_C_READ, nullptr)) {
            Dwarf_Aranges* ar = nullptr;
            std::size_t n = 0;
            if (dwarf_getaranges(dw, &ar, &n) == 0)
                for (std::size_t i = 0; i < n; ++i) {
                    Dwarf_Addr a;
                    Dwarf_Word len;
                    Dwarf_Off off;
                    if (dwarf_getarangeinfo(dwarf_onearange(ar, i), &a, &len, &off) == 0 && len)
                        built->cus.push_back({a, a + len, off});
                }
            dwarf_end(dw);
            std::sort(built->cus.begin(), built->cus.end(), [](const CuRange& x, const CuRange& y) { return x.lo < y.lo; });
        }
    }
    idx.symbols = built->symbols;
    idx.by_name = built->by_name;
    idx.cus = built->cus;
    idx.storage = std::move(built);
    return idx;
}

std::optional<ImageIndex> image_index(const ElfFile& image, const std::string& dir) {
    if (image.build_id().empty() || dir.empty() || image.symbol_strings() == 0) return std::nullopt;
    const std::string path = index_path(image, dir);
    if (auto idx = load(image, path)) return idx;
    ImageIndex idx = build_image_index(image);
    save(idx, path);
    return idx;
}

}  // namespace kaddr
