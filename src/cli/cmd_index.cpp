// kaddr index: build the source indexes of debug files ahead of use, so
// that later runs (and other hosts sharing the index directory) answer
// from them instead of parsing DWARF.
#include <unistd.h>

#include <iomanip>
#include <iostream>

#include "common.h"
#include "kaddr/image_index.h"
#include "kaddr/index_store.h"
#include "kaddr/snapshot.h"

namespace kaddr::cli {

namespace {

// The debug files a configuration uses: its vmlinux, the files of the
// modules it has loaded, or (nothing names a module) every module file in
// the directories it would search.
std::vector<std::string> files_of(const SnapshotInputs& in) {
    auto snap = load_snapshot(in);
    print_notes(*snap);
    std::vector<std::string> files;
    if (snap->core.vmlinux) files.push_back(snap->core.vmlinux->path());
    bool loaded = false;
    for (const auto& m : snap->modules)
        if (m->ko) {
            files.push_back(m->ko->path());
            loaded = true;
        }
    if (!loaded)
        for (auto& f : debug_files_in(snap->module_dirs)) files.push_back(std::move(f));
    release_at_exit(std::move(snap));
    return files;
}

bool configured(const SnapshotInputs& in) {
    return !in.debug_root.empty() || !in.snapshot_dir.empty() || !in.vmcore.empty() || !in.kallsyms.empty() ||
           !in.proc_modules.empty() || !in.sections.empty() || !in.version.empty() || !in.module_dirs.empty() ||
           !in.ko_files.empty();
}

}  // namespace

int cmd_index(int argc, char** argv) {
    SnapshotInputs in;
    std::vector<std::string> paths;
    unsigned jobs = 1;
    bool force = false;
    po::options_description opts = input_options(in);
    opts.add_options()("force", po::bool_switch(&force), "rebuild indexes that are already current");
    add_jobs_option(opts, jobs);
    if (!parse(argc, argv,
               "usage: kaddr index [inputs] [FILE|DIR...]  (the debug files the inputs use, as resolve and oops "
               "would; a DIR is searched for module files)",
               opts, paths))
        return kOk;
    std::vector<std::string> files;
    if (configured(in)) {
        files = files_of(in);
    } else if (!in.vmlinux.empty()) {
        files.push_back(in.vmlinux);
    }
    for (auto& f : debug_files_in(paths)) files.push_back(std::move(f));
    if (files.empty()) {
        std::cerr << "kaddr index: nothing to index: give the inputs you give resolve or oops (--debug-root, "
                     "--snapshot, --vmcore, --modules, --vmlinux), module files or a directory of them\n";
        return kUsage;
    }
    const std::string& index_dir = in.index_dir;
    const std::string dir = index_dir.empty() ? default_index_dir() : index_dir;
    const bool terminal = isatty(STDERR_FILENO);
    auto results = build_indexes(files, dir, jobs, force, [&](std::size_t done, std::size_t total, const IndexResult& r) {
        if (terminal) std::cerr << "\r[" << done << "/" << total << "] " << r.file << "\033[K" << std::flush;
    });
    if (terminal) std::cerr << "\r\033[K";
    bool all = true;
    for (const auto& r : results) {
        std::cout << index_outcome_name(r.outcome) << '\t' << r.file;
        if (r.outcome == IndexOutcome::Built || r.outcome == IndexOutcome::Current)
            std::cout << '\t' << r.index_path << '\t' << r.stats.entries << " entries\t" << r.stats.bytes << " bytes\t"
                      << std::fixed << std::setprecision(2) << r.seconds << " s";
        std::cout << '\n';
        if (r.outcome == IndexOutcome::Failed) {
            std::cerr << "kaddr: " << r.error << "\n";
            all = false;
        }
    }
    return all ? kOk : kUnresolved;
}

}  // namespace kaddr::cli
