#include "cross_checks.h"

#include <algorithm>

#include "kaddr/error.h"
#include "kaddr/lexemes.h"

namespace kaddr {

void check_proc_modules(const std::vector<ProcModule>& mods, Arch arch, ModuleMemoryModel& memory,
                        const std::string& file) {
    std::map<std::string, const ProcModule*> seen;
    for (const auto& m : mods) {
        if (!seen.emplace(m.name, &m).second)
            throw Error(file, "module " + m.name + " is listed twice", "give one /proc/modules capture, unedited");
        if (m.base == 0) continue;  // an unprivileged read (kptr_restrict) shows 0: no layout, not an error
        const std::string region(static_region(arch, m.base, false).name);
        if (region == "user" || region == "NULL page" || region == "non-canonical")
            throw Error(file, "module " + m.name + " has base " + hex(m.base) + ", which is not a kernel address (" + region + ")",
                        "is this /proc/modules of this architecture's kernel?");
    }
    std::vector<const ProcModule*> by_base;
    for (const auto& m : mods)
        if (m.base) by_base.push_back(&m);
    std::sort(by_base.begin(), by_base.end(), [](auto* a, auto* b) { return a->base < b->base; });
    for (std::size_t i = 1; i < by_base.size(); ++i) {
        const ProcModule &a = *by_base[i - 1], &b = *by_base[i];
        if (a.base == b.base)
            throw Error(file, "modules " + a.name + " and " + b.name + " have the same base " + hex(a.base),
                        "give one /proc/modules capture, unedited");
        if (!memory.proc_size_is_span() || a.base + a.size <= b.base) continue;
        if (memory.assumed) {  // nothing said the era: only a 6.4+ kernel lists such modules
            memory.era = ModuleMemoryEra::PerType;
            memory.assumed = false;
            memory.how = file + ": module " + b.name + " starts inside " + a.name +
                         "'s base + size, which only kernels 6.4 and later print (the release is unknown)";
            continue;
        }
        throw Error(file, "modules " + a.name + " (" + hex(a.base) + " + " + hex(a.size) + ") and " + b.name + " (" +
                              hex(b.base) + ") overlap, though " + memory.how + " lays out modules before 6.4",
                    "give one /proc/modules capture, unedited, of that kernel");
    }
}

void check_modules_against_kallsyms(const std::vector<ProcModule>& mods,
                                    const std::map<std::string, std::vector<ListedSymbol>>& listed,
                                    const std::string& modules_file, const std::string& kallsyms_file) {
    for (const auto& m : mods) {
        auto it = listed.find(m.name);
        if (it == listed.end() || m.base == 0) continue;
        // Only text: from 6.4 data and rodata live in allocations of their own.
        std::size_t text = 0, outside = 0;
        std::string example;
        for (const auto& s : it->second) {
            if (s.type != 't' && s.type != 'T') continue;
            ++text;
            if (s.addr < m.base || s.addr >= m.base + m.size) {
                if (example.empty()) example = std::string(s.name) + " at " + hex(s.addr);
                ++outside;
            }
        }
        if (text && outside * 2 > text)
            throw Error(modules_file, "module " + m.name + " at " + hex(m.base) + " + " + hex(m.size) + " does not hold its " +
                                          std::to_string(outside) + " of " + std::to_string(text) + " text symbols in " +
                                          kallsyms_file + " (" + example + ")",
                        "the two captures are from different boots; capture both from the same running kernel");
    }
}

}  // namespace kaddr
