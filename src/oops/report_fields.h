// The fields a report's lines carry: task, taint, release, hardware,
// modules, Code:, Kernel Offset:, the fault address, and what WARNING and
// hung-task headlines name.
#pragma once
#include <string>
#include <string_view>

#include "kaddr/oops.h"

namespace kaddr {

void read_fields(OopsReport& r, const std::string& t);
// WARNING: CPU: 0 PID: 1 at ktoops/ktoops.c:96 ktoops_do_warn+0x5/0x10 [ktoops]
// WARNING: fs/dcache.c:829 at fast_dput+0x334/0x430, CPU#1: syz-executor/600   (6.x)
void read_warning(OopsReport& r, std::string_view t);
// "INFO: task syz-executor.0:16519 blocked for more than 140 seconds.": the
// report is about that task, not the CPUs whose backtraces follow.
void read_hung_task(OopsReport& r, std::string_view t);

}  // namespace kaddr
