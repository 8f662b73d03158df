// kaddr batch: many saved reports, each with the snapshot of its own facts
// (shared by the reports that agree), N threads; or a long-lived stage
// reading input names or JSON requests on standard input. The work on each
// input is the library's (kaddr/batch_stage.h).
// Results are printed in input order; one bad file never stops the others.
// Each file's records are flushed as soon as they are in order, and a last
// record with the totals is written only when every file was processed:
// output without it is from an interrupted batch, and a re-run writes the
// same records in the same order (the file list is sorted, nothing in a
// record depends on timing or threads).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "common.h"
#include "kaddr/batch_stage.h"
#include "kaddr/error.h"
#include "kaddr/json_schema.h"
#include "kaddr/report.h"
#include "kaddr/vmcore_explain.h"
#include "ordered_parallel.h"

namespace kaddr::cli {

namespace fs = std::filesystem;

namespace {

// The inputs under the paths given: files, and kdump-tools crash
// directories (their dump, else their dmesg file) as one input each;
// sorted within each directory.
std::vector<std::string> expand_paths(const std::vector<std::string>& paths) {
    std::vector<std::string> out;
    for (const auto& p : paths) {
        std::error_code ec;
        if (!fs::is_directory(p, ec)) {
            out.push_back(p);  // a missing file becomes an error record, not a silent drop
            continue;
        }
        std::vector<std::string> found;
        std::set<std::string> crash_dirs;
        for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
             it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (ec) break;
            if (!it->is_regular_file(ec)) continue;
            if (!is_kdump_file_name(it->path().filename().string())) found.push_back(it->path().string());
            else if (const std::string dir = it->path().parent_path().string(); crash_dirs.insert(dir).second)
                found.push_back(dir);
        }
        std::sort(found.begin(), found.end());
        out.insert(out.end(), found.begin(), found.end());
    }
    return out;
}

// Records on stdout, flushed (what is written survives a kill), and the
// notes of newly loaded kernels on stderr, both from one thread: std::cerr
// is tied to std::cout, so a worker writing to it would flush std::cout
// while this thread writes into it.
void print(const BatchResult& r) {
    for (const auto& n : r.notes) std::cerr << "kaddr: note: " << n << "\n";
    std::cout << r.lines << std::flush;
}

struct Totals {
    std::size_t files = 0, reports = 0, resolved = 0, partial = 0, failed = 0, unreadable = 0, no_report = 0;
    void add(const BatchResult& r) {
        ++files;
        reports += r.reports;
        resolved += r.resolved;
        partial += r.partial;
        failed += r.failed;
        unreadable += r.unreadable;
        no_report += r.no_report;
    }
};

// The last record, written only when every input was processed.
int finish_batch(const Totals& t, bool progress) {
    std::cout << json_line({{"schema_version", kJsonSchemaVersion},
                            {"record", "batch-totals"},
                            {"batch", "complete"},
                            {"files", t.files},
                            {"reports", t.reports},
                            {"resolved", t.resolved},
                            {"partly_resolved", t.partial},
                            {"failed", t.failed},
                            {"unreadable_files", t.unreadable},
                            {"files_without_report", t.no_report}});
    std::cout.flush();
    if (progress) std::cerr << "\n";
    std::cerr << "kaddr batch: " << t.files << " files, " << t.reports << " reports found, " << t.resolved << " resolved, "
              << t.partial << " partly resolved, " << t.failed << " failed, " << t.unreadable << " unreadable files, "
              << t.no_report << " without a report\n";
    return t.partial + t.failed + t.unreadable == 0 ? kOk : kUnresolved;
}

// A long-lived stage: one input a line (a file name, or a JSON request),
// each input's records written and flushed before the next line is read.
int run_stream(BatchStage& stage, const std::string& from, bool requests) {
    std::ifstream file;
    std::istream& in = line_input(from, file, "batch", requests ? "JSON requests, one a line" : "file names, one a line");
    Totals t;
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) {
        ++n;
        if (line.empty()) continue;
        BatchResult r;
        if (requests) {
            try {
                r = stage.run(parse_request(line));
            } catch (const Error& e) {
                r.lines = json_line(input_error_json((from == "-" ? "standard input" : from) + ":" + std::to_string(n),
                                                     InputErrorCode::BadRequest, e.what()));
                r.unreadable = true;
            }
        } else {
            r = stage.run({.path = line});
        }
        print(r);
        t.add(r);
    }
    return finish_batch(t, false);
}

}  // namespace

