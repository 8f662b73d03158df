#include "kaddr/elf_facts.h"

#include <elfutils/version.h>
#include <fcntl.h>
#include <gelf.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#include <cstring>

#include "kaddr/error.h"

namespace kaddr {

namespace {

const ElfSection* section_named(const ElfFile& f, std::string_view name) {
    for (const auto& s : f.sections())
        if (s.name == name) return &s;
    return nullptr;
}

}  // namespace

std::string module_vermagic_release(const ElfFile& ko) {
    const ElfSection* s = section_named(ko, ".modinfo");
    if (!s) return {};
    const std::string_view info = ko.section_bytes(s->index);
    // NUL-separated key=value strings.
    for (std::size_t at = 0; at < info.size();) {
        std::size_t end = info.find('\0', at);
        if (end == std::string_view::npos) end = info.size();
        const std::string_view kv = info.substr(at, end - at);
        if (kv.starts_with("vermagic=")) {
            std::string_view v = kv.substr(9);
            return std::string(v.substr(0, v.find(' ')));
        }
        at = end + 1;
    }
    return {};
}

std::optional<DebugLink> read_debuglink(const ElfFile& f) {
    const ElfSection* s = section_named(f, ".gnu_debuglink");
    if (!s) return std::nullopt;
    const std::string_view b = f.section_bytes(s->index);
    const std::size_t nul = b.find('\0');
    if (nul == std::string_view::npos || nul == 0) return std::nullopt;
    // The name, NUL padding to a 4-byte boundary, then the CRC in the file's byte order.
    const std::size_t crc_at = (nul + 4) & ~std::size_t{3};
    if (crc_at + 4 > b.size()) return std::nullopt;
    DebugLink l;
    l.name.assign(b.substr(0, nul));
    std::memcpy(&l.crc, b.data() + crc_at, 4);
    return l;
}

std::uint32_t file_crc32(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path, std::string("cannot read: ") + std::strerror(errno));
    uLong crc = crc32(0L, Z_NULL, 0);
    static thread_local char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int e = errno;
            ::close(fd);
            throw Error(path, std::string("read failed: ") + std::strerror(e));
        }
        if (n == 0) break;
        crc = crc32(crc, reinterpret_cast<const Bytef*>(buf), static_cast<uInt>(n));
    }
    ::close(fd);
    return static_cast<std::uint32_t>(crc);
}

std::string dwarf_unreadable_reason(const ElfFile& f) {
#if !_ELFUTILS_PREREQ(0, 189)
    constexpr unsigned kZstd = 2;  // ELFCOMPRESS_ZSTD
    for (const auto& s : f.sections()) {
        if (!(s.flags & SHF_COMPRESSED) || !s.name.starts_with(".debug_")) continue;
        GElf_Chdr ch;
        Elf_Scn* scn = elf_getscn(f.elf(), s.index);
        if (scn && gelf_getchdr(scn, &ch) && ch.ch_type == kZstd)
            return f.path() + ": its DWARF is zstd-compressed (" + s.name +
                   "), which this elfutils (" + std::to_string(_ELFUTILS_VERSION / 1000) + "." +
                   std::to_string(_ELFUTILS_VERSION % 1000) +
                   ") cannot read: answers from it are symbol-only (run `objcopy --decompress-debug-sections` on a copy, "
                   "or build kaddr with elfutils 0.189 or newer)";
    }
#else
    (void)f;
#endif
    return {};
}

Arch elf_arch(const ElfFile& f) { return arch_from_elf_machine(f.machine()); }

std::uint64_t elf_content_digest(const ElfFile& f) {
    XXH3_state_t* st = XXH3_createState();
    XXH3_64bits_reset(st);
    auto add = [&](const auto& v) { XXH3_64bits_update(st, &v, sizeof v); };
    add(f.file_size());
    add(f.machine());
    add(f.type());
    for (const auto& s : f.sections()) {
        XXH3_64bits_update(st, s.name.data(), s.name.size() + 1);
        add(s.type);
        add(s.flags);
        add(s.addr);
        add(s.size);
        add(s.offset);
    }
    const std::uint64_t h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h;
}

}  // namespace kaddr
