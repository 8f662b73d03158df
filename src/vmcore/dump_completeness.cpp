// libkdumpfile reads pages lazily, so a dump cut short (disk full while
// kdump-tools saved it, an interrupted copy) opens fine and fails later on
// some page, or worse, yields garbage from the last partial block. These
// checks compare the file size with where the format says its data ends,
// so a truncated dump is one clear error at open.
#include <gelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <vector>

#include "kaddr/error.h"
#include "dump_completeness.h"

namespace kaddr {

namespace {

std::uint64_t file_size(int fd) {
    struct stat st{};
    return ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

bool pread_all(int fd, void* buf, std::size_t len, std::uint64_t off) {
    auto* p = static_cast<char*>(buf);
    while (len) {
        ssize_t n = ::pread(fd, p, len, static_cast<off_t>(off));
        if (n <= 0) return false;
        p += n, len -= static_cast<std::size_t>(n), off += static_cast<std::uint64_t>(n);
    }
    return true;
}

[[noreturn]] void truncated(const std::string& path, std::uint64_t have, std::uint64_t need) {
    throw Error(path, "truncated dump: the file has " + std::to_string(have) + " bytes but its headers describe " +
                          std::to_string(need),
                "the dump was cut short (disk full while saving, interrupted copy); copy it again");
}

template <class T>
T le(const unsigned char* p) {
    T v;
    std::memcpy(&v, p, sizeof v);  // the dump is x86_64/arm64 little-endian; checked by libkdumpfile
    return v;
}

// The diskdump layout (makedumpfile's disk_dump_header): header block, the
// arch sub-header, two bitmaps (the second marks the pages present), then
// one 24-byte page descriptor {offset, size, flags, page_flags} per present
// page; the data ends at the largest offset + size.
void check_kdump(int fd, const std::string& path) {
    unsigned char h[464];
    if (!pread_all(fd, h, sizeof h, 0)) truncated(path, file_size(fd), sizeof h);
    const auto block = le<std::int32_t>(h + 428);
    const auto sub_blocks = le<std::int32_t>(h + 432);
    const auto bitmap_blocks = le<std::uint32_t>(h + 436);
    if (block <= 0 || sub_blocks < 0 || bitmap_blocks == 0)
        throw Error(path, "damaged kdump-compressed header (block size " + std::to_string(block) + ")");
    const std::uint64_t bs = static_cast<std::uint64_t>(block);
    const std::uint64_t bitmap_off = (1 + static_cast<std::uint64_t>(sub_blocks)) * bs;
    const std::uint64_t half = bitmap_blocks * bs / 2;
    std::vector<unsigned char> present(half);
    if (!pread_all(fd, present.data(), half, bitmap_off + half)) truncated(path, file_size(fd), bitmap_off + 2 * half);
    std::uint64_t pages = 0;
    for (unsigned char b : present) pages += static_cast<unsigned>(std::popcount(b));
    const std::uint64_t desc_off = bitmap_off + 2 * half;
    std::vector<unsigned char> descs(pages * 24);
    if (!pread_all(fd, descs.data(), descs.size(), desc_off)) truncated(path, file_size(fd), desc_off + descs.size());
    std::uint64_t end = desc_off + descs.size();
    for (std::uint64_t i = 0; i < pages; ++i) {
        const unsigned char* d = descs.data() + i * 24;
        end = std::max(end, static_cast<std::uint64_t>(le<std::int64_t>(d)) + le<std::uint32_t>(d + 8));
    }
    if (const std::uint64_t have = file_size(fd); have < end) truncated(path, have, end);
}

void check_elf(int fd, const std::string& path) {
    elf_version(EV_CURRENT);
    Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
    if (!elf) throw Error(path, std::string("not a readable ELF core: ") + elf_errmsg(-1));
    std::size_t n = 0;
    std::uint64_t end = 0;
    if (elf_getphdrnum(elf, &n) == 0)
        for (std::size_t i = 0; i < n; ++i) {
            GElf_Phdr ph;
            if (gelf_getphdr(elf, static_cast<int>(i), &ph)) end = std::max<std::uint64_t>(end, ph.p_offset + ph.p_filesz);
        }
    elf_end(elf);
    if (const std::uint64_t have = file_size(fd); have < end) truncated(path, have, end);
}

}  // namespace

void check_complete(int fd, DumpFormat format, const std::string& path) {
    if (format == DumpFormat::Elf) check_elf(fd, path);
    else check_kdump(fd, path);  // a flattened stream was rebuilt into kdump form
}

}  // namespace kaddr
