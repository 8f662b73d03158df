// Inputs checked against each other before they are trusted: a module list
// from another boot, a duplicated or overlapping module, a base outside
// kernel space, a vmlinux unrelated to the kallsyms capture. Each failure is
// an Error naming the inconsistent inputs and what to do.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "kaddr/arch.h"
#include "kaddr/inputs.h"
#include "kaddr/module_memory.h"

namespace kaddr {

// /proc/modules on its own: no module twice, bases in kernel space, no two
// core allocations overlapping (before 6.4, where the size is the core
// allocation's span; from 6.4 the size is a sum of separate allocations
// and only the text bases must differ). When nothing said the era
// (memory.assumed), such an overlap is read as the 6.4+ era and `memory`
// updated, not refused.
void check_proc_modules(const std::vector<ProcModule>& mods, Arch arch, ModuleMemoryModel& memory,
                        const std::string& file);

// /proc/modules against kallsyms: each module's text symbols lie in its
// [base, base + size) (a list from another boot does not).
void check_modules_against_kallsyms(const std::vector<ProcModule>& mods,
                                    const std::map<std::string, std::vector<ListedSymbol>>& listed,
                                    const std::string& modules_file, const std::string& kallsyms_file);

}  // namespace kaddr
