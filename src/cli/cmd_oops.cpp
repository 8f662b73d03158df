#include <iostream>

#include "common.h"

namespace kaddr::cli {

int cmd_oops(int, char**) {
    std::cerr << "kaddr oops: not built yet\n";
    return kUsage;
}

int cmd_batch(int, char**) {
    std::cerr << "kaddr batch: not built yet\n";
    return kUsage;
}

}  // namespace kaddr::cli
