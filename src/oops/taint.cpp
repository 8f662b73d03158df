// Taint letters as printed after "Tainted:" (kernel/panic.c taint_flags).
#include "kaddr/oops.h"

namespace kaddr {

std::vector<TaintFlag> decode_taint(const std::string& letters) {
    static const std::pair<char, const char*> kFlags[] = {
        {'P', "proprietary module was loaded"},
        {'F', "module was force loaded"},
        {'S', "kernel running on an out of specification system"},
        {'R', "module was force unloaded"},
        {'M', "system experienced a machine check exception"},
        {'B', "bad page referenced or unexpected page flags"},
        {'U', "taint requested by userspace"},
        {'D', "kernel died recently (OOPS or BUG)"},
        {'A', "ACPI table overridden by user"},
        {'W', "kernel issued warning"},
        {'C', "staging driver was loaded"},
        {'I', "workaround for bug in platform firmware applied"},
        {'O', "externally-built (out-of-tree) module was loaded"},
        {'E', "unsigned module was loaded"},
        {'L', "soft lockup occurred"},
        {'K', "kernel has been live patched"},
        {'X', "auxiliary taint"},
        {'T', "kernel was built with the struct randomization plugin"},
        {'N', "an in-kernel test has been run"},
    };
    std::vector<TaintFlag> out;
    for (char c : letters)
        for (const auto& [letter, meaning] : kFlags)
            if (c == letter) out.push_back({letter, meaning});
    return out;
}

}  // namespace kaddr
