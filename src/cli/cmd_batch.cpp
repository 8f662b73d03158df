// kaddr batch: many saved reports, each with the snapshot of its own facts
// (shared by the reports that agree), N threads.
// Results are printed in input order; one bad file never stops the others.
// Each file's records are flushed as soon as they are in order, and a last
// record with the totals is written only when every file was processed:
// output without it is from an interrupted batch, and a re-run writes the
// same records in the same order (the file list is sorted, nothing in a
// record depends on timing or threads).
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <set>

#include "common.h"
#include "kaddr/json_schema.h"
#include "kaddr/oops_report.h"
#include "kaddr/report_facts.h"
#include "kaddr/snapshot_pool.h"
#include "kaddr/report.h"
#include "kaddr/vmcore_explain.h"
#include "ordered_parallel.h"

namespace kaddr::cli {

namespace fs = std::filesystem;

namespace {

struct FileResult {
    std::string lines;  // JSON Lines for this file
    std::size_t reports = 0, resolved = 0, partial = 0, failed = 0;
    bool unreadable = false;
    bool no_report = false;
};

// One input: a report file, or a kdump-tools crash directory (its dump,
// else its dmesg file).
struct Item {
    std::string path;
    std::optional<KdumpDir> kdump;
};

std::vector<Item> expand_paths(const std::vector<std::string>& paths) {
    std::vector<Item> out;
    for (const auto& p : paths) {
        std::error_code ec;
        if (!fs::is_directory(p, ec)) {
            out.push_back({p, std::nullopt});  // a missing file becomes an error record, not a silent drop
            continue;
        }
        std::vector<Item> found;
        std::set<std::string> crash_dirs;
        for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
             it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (ec) break;
            if (!it->is_regular_file(ec)) continue;
            if (!is_kdump_file_name(it->path().filename().string())) {
                found.push_back({it->path().string(), std::nullopt});
            } else if (const std::string dir = it->path().parent_path().string(); crash_dirs.insert(dir).second) {
                found.push_back({dir, kdump_dir(dir)});
            }
        }
        std::sort(found.begin(), found.end(), [](const Item& a, const Item& b) { return a.path < b.path; });
        out.insert(out.end(), found.begin(), found.end());
    }
    return out;
}

void tally(FileResult& res, std::size_t kernel_frames, std::size_t resolved_frames) {
    ++res.reports;
    if (kernel_frames == 0 || resolved_frames == 0) ++res.failed;
    else if (resolved_frames == kernel_frames) ++res.resolved;
    else ++res.partial;
}

void process(const std::string& path, const SnapshotInputs& in, SnapshotPool& pool, FileResult& res) {
    try {
        for (auto& r : parse_report_file(path)) {
            // The report's own facts (release, KASLR, modules): its own snapshot.
            bool fresh = false;
            const auto snap = pool.get(with_report_facts(in, r, path), &fresh);
            if (fresh) print_notes(*snap);
            const Resolver resolver(*snap);
            ExplainedReport e = explain(std::move(r), resolver);
            auto j = oops_to_json(e);
            j["source_file"] = path;
            j["source_line"] = e.report.first_line();
            res.lines += json_line(j);
            tally(res, e.kernel_frames, e.resolved_frames);
        }
        if (res.reports == 0) {  // said, not silently absent from the output
            res.lines += json_line({{"schema_version", kJsonSchemaVersion}, {"record", "no-report"},
                                    {"source_file", path}, {"reports", 0}});
            res.no_report = true;
        }
    } catch (const std::exception& ex) {
        res.lines += json_line(input_error_json(path, ex.what()));
        res.unreadable = true;
    }
}

// The dump explains itself (its own snapshot); a dump that cannot be read
// is an error record, and the dmesg file kdump-tools saved beside it is
// explained instead, like any report file.
void process_kdump(const KdumpDir& k, const SnapshotInputs& in, SnapshotPool& pool, FileResult& res) {
    if (!k.dump.empty()) {
        try {
            for (const auto& j : explain_dump(k.dump, in)) {
                res.lines += json_line(j);
                if (j.contains("kernel_frames")) tally(res, j["kernel_frames"], j["resolved_frames"]);
            }
            return;
        } catch (const std::exception& ex) {
            nlohmann::json j{{"source_file", k.dump}, {"error", ex.what()}};
            if (!k.dmesg.empty()) j["fallback"] = k.dmesg;
            res.lines += json_line(j);
            res.unreadable = true;
        }
    }
    if (!k.dmesg.empty()) process(k.dmesg, in, pool, res);
}

}  // namespace

int cmd_batch(int argc, char** argv) {
    SnapshotInputs in;
    std::vector<std::string> paths;
    unsigned jobs = 1;
    po::options_description opts = input_options(in);
    add_jobs_option(opts, jobs);
    if (!parse(argc, argv,
               "usage: kaddr batch [inputs] [--jobs N] DIR|FILE...  (directories are searched recursively; a "
               "kdump-tools crash directory, /var/crash/STAMP, is one input)",
               opts, paths))
        return kOk;
    if (paths.empty()) throw po::error("no report files or directories given");
    // Many reports of a kernel: pay for indexing its debug files once, and
    // answer every report (and every later run) from the indexes.
    in.build_source_index = in.use_index;

    SnapshotPool& pool = pool_until_exit();
    print_notes(*pool.get(in));  // the inputs themselves are checked before any file is read
    const auto files = expand_paths(paths);
    const bool progress = isatty(STDERR_FILENO);
    FileResult total;
    std::size_t unreadable = 0, no_report = 0;
    ordered_parallel<FileResult>(
        files.size(), jobs,
        [&](std::size_t i) {
            FileResult r;
            if (files[i].kdump) process_kdump(*files[i].kdump, in, pool, r);
            else process(files[i].path, in, pool, r);
            return r;
        },
        [&](std::size_t i, FileResult r) {
            std::cout << r.lines << std::flush;  // what is written survives a kill
            total.reports += r.reports;
            total.resolved += r.resolved;
            total.partial += r.partial;
            total.failed += r.failed;
            unreadable += r.unreadable;
            no_report += r.no_report;
            if (progress) std::cerr << "\rkaddr batch: " << (i + 1) << "/" << files.size() << " files" << std::flush;
        });
    std::cout << json_line({{"schema_version", kJsonSchemaVersion},
                            {"record", "batch-totals"},
                            {"batch", "complete"},
                            {"files", files.size()},
                            {"reports", total.reports},
                            {"resolved", total.resolved},
                            {"partly_resolved", total.partial},
                            {"failed", total.failed},
                            {"unreadable_files", unreadable},
                            {"files_without_report", no_report}});
    std::cout.flush();
    if (progress) std::cerr << "\n";
    std::cerr << "kaddr batch: " << files.size() << " files, " << total.reports << " reports found, " << total.resolved
              << " resolved, " << total.partial << " partly resolved, " << total.failed << " failed, " << unreadable
              << " unreadable files, " << no_report << " without a report\n";
    return total.partial + total.failed + unreadable == 0 ? kOk : kUnresolved;
}

}  // namespace kaddr::cli
