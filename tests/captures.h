// Real captured boots and the checks every one of them goes through, on
// every kernel (6.1 and 6.12) and under every set of inputs a user may
// have. A capture set is a folder of testdata/captures (small, committed)
// or of ../shared/captures beside the clone (the kinds and kdump captures,
// as CI lays it out): capture-N/ folders, or the folder itself for a kdump's
// pre-crash capture, each with version.txt, kallsyms.txt, proc_modules.txt,
// sys_module_sections.txt, oops/ and groundtruth/ (gdb, addr2line).
#pragma once
#include <string>
#include <vector>

#include "kaddr/snapshot.h"

namespace kt {

struct Capture {
    std::string set;   // "deb12-6.12.118-cloud-kinds"
    std::string name;  // "capture-1", or the set's name for a kdump's capture
    std::string dir;   // with a trailing slash
    std::vector<std::string> module_files;  // the test modules' own files (ktoops.ko, ktkinds.ko)
    std::vector<std::string> module_dirs;   // their folders
    std::string file(const std::string& rel) const { return dir + rel; }
};

// The set's folder; "" (said loudly) when neither place has it.
std::string capture_set_dir(const std::string& set);
// Every capture of a set (REQUIREs that the set exists).
std::vector<Capture> captures_of(const std::string& set);

// What a user may have besides the report.
enum class Given {
    Kallsyms,                  // /proc/kallsyms alone
    KallsymsAndModules,        // and /proc/modules
    WholeCapture,              // version, kallsyms, /proc/modules, sysfs sections, the module files
    KallsymsModulesDebugRoot,  // kallsyms, /proc/modules, the -dbg package, the module files: no sysfs, no release
};
kaddr::SnapshotInputs inputs_of(const Capture& c, Given given, const std::string& debug_root);
std::unique_ptr<kaddr::Snapshot> load_capture(const Capture& c, const std::string& debug_root);
// The whole capture `name` of `set` ("capture-1"), with the -dbg package when given.
std::unique_ptr<kaddr::Snapshot> load_capture(const std::string& set, const std::string& name, const std::string& debug_root);
Capture capture_named(const std::string& set, const std::string& name);

// Every row of groundtruth/oops-frames.tsv and symbols.tsv resolved and
// compared with gdb's and addr2line's answers (core rows need the -dbg
// package: without one they are counted as skipped).
struct TruthTally {
    int checked = 0, skipped = 0, spans = 0;
};
TruthTally check_gdb_truth(const Capture& c, Given given, const std::string& debug_root);

// Every frame the kernel printed as `func+0xoff/0xsize [mod]` resolves to
// that function, offset and module; returns how many were checked.
int check_printed_frames(const Capture& c, Given given, const std::string& debug_root);

// Every report decoded with the capture and again with only the report,
// the module files and the -dbg package: the same source lines, inline
// chains and guilty function.
struct ZeroTally {
    int reports = 0, module_frames = 0, core_frames = 0;
};
ZeroTally compare_zero_setup(const std::string& set, const std::string& debug_root);

}  // namespace kt
