// What a crash report says about the kernel that printed it: its release,
// its KASLR offset (`Kernel Offset:`), the modules its frames name and
// their build-ids, and frames printed with both an address and a symbol
// (which place the image and the modules). These are facts of ONE report:
// every report is resolved with its own, in `oops` and `batch` alike, so
// one report's offset never leaks into another's.
#pragma once
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "kaddr/oops.h"
#include "kaddr/snapshot.h"

namespace kaddr {

// `base` with the report's facts added where the user did not give them.
SnapshotInputs with_report_facts(SnapshotInputs base, const OopsReport& report, const std::string& file);

// `base` with the modules that `sym+off/size [mod]` queries name, so that
// `kaddr resolve` finds them in the module trees without a capture.
SnapshotInputs with_queried_modules(SnapshotInputs base, const std::vector<std::string>& queries);

// The snapshot of `kaddr resolve` reading queries from a stream: a module a
// query names that the snapshot lacks is looked for in the module trees
// when the query arrives, as modules named by arguments are before the
// first load. The snapshot is loaded again for it, once per new name (a
// coprocess then answers `[mod]` frames without a capture, as a command
// line does); a module that cannot be loaded is then missing, with why.
class QueriedSnapshot {
public:
    explicit QueriedSnapshot(SnapshotInputs in);
    // Makes the snapshot cover the modules `queries` name; true when it
    // was loaded again (its notes may be new).
    bool cover(const std::vector<std::string>& queries);
    const Snapshot& snapshot() const { return *snap_; }
    std::unique_ptr<Snapshot> release() { return std::move(snap_); }

private:
    SnapshotInputs in_;
    std::set<std::string> asked_;  // every module a query named
    std::unique_ptr<Snapshot> snap_;
};

}  // namespace kaddr
