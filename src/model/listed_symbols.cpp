#include "listed_symbols.h"

namespace kaddr {

namespace {

constexpr std::size_t kSampleStride = 97;

bool is_core_anchor(std::string_view name) {
    return name.size() >= 4 && name.size() <= 6 && name[0] == '_' && (name == "_text" || name == "_stext" || name == "_end");
}

}  // namespace

void read_kallsyms(Listed& listed, std::string_view text, const std::string& file, bool keep_core) {
    listed.kallsyms_text = text;
    listed.core_kept = keep_core;
    std::string module;
    std::vector<ListedSymbol>* into = nullptr;
    std::size_t core_count = 0;
    scan_kallsyms(text, file, [&](const ListedSymbol& s) {
        if (!s.module.empty()) {
            if (!into || s.module != module) {  // a module's symbols are listed together
                module = s.module;
                into = &listed.modules[canonical_module_name(module)];
            }
            into->push_back(s);
            return;
        }
        if (core_count++ % kSampleStride == 0 && (s.type == 'T' || s.type == 't')) listed.core_sample.push_back(s);
        if (is_core_anchor(s.name)) listed.core_anchors.push_back(s);
        if (keep_core) listed.core.push_back(s);
    });
    listed.has_core = core_count > 0;
}

const std::vector<ListedSymbol>& all_core(Listed& listed, const std::string& file) {
    if (!listed.core_kept) {
        scan_kallsyms(listed.kallsyms_text, file, [&](const ListedSymbol& s) {
            if (s.module.empty()) listed.core.push_back(s);
        });
        listed.core_kept = true;
    }
    return listed.core;
}

}  // namespace kaddr
