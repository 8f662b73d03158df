// What the loader keeps of the text listings (kallsyms, System.map).
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kaddr/inputs.h"

namespace kaddr {

// The text listings: kallsyms split by owner, and System.map (link-time).
// Of the core's 100,000 kallsyms symbols only what the loader reads is
// kept when a vmlinux or System.map gives the core's symbol table: the
// KASLR anchors and the same-build sample. All of them are kept only when
// they are the symbol table (and read again if the vmlinux turns out to
// have none); otherwise the core's lines are skimmed (skim_kallsyms).
struct Listed {
    bool has_core = false;
    std::vector<ListedSymbol> core;          // all, when kept (core_kept)
    bool core_kept = false;
    std::vector<ListedSymbol> core_anchors;  // _text, _stext
    std::vector<ListedSymbol> core_sample;   // about one text symbol in 97
    std::map<std::string, std::vector<ListedSymbol>> modules;
    std::vector<ListedSymbol> system_map;
    std::string_view kallsyms_text;
};

// Reads a kallsyms capture into `listed` (keep_core: all core symbols too).
void read_kallsyms(Listed& listed, std::string_view text, const std::string& file, bool keep_core);
// All of kallsyms' core symbols, read again if they were not kept.
const std::vector<ListedSymbol>& all_core(Listed& listed, const std::string& file);

}  // namespace kaddr
