#include <iostream>

#include "common.h"
#include "kaddr/report.h"

namespace kaddr::cli {

int cmd_gdb_symbols(int argc, char** argv) {
    SnapshotInputs in;
    std::vector<std::string> names;
    po::options_description opts = input_options(in);
    if (!parse(argc, argv, "usage: kaddr gdb-symbols [inputs] [MODULE...]  (default: every loaded module)", opts, names))
        return kOk;
    auto snap = load_snapshot(in);
    print_notes(*snap);
    bool all = true;
    if (names.empty())
        for (const auto& m : snap->modules) names.push_back(m->name);
    for (const auto& n : names) {
        const Module* m = snap->module_named(n);
        if (!m) {
            std::cerr << "kaddr: module " << n << " is not in this snapshot\n";
            all = false;
            continue;
        }
        print_gdb_symbols(std::cout, *m);
        all = all && m->ko;
    }
    return all ? kOk : kUnresolved;
}

}  // namespace kaddr::cli
