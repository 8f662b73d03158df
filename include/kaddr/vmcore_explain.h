// A whole dump explained: the reports in its log (decoded with the dump's
// exact layout) and the crashed task's stack, as JSON Lines records; and
// the kdump-tools directory layout (/var/crash/STAMP/dump.STAMP beside
// dmesg.STAMP) that `kaddr batch` accepts.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kaddr/snapshot.h"

namespace kaddr {

// One JSON object per report of the dump's log, then one for the stack.
// `base` gives the debug files; the dump gives everything else. Throws
// Error naming the dump (or the vmlinux) when it cannot be explained.
std::vector<nlohmann::json> explain_dump(const std::string& dump, SnapshotInputs base);

// A kdump-tools crash directory: the dump and/or the dmesg file of one crash.
struct KdumpDir {
    std::string dir;
    std::string dump;   // dump.STAMP (or vmcore, vmcore.flat) if present
    std::string dmesg;  // dmesg.STAMP (or vmcore-dmesg.txt) if present
};
// nullopt when `dir` holds neither.
std::optional<KdumpDir> kdump_dir(const std::string& dir);
// Is this file name one kdump_dir() recognises (so a batch does not read it as a log)?
bool is_kdump_file_name(const std::string& name);

}  // namespace kaddr
