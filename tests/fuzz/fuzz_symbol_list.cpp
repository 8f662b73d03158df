// A symbol listing, chosen at build time: /proc/kallsyms captures
// (KFUZZ_KALLSYMS) or System.map in `nm -n` format (KFUZZ_SYSTEM_MAP).
// Read as kaddr reads them: through read_text_file, then the parser.
#include "fuzz_support.h"
#include "kaddr/error.h"
#include "kaddr/inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static kfuzz::MemFile file;
    kfuzz::small_limit();
    const std::string path = file.hold(data, size);
    try {
#if defined(KFUZZ_KALLSYMS)
        kaddr::SymbolList list = kaddr::parse_kallsyms(kaddr::read_text_file(path), path);
#else
        kaddr::SymbolList list = kaddr::parse_system_map(kaddr::read_text_file(path), path);
#endif
        for (const auto& s : list.symbols)
            if (s.name.size() > size || s.module.size() > size) __builtin_trap();  // views into the text
    } catch (const kaddr::Error&) {
    }
    return 0;
}
