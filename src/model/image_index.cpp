#include "kaddr/image_index.h"

#include <elfutils/libdw.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core_image.h"

namespace kaddr {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'K', 'A', 'D', 'D', 'R', 'I', 'X', '1'};
constexpr std::uint32_t kVersion = 5;  // 5: CRC-32C checksum

struct Header {
    char magic[8];
    std::uint32_t version;
    std::uint32_t strtab_section;
    std::uint64_t nsymbols;
    std::uint64_t ncus;  // the by-name permutation has nsymbols entries
    std::uint64_t checksum;
};

// CRC-32C (Castagnoli), byte at a time from a table: for CPUs without the
// instruction, and for the tail.
std::uint32_t crc32c_bytes(std::uint32_t crc, const unsigned char* p, std::size_t n) {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    for (std::size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
// SSE4.2's crc32 instruction, eight bytes at a time, four streams at once
// (its latency is three cycles; independent streams fill the pipeline).
__attribute__((target("sse4.2"))) void crc32c_streams_sse42(const unsigned char* const* p, std::size_t words,
                                                             std::uint32_t* crc) {
    std::uint64_t c0 = crc[0], c1 = crc[1], c2 = crc[2], c3 = crc[3];
    const unsigned char *p0 = p[0], *p1 = p[1], *p2 = p[2], *p3 = p[3];
    auto word = [](const unsigned char* q) {
        std::uint64_t w;
        std::memcpy(&w, q, 8);
        return w;
    };
    for (std::size_t i = 0; i < words; ++i, p0 += 8, p1 += 8, p2 += 8, p3 += 8) {
        c0 = _mm_crc32_u64(c0, word(p0));
        c1 = _mm_crc32_u64(c1, word(p1));
        c2 = _mm_crc32_u64(c2, word(p2));
        c3 = _mm_crc32_u64(c3, word(p3));
    }
    crc[0] = static_cast<std::uint32_t>(c0);
    crc[1] = static_cast<std::uint32_t>(c1);
    crc[2] = static_cast<std::uint32_t>(c2);
    crc[3] = static_cast<std::uint32_t>(c3);
}
#endif

// The checksum of one part of the payload: CRC-32C of its four quarters
// (and the tail), folded into `h`. Detects a damaged or truncated file; the
// checksum reads the whole index, so it must run at memory speed.
std::uint64_t checksum_bytes(const void* data, std::size_t n, std::uint64_t h) {
    const auto* base = static_cast<const unsigned char*>(data);
    const std::size_t words = n / 32, quarter = words * 8;
    const unsigned char* p[4] = {base, base + quarter, base + 2 * quarter, base + 3 * quarter};
    std::uint32_t crc[4] = {~0u, ~0u, ~0u, ~0u};
#if defined(__x86_64__)
    static const bool sse42 = __builtin_cpu_supports("sse4.2");
    if (sse42) crc32c_streams_sse42(p, words, crc);
    else
#endif
        for (int k = 0; k < 4; ++k) crc[k] = crc32c_bytes(crc[k], p[k], quarter);
    crc[0] = crc32c_bytes(crc[0], base + 4 * quarter, n - 4 * quarter);
    for (std::uint32_t c : crc) h = (h ^ c) * 1099511628211ULL;
    return h;
}

std::uint64_t payload_checksum(const ImageIndex& idx) {
    std::uint64_t h = 1469598103934665603ULL;
    h = checksum_bytes(idx.symbols.data(), idx.symbols.size_bytes(), h);
    h = checksum_bytes(idx.by_name.data(), idx.by_name.size_bytes(), h);
    return checksum_bytes(idx.cus.data(), idx.cus.size_bytes(), h);
}

// File layout: Header, symbols, by_name, padding to 8 bytes, cus.
std::size_t cus_offset(std::uint64_t nsymbols) {
    std::size_t off = sizeof(Header) + nsymbols * sizeof(PackedSymbol) + nsymbols * sizeof(std::uint32_t);
    return (off + 7) / 8 * 8;
}

struct Mapping {
    void* addr = nullptr;
    std::size_t size = 0;
    ~Mapping() {
        if (addr) munmap(addr, size);
    }
};

struct Built {
    std::vector<PackedSymbol> symbols;
    std::vector<std::uint32_t> by_name;
    std::vector<CuRange> cus;
};

std::string index_path(const ElfFile& image, const std::string& dir) {
    return (fs::path(dir) / (image.build_id() + "-" + std::to_string(image.file_size()) + "-" +
                             std::to_string(image.mtime()) + ".idx"))
        .string();
}

std::optional<ImageIndex> load(const ElfFile& image, const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    struct stat st {};
    auto m = std::make_shared<Mapping>();
    if (fstat(fd, &st) == 0 && static_cast<std::size_t>(st.st_size) >= sizeof(Header)) {
        m->size = static_cast<std::size_t>(st.st_size);
        // Populated up front: the checksum reads every page anyway, and one
        // call maps them faster than a fault per page.
        m->addr = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (m->addr == MAP_FAILED) m->addr = nullptr;
    }
    ::close(fd);
    if (!m->addr) return std::nullopt;
    const char* base = static_cast<const char*>(m->addr);
    Header h;
    std::memcpy(&h, base, sizeof h);
    if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.version != kVersion ||
        h.strtab_section != image.symbol_strings() || h.nsymbols > (1u << 26) || h.ncus > (1u << 26) ||
        cus_offset(h.nsymbols) + h.ncus * sizeof(CuRange) != m->size)
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
    auto& names = built->by_name;
    names.resize(built->symbols.size());
    for (std::uint32_t i = 0; i < names.size(); ++i) names[i] = i;
    std::sort(names.begin(), names.end(), [&](std::uint32_t a, std::uint32_t b) {
        std::string_view na = idx.name(built->symbols[a], strtab), nb = idx.name(built->symbols[b], strtab);
        return na != nb ? na < nb : a < b;
    });
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
