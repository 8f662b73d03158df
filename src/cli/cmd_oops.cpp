#include <iostream>

#include "common.h"
#include "kaddr/oops_report.h"
#include "kaddr/report.h"

namespace kaddr::cli {

namespace {

std::vector<OopsReport> read_reports(const std::string& path) {
    return path == "-" ? parse_reports(std::cin) : parse_report_file(path);
}

}  // namespace

int cmd_oops(int argc, char** argv) {
    SnapshotInputs in;
    std::vector<std::string> files;
    bool json = false;
    po::options_description opts = input_options(in);
    opts.add_options()
        ("json", po::bool_switch(&json), "one JSON object per report (JSON Lines)");
    if (!parse(argc, argv, "usage: kaddr oops [inputs] [--json] [FILE...]  (default: standard input)", opts, files))
        return kOk;
    if (files.empty()) {
        explain_terminal_stdin("oops", "a kernel log");
        files.push_back("-");
    }

    std::vector<std::pair<std::string, std::vector<OopsReport>>> all;
    for (const auto& f : files) all.emplace_back(f, read_reports(f));
    // What the reports themselves say about KASLR, for a vmlinux without kallsyms.
    for (const auto& [f, reports] : all)
        for (const auto& r : reports) {
            if (r.kernel_offset && !in.kaslr_offset) {
                in.kaslr_offset = r.kernel_offset;
                in.kaslr_offset_source = "the report's Kernel Offset line (" + f + ":" + std::to_string(r.first_line()) + ")";
            }
            for (const auto& fr : r.frames)
                if (fr.address && fr.symbol && fr.symbol->module.empty() && !fr.user)
                    in.anchors.push_back({*fr.address, *fr.symbol, f + ":" + std::to_string(r.lines[fr.line].number)});
        }
    auto snap = load_snapshot(in);
    print_notes(*snap);
    Resolver resolver(*snap);
    bool all_resolved = true;
    std::size_t found = 0;
    for (auto& [f, reports] : all) {
        if (reports.empty()) std::cerr << "kaddr: no crash report found in " << (f == "-" ? "standard input" : f) << "\n";
        for (auto& r : reports) {
            ++found;
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
    release_at_exit(std::move(snap));
    return found && all_resolved ? kOk : kUnresolved;
}

}  // namespace kaddr::cli
