// kaddr log --vmcore DUMP: the crashed kernel's log from the dump, as
// makedumpfile --dump-dmesg and crash's `log` print it.
#include <iostream>

#include "common.h"
#include "kaddr/vmcore_log.h"

namespace kaddr::cli {

int cmd_log(int argc, char** argv) {
    std::string dump;
    po::options_description opts("Options");
    opts.add_options()("vmcore", po::value(&dump), "kdump vmcore: kdump-compressed, ELF or makedumpfile flattened");
    std::vector<std::string> positional;
    if (!parse(argc, argv, "usage: kaddr log [--vmcore] DUMP", opts, positional)) return kOk;
    if (!positional.empty()) {
        if (!dump.empty() || positional.size() > 1) throw po::error("give one dump: kaddr log [--vmcore] DUMP");
        dump = positional.front();
    }
    if (dump.empty()) throw po::error("give the dump: kaddr log [--vmcore] DUMP");
    auto core = Vmcore::open(dump);
    print_log(std::cout, read_kernel_log(*core));
    return kOk;
}

}  // namespace kaddr::cli
