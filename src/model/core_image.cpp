#include "core_image.h"

#include <gelf.h>

#include <algorithm>

namespace kaddr {

void add_image_symbols(SymbolTable& table, const ElfFile& image, const std::vector<ElfSymbol>& syms,
                       std::uint64_t shift) {
    const auto& secs = image.sections();
    table.reserve(syms.size());
    for (const auto& s : syms) {
        if (s.section == SHN_ABS || s.section >= secs.size() || !(secs[s.section].flags & SHF_ALLOC)) continue;
        table.add({s.value + shift, s.size, true, s.type == STT_FUNC, s.bind != STB_LOCAL, s.name, false});
    }
}

std::pair<std::uint64_t, std::uint64_t> image_range(const ElfFile& image, std::optional<std::uint64_t> text,
                                                    std::optional<std::uint64_t> end) {
    std::uint64_t lo = ~0ULL, hi = 0;
    for (const auto& sec : image.sections())
        if ((sec.flags & SHF_ALLOC) && sec.addr && sec.size && !(sec.flags & SHF_TLS)) {
            lo = std::min(lo, sec.addr);
            hi = std::max(hi, sec.addr + sec.size);
        }
    if (text) lo = std::max(lo, *text);
    if (end) hi = std::min(hi, *end);
    return {lo, hi};
}

}  // namespace kaddr
