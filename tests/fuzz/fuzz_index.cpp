// The persisted index reader: the input is written where kaddr looks for
// the fixture vmlinux's index, then loaded and searched. The checksum is
// fixed up first when the header's counts fit the input (a fuzzer cannot
// forge XXH3, and everything after the check must hold against a crafted
// file too: the checksum catches damage, not malice).
#include <xxhash.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "fuzz_support.h"
#include "kaddr/image_index.h"

namespace fs = std::filesystem;

namespace {

// The on-disk header (image_index.cpp): magic, version, strtab section,
// symbol count, CU count, checksum.
constexpr std::size_t kHeader = 40;

void fix_checksum(std::vector<char>& b) {
    if (b.size() < kHeader) return;
    std::uint64_t nsym, ncus;
    std::memcpy(&nsym, b.data() + 16, 8);
    std::memcpy(&ncus, b.data() + 24, 8);
    if (nsym > (1u << 20) || ncus > (1u << 20)) return;
    const std::size_t syms = nsym * sizeof(kaddr::PackedSymbol), names = nsym * 4;
    const std::size_t cus_at = (kHeader + syms + names + 7) / 8 * 8, cus = ncus * sizeof(kaddr::CuRange);
    if (cus_at + cus != b.size()) return;
    XXH3_state_t* st = XXH3_createState();
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, b.data() + kHeader, syms);
    XXH3_64bits_update(st, b.data() + kHeader + syms, names);
    XXH3_64bits_update(st, b.data() + cus_at, cus);
    const std::uint64_t h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    std::memcpy(b.data() + 32, &h, 8);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto image = kaddr::ElfFile::open(std::string(KADDR_FIXTURES) + "/fxvmlinux");
    static const fs::path dir = fs::temp_directory_path() / ("kaddr-fuzz-index-" + std::to_string(getpid()));
    static const fs::path file = [] {
        fs::create_directories(dir);
        (void)kaddr::image_index(*image, dir.string());  // writes the one index file
        return fs::directory_iterator(dir)->path();
    }();
    std::vector<char> bytes(data, data + size);
    fix_checksum(bytes);
    std::ofstream(file, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    auto idx = kaddr::image_index(*image, dir.string());  // a reject is rebuilt and saved: the seed again
    if (!idx) return 0;
    const std::string_view strtab = image->section_bytes(idx->strtab_section);
    kaddr::SymbolTable table;
    idx->load_into(table, strtab, 0);
    for (std::uint64_t a : {0xffffffff81000000ULL, 0xffffffff81000060ULL, 0xffffffff810000d0ULL, 0ULL, ~0ULL})
        if (const kaddr::Symbol* s = table.lookup(a)) (void)s->name.size();
    for (const char* n : {"main", "fx_dup", "_text", ""}) {
        (void)idx->link_address(n, strtab);
        (void)table.by_name(n);
    }
    return 0;
}
