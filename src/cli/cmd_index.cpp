// kaddr index: build the source indexes of debug files ahead of use, so
// that later runs (and other hosts sharing the index directory) answer
// from them instead of parsing DWARF.
#include <unistd.h>

#include <iomanip>
#include <iostream>

#include "common.h"
#include "kaddr/image_index.h"
#include "kaddr/index_store.h"

namespace kaddr::cli {

int cmd_index(int argc, char** argv) {
    std::string index_dir;
    std::vector<std::string> paths;
    unsigned jobs = 1;
    bool force = false;
    po::options_description opts("Options");
    opts.add_options()
        ("vmlinux", po::value<std::string>()->notifier([&paths](const std::string& p) { paths.insert(paths.begin(), p); }),
         "a vmlinux with DWARF to index")
        ("index-dir", po::value(&index_dir), "where indexes are written (default: $KADDR_CACHE/index or ~/.cache/kaddr/index)")
        ("force", po::bool_switch(&force), "rebuild indexes that are already current");
    add_jobs_option(opts, jobs);
    if (!parse(argc, argv,
               "usage: kaddr index [--vmlinux FILE] [FILE|DIR...]  (a DIR is searched for module files)",
               opts, paths))
        return kOk;
    const auto files = debug_files_in(paths);
    if (files.empty()) {
        std::cerr << "kaddr index: nothing to index: give --vmlinux FILE, module files or a directory of them "
                     "(e.g. usr/lib/debug/lib/modules/RELEASE of a -dbg package)\n";
        return kUsage;
    }
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
