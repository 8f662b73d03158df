// Address and frame expressions as users type them (kaddr resolve) and as
// reports print them: each line through the lexemes and the resolver.
#include <string_view>

#include "fuzz_support.h"
#include "kaddr/lexemes.h"
#include "kaddr/oops.h"
#include "kaddr/resolver.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const kaddr::Resolver resolver(kfuzz::capture());
    std::string_view all(reinterpret_cast<const char*>(data), size);
    for (std::size_t n = 0; !all.empty() && n < 16; ++n) {
        const std::size_t eol = std::min(all.find('\n'), all.size());
        const std::string line(all.substr(0, eol));
        all.remove_prefix(std::min(eol + 1, all.size()));
        (void)kaddr::parse_hex(line);
        (void)kaddr::parse_number(line);
        std::size_t used = 0;
        if (auto ref = kaddr::parse_symbol_ref(line, &used); ref && used > line.size()) __builtin_trap();
        (void)kaddr::parse_frame_text(line);
        for (auto kind : {kaddr::AddressKind::Precise, kaddr::AddressKind::Return})
            (void)resolver.resolve_text(line, kind);
    }
    return 0;
}
