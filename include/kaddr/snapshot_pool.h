// Snapshots for many reports: each report is resolved with the snapshot of
// its own facts (report_facts.h), and reports whose facts agree share one.
// The vmlinux DWARF session does not depend on those facts and is shared by
// every snapshot of the process (see Snapshot::core_dwarf).
#pragma once
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "kaddr/snapshot.h"

namespace kaddr {

class SnapshotPool {
public:
    // `keep`: how many distinct snapshots stay loaded at once.
    explicit SnapshotPool(std::size_t keep = 8) : keep_(keep) {}
    // The snapshot for these inputs, loaded on first use. Thread-safe; a
    // load error is thrown to every caller of those inputs. `fresh` is set
    // when this call loaded it (its notes are new).
    std::shared_ptr<const Snapshot> get(const SnapshotInputs& in, bool* fresh = nullptr);

private:
    struct Entry {
        std::string key;
        std::shared_ptr<const Snapshot> snap;
    };
    std::size_t keep_;
    std::mutex mu_;
    std::list<Entry> entries_;  // most recently used first
};

// The part of SnapshotInputs that report facts change, as a key.
std::string report_facts_key(const SnapshotInputs& in);

}  // namespace kaddr
