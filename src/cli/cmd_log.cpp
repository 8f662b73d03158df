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
    if (!parse(argc, argv, "usage: kaddr log [--vmcore] DUMP", opts, "vmcore")) return kOk;
    if (dump.empty()) throw po::error("give the dump: kaddr log --vmcore DUMP");
    auto core = Vmcore::open(dump);
    print_log(std::cout, read_kernel_log(*core));
    return kOk;
}

}  // namespace kaddr::cli