int cmd_batch(int argc, char** argv) {
    SnapshotInputs in;
    std::vector<std::string> paths;
    unsigned jobs = 1;
    std::string files_from, requests;
    double budget = 0;
    std::size_t exemplars = 0;
    bool summary = false;
    po::options_description opts = input_options(in);
    add_jobs_option(opts, jobs);
    opts.add_options()
        ("files-from", po::value(&files_from), "read input names from FILE ('-': standard input), one a line; each "
                                               "input's records are written as soon as it is done")
        ("requests", po::value(&requests), "read JSON requests from FILE ('-': standard input), one a line: "
                                           "{\"path\": FILE} or {\"id\": NAME, \"text\": TEXT}, optional \"time\"")
        ("time-budget", po::value(&budget), "seconds one input may take; an input over it gives an error record "
                                            "(time-budget-exceeded) and the batch goes on")
        ("summary", po::bool_switch(&summary), "a compact summary record (at most 2 KiB) per report")
        ("exemplars", po::value(&exemplars), "K >= 1: fully symbolize only the first K reports of each crash signature; "
                                             "the others get summary records, unsymbolized");
    if (!parse(argc, argv,
               "usage: kaddr batch [inputs] [--jobs N] [--summary] [--exemplars K] [--time-budget S] DIR|FILE...\n"
               "       kaddr batch [inputs] --files-from FILE|- | --requests FILE|-\n"
               "(directories are searched recursively; a kdump-tools crash directory, /var/crash/STAMP, is one input)",
               opts, paths))
        return kOk;
    const bool stream = !files_from.empty() || !requests.empty();
    if (!files_from.empty() && !requests.empty()) throw po::error("--files-from and --requests are exclusive");
    if (stream && !paths.empty()) throw po::error("file arguments and --files-from/--requests are exclusive");
    if (!stream && paths.empty()) throw po::error("no report files or directories given");
    if (budget < 0) throw po::error("--time-budget must be positive");

    // Many reports of a kernel: pay for indexing its debug files once, and
    // answer every report (and every later run) from the indexes.
    in.build_source_index = in.use_index;
    BatchOptions opt;
    opt.summary = summary;
    if (exemplars > 0) opt.exemplars = exemplars;
    if (budget > 0) opt.time_budget = std::chrono::duration<double>(budget);
    BatchStage stage(in, pool_until_exit(), opt);
    for (const auto& n : stage.check_inputs()) std::cerr << "kaddr: note: " << n << "\n";  // before any input is read
    if (stream) return run_stream(stage, requests.empty() ? files_from : requests, !requests.empty());

    const auto files = expand_paths(paths);
    const bool progress = isatty(STDERR_FILENO);
    const bool in_order = opt.exemplars.has_value();  // exemplars are chosen in input order
    Totals total;
    ordered_parallel<BatchStage::Prepared>(
        files.size(), jobs,
        [&](std::size_t i) {
            BatchStage::Prepared p = stage.prepare({.path = files[i]});
            if (!in_order) {
                p.head = stage.finish(std::move(p));
                p.finished = true;
            }
            return p;
        },
        [&](std::size_t i, BatchStage::Prepared p) {
            const BatchResult r = stage.finish(std::move(p));
            print(r);
            total.add(r);
            if (progress) std::cerr << "\rkaddr batch: " << (i + 1) << "/" << files.size() << " files" << std::flush;
        });
    return finish_batch(total, progress);
}

}  // namespace kaddr::cli
