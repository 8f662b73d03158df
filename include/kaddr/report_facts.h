// What a crash report says about the kernel that printed it: its release,
// its KASLR offset (`Kernel Offset:`), the modules its frames name and
// their build-ids, and frames printed with both an address and a symbol
// (which place the image and the modules). These are facts of ONE report:
// every report is resolved with its own, in `oops` and `batch` alike, so
// one report's offset never leaks into another's.
#pragma once
#include <string>

#include "kaddr/oops.h"
#include "kaddr/snapshot.h"

namespace kaddr {

// `base` with the report's facts added where the user did not give them.
SnapshotInputs with_report_facts(SnapshotInputs base, const OopsReport& report, const std::string& file);

// `base` with the modules that `sym+off/size [mod]` queries name, so that
// `kaddr resolve` finds them in the module trees without a capture.
SnapshotInputs with_queried_modules(SnapshotInputs base, const std::vector<std::string>& queries);

}  // namespace kaddr
