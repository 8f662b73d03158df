#include <iostream>
#include <sstream>

#include "common.h"
#include "kaddr/inputs.h"
#include "kaddr/error.h"
#include "kaddr/oops_report.h"
#include "kaddr/report_facts.h"
#include "kaddr/snapshot_pool.h"
#include "kaddr/report.h"
#include "kaddr/vmcore_log.h"
#include "kaddr/vmcore_stack.h"

namespace kaddr::cli {

namespace {

std::vector<OopsReport> read_reports(const std::string& path) {
    if (path != "-") return parse_report_file(path);
    // Through read_standard_input: bounded, and binary (/dev/zero) refused.
    std::istringstream in{std::string(read_standard_input().text)};
    return parse_reports(in);
}

}  // namespace

int cmd_oops(int argc, char** argv) {
    SnapshotInputs in;
    std::vector<std::string> files;
    bool json = false, all_cpus = false;
    po::options_description opts = input_options(in);
    opts.add_options()
        ("json", po::bool_switch(&json), "one JSON object per report (JSON Lines)")
        ("all-cpus", po::bool_switch(&all_cpus), "with --vmcore: the stack of every CPU, not only the crashed task's")
        ("file", po::value(&files)->composing(), "log files (default: standard input)");
    if (!parse(argc, argv, "usage: kaddr oops [inputs] [FILE...]", opts, "file")) return kOk;
    std::vector<std::pair<std::string, std::vector<OopsReport>>> all;
    if (!in.vmcore.empty()) {  // the dump's own log holds its reports
        in.vmcore_facts = read_vmcore_facts(in);
        if (files.empty()) {
            std::istringstream log(format_log(read_kernel_log(*in.vmcore_facts->dump)));
            all.emplace_back(in.vmcore, parse_reports(log));
        }
    }
    if (files.empty() && all.empty()) files.push_back("-");

    for (const auto& f : files) all.emplace_back(f, read_reports(f));
    // Each report is resolved with its own facts (release, KASLR offset,
    // modules, frames that place them); reports that agree share a snapshot.
    auto& pool = *new SnapshotPool;  // never freed: exiting is cheaper than tearing snapshots down (see release_at_exit)
    bool all_resolved = true;
    std::size_t found = 0;
    for (auto& [f, reports] : all) {
        if (reports.empty()) std::cerr << "kaddr: no crash report found in " << (f == "-" ? "standard input" : f) << "\n";
        for (auto& r : reports) {
            ++found;
            bool fresh = false;
            auto snap = pool.get(with_report_facts(in, r, f), &fresh);
            if (fresh) print_notes(*snap);
            const Resolver resolver(*snap);
            ExplainedReport e = explain(std::move(r), resolver);
            all_resolved = all_resolved && e.resolved_frames == e.kernel_frames && e.kernel_frames > 0;
            if (json) {
                auto j = oops_to_json(e);
                j["source_file"] = f;
                j["source_line"] = e.report.first_line();
                std::cout << json_line(j);
            } else {
                print_oops_text(std::cout, e);
            }
        }
    }
    if (in.vmcore_facts) {
        // The dump's own snapshot (its exact layout and KASLR offset). The
        // reports above stand on their own: a stack that cannot be unwound
        // (no vmlinux, no CPU notes) is said, not fatal.
        bool fresh = false;
        auto snap = pool.get(in, &fresh);
        if (fresh) print_notes(*snap);
        const Resolver resolver(*snap);
        try {
            for (const CpuStack& t : all_cpus ? cpu_stacks(resolver) : std::vector<CpuStack>{crashed_thread(resolver)}) {
                if (json) std::cout << json_line(crashed_thread_json(t));
                else print_crashed_thread(std::cout, t);
            }
        } catch (const Error& e) {
            std::cerr << "kaddr: no stack from the dump: " << e.what() << "\n";
            all_resolved = false;
        }
    }
    return found && all_resolved ? kOk : kUnresolved;
}

}  // namespace kaddr::cli
