// One line-format parser of a capture, chosen at build time: /proc/modules
// (KFUZZ_PROC_MODULES), the flat section list 'module section address'
// (KFUZZ_SECTION_LIST) or /proc/version (KFUZZ_PROC_VERSION). Read as kaddr
// reads them: through read_text_file, then the parser.
#include <sstream>

#include "fuzz_support.h"
#include "kaddr/error.h"
#include "kaddr/inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static kfuzz::MemFile file;
    kfuzz::small_limit();
    const std::string path = file.hold(data, size);
    try {
        std::istringstream in = kaddr::text_input_stream(path);
#if defined(KFUZZ_PROC_MODULES)
        for (const auto& m : kaddr::parse_proc_modules(in, path))
            if (m.base == 0) __builtin_trap();  // refused, never returned
#elif defined(KFUZZ_SECTION_LIST)
        (void)kaddr::parse_section_list(in, path);
#else
        (void)kaddr::parse_proc_version(in, path);
#endif
    } catch (const kaddr::Error&) {
    }
    return 0;
}
