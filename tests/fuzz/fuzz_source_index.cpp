// The source index reader: the input is written where kaddr looks for the
// fixture vmlinux's source index, then opened and searched over the
// fixture's whole address range. The identity fields (magic, version,
// digest, build-id) are set to the fixture's and the checksums fixed up
// when the header's size fits the input, so that mutations reach the
// decoder: a fuzzer cannot forge XXH3, and the decoder must hold against a
// crafted file too (the checksums catch damage, not malice).
#include <xxhash.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "fuzz_support.h"
#include "index/source_index_format.h"
#include "kaddr/elf_facts.h"
#include "kaddr/source_index.h"

namespace fs = std::filesystem;
namespace fmt = kaddr::source_index_format;
using Header = kaddr::SourceIndex::Header;

namespace {

void fix_up(std::vector<char>& b, const kaddr::ElfFile& image) {
    if (b.size() < sizeof(Header)) return;
    Header h;
    std::memcpy(&h, b.data(), sizeof h);
    std::memcpy(h.magic, fmt::kMagic, sizeof h.magic);
    h.version = fmt::kVersion;
    h.digest = kaddr::elf_content_digest(image);
    std::memset(h.build_id, 0, sizeof h.build_id);
    std::memcpy(h.build_id, image.build_id().data(), std::min(image.build_id().size(), sizeof h.build_id));
    const std::uint64_t room = b.size() - sizeof h;
    const std::uint64_t npages = (h.payload_size + fmt::kPage - 1) / fmt::kPage;
    if (h.payload_size <= room && npages * 8 + h.payload_size == room) {
        char* sums = b.data() + sizeof h;
        const auto* payload = reinterpret_cast<const unsigned char*>(sums + npages * 8);
        for (std::uint64_t p = 0; p < npages; ++p) {
            const std::uint64_t s = fmt::page_sum(payload + p * fmt::kPage, std::min(fmt::kPage, h.payload_size - p * fmt::kPage));
            std::memcpy(sums + p * 8, &s, 8);
        }
        h.header_sum = 0;
        XXH3_state_t* st = XXH3_createState();
        XXH3_64bits_reset(st);
        XXH3_64bits_update(st, &h, sizeof h);
        XXH3_64bits_update(st, sums, npages * 8);
        h.header_sum = XXH3_64bits_digest(st);
        XXH3_freeState(st);
    }
    std::memcpy(b.data(), &h, sizeof h);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto image = kaddr::ElfFile::open(std::string(KADDR_FIXTURES) + "/fxvmlinux");
    static const fs::path dir = fs::temp_directory_path() / ("kaddr-fuzz-srcidx-" + std::to_string(getpid()));
    static const std::string file = [] {
        fs::create_directories(dir);
        return kaddr::SourceIndex::path_in(*image, dir.string());
    }();
    std::vector<char> bytes(data, data + size);
    fix_up(bytes, *image);
    std::ofstream(file, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    auto idx = kaddr::SourceIndex::open(*image, dir.string());
    if (!idx) return 0;
    for (std::uint64_t a = 0xffffffff80fffff0ULL; a < 0xffffffff81000400ULL; a += 3) (void)idx->locate(a);
    (void)idx->locate(0);
    (void)idx->locate(~std::uint64_t{0});
    return 0;
}
