#include "listed_symbols.h"

namespace kaddr {

namespace {

// The same-build sample: one core line in 97 where every line is read, and
// one per 16 KiB where kallsyms is skimmed: each costs a by-name search
// of the vmlinux index (1.6 us, cache misses in its string table), and a
// hundred are plenty to tell another build.
constexpr std::size_t kSampleStride = 97;
constexpr std::size_t kSampleStrideBytes = 16384;
// kallsyms lists the KASLR anchors after the per-cpu symbols, within the
// first 20 KiB on every captured kernel; the head read whole is larger.
constexpr std::size_t kHeadBytes = 64 * 1024;

bool is_core_anchor(std::string_view name) { return name == "_text" || name == "_stext"; }

void keep(Listed& listed, const ListedSymbol& s, bool picked, std::size_t& core_count, std::string& module,
          std::vector<ListedSymbol>*& into) {
    if (!s.module.empty()) {
        if (!into || s.module != module) {  // a module's symbols are listed together
            module = s.module;
            into = &listed.modules[canonical_module_name(module)];
        }
        into->push_back(s);
        return;
    }
    if ((picked || core_count % kSampleStride == 0) && (s.type == 'T' || s.type == 't')) listed.core_sample.push_back(s);
    ++core_count;
    if (is_core_anchor(s.name)) listed.core_anchors.push_back(s);
    if (listed.core_kept) listed.core.push_back(s);
}

void read_listing(Listed& listed, std::string_view text, const std::string& file, bool skim) {
    std::string module;
    std::vector<ListedSymbol>* into = nullptr;
    std::size_t core_count = 0;
    if (skim)
        skim_kallsyms(text, file, kHeadBytes, kSampleStrideBytes,
                      [&](const ListedSymbol& s, bool picked) { keep(listed, s, picked, core_count, module, into); });
    else
        scan_kallsyms(text, file, [&](const ListedSymbol& s) { keep(listed, s, false, core_count, module, into); });
    listed.has_core = core_count > 0;
}

}  // namespace

void read_kallsyms(Listed& listed, std::string_view text, const std::string& file, bool keep_core) {
    listed.kallsyms_text = text;
    listed.core_kept = keep_core;
    // The core's 87,000 lines are five sixths of the text; skimmed when
    // they are not the symbol table, and read whole again if the skim
    // missed the anchors (a capture sorted or edited by hand).
    read_listing(listed, text, file, !keep_core);
    if (!keep_core && listed.has_core && listed.core_anchors.empty()) {
        listed.core_sample.clear();
        listed.modules.clear();
        read_listing(listed, text, file, false);
    }
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
