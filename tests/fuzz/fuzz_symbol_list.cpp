// A symbol listing, chosen at build time: /proc/kallsyms captures
// (KFUZZ_KALLSYMS) or System.map in `nm -n` format (KFUZZ_SYSTEM_MAP).
// Read as kaddr reads them: through read_text_file, then the parser. A
// kallsyms capture the full parse accepts is also skimmed (with a small
// head and stride, so that short inputs have all three parts): the skim
// must accept it too, and give only lines the full parse gave.
#include <set>

#include "fuzz_support.h"
#include "kaddr/error.h"
#include "kaddr/inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static kfuzz::MemFile file;
    kfuzz::small_limit();
    const std::string path = file.hold(data, size);
    try {
        kaddr::TextFile text = kaddr::read_text_file(path);
#if defined(KFUZZ_KALLSYMS)
        const std::string_view view = text.text;
        kaddr::SymbolList list = kaddr::parse_kallsyms(std::move(text), path);
#else
        kaddr::SymbolList list = kaddr::parse_system_map(std::move(text), path);
#endif
        for (const auto& s : list.symbols)
            if (s.name.size() > size || s.module.size() > size) __builtin_trap();  // views into the text
#if defined(KFUZZ_KALLSYMS)
        std::set<const char*> names;
        for (const auto& s : list.symbols) names.insert(s.name.data());
        try {
            kaddr::skim_kallsyms(view, path, 64, 32, [&](const kaddr::ListedSymbol& s, bool) {
                if (!names.count(s.name.data())) __builtin_trap();
            });
        } catch (const kaddr::Error&) {
            __builtin_trap();  // the full parse accepted every line
        }
#endif
    } catch (const kaddr::Error&) {
    }
    return 0;
}
