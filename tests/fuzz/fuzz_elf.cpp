// ELF / .ko opening (plain or compressed) and the module layout
// reconstruction that reads its section headers, for each architecture's
// rules and both eras.
#include "fuzz_support.h"
#include "kaddr/elf_file.h"
#include "kaddr/error.h"
#include "kaddr/module_layout.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static kfuzz::MemFile file;
    kfuzz::small_limit();
    const std::string path = file.hold(data, size);
    try {
        auto elf = kaddr::ElfFile::open(path);
        for (const auto& s : elf->symbols()) (void)s.name.size();
        for (const auto& s : elf->sections()) (void)elf->section_bytes(s.index).size();
        for (kaddr::Arch arch : {kaddr::Arch::X86_64, kaddr::Arch::Arm64, kaddr::Arch::Arm})
            for (auto era : {kaddr::ModuleMemoryEra::CoreInit, kaddr::ModuleMemoryEra::PerType}) {
                kaddr::LayoutRules rules;
                rules.arch = arch;
                rules.era = era;
                (void)kaddr::reconstruct_layout(*elf, 0xffffffffc0000000ULL, rules);
                (void)kaddr::loadable_sections(*elf, rules);
            }
    } catch (const kaddr::Error&) {
    }
    return 0;
}
