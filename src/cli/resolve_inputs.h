// How `kaddr resolve` reads what the user typed: addr2line's `-e FILE`
// (vmlinux or a module), `sym+off [mod]` split over two arguments, and the
// hint when a frame copied from a call trace is looked up as a precise pc.
#pragma once
#include <string>
#include <vector>

#include "kaddr/resolution.h"
#include "kaddr/snapshot.h"

namespace kaddr::cli {

// `-e FILE`: a module (ET_REL, or named *.ko[.xz|.zst|.gz]) goes to --ko,
// anything else to --vmlinux.
void add_executable(SnapshotInputs& in, const std::string& path);

// The shell splits `func+0x1d/0x40 [mod]` in two when it is not quoted:
// a `[mod]` (or `[mod` `buildid]`) argument belongs to the one before it.
std::vector<std::string> join_module_arguments(const std::vector<std::string>& args);

// A `sym+off/size` input is how the kernel prints a frame; in a call trace
// that is a return address. Looked up as a precise pc it names the line
// after the call: say so in the record's notes.
void note_frame_shaped_precise(Resolution& r);

}  // namespace kaddr::cli
