// kaddr oops: crash reports in console logs, explained as annotated text
// (default), JSON Lines, or the log in place with source appended to each
// frame as decode_stacktrace.sh prints it.
#include <iostream>

#include "common.h"
#include "kaddr/error.h"
#include "kaddr/inputs.h"
#include "kaddr/oops_report.h"
#include "kaddr/report_facts.h"
#include "kaddr/snapshot_pool.h"
#include "kaddr/report.h"
#include "kaddr/vmcore_log.h"
#include "kaddr/vmcore_stack.h"

namespace kaddr::cli {

namespace {

enum class Format { Text, Json, Inplace };

Format format_named(const std::string& name) {
    if (name == "text") return Format::Text;
    if (name == "json") return Format::Json;
    if (name == "inplace") return Format::Inplace;
    throw po::error("--format " + name + ": expected text, json or inplace");
}

// One input log: its lines as given (the in-place output reprints them) and
// the reports found in them.
struct Log {
    std::string path;  // as given, "-" for standard input
    std::string name;  // for messages
    std::vector<std::string> raw;
    std::vector<OopsReport> reports;
    std::vector<ExplainedReport> explained;
};

Log log_of_text(const std::string& path, std::string_view text) {
    Log log;
    log.path = path;
    log.name = path == "-" ? "standard input" : path;
    std::vector<LogLine> lines;
    for (std::string_view rest = text; !rest.empty();) {
        const std::size_t eol = std::min(rest.find('\n'), rest.size());
        log.raw.emplace_back(rest.substr(0, eol));
        lines.push_back(normalize_line(log.raw.back(), log.raw.size()));
        rest.remove_prefix(std::min(eol + 1, rest.size()));
    }
    log.reports = parse_reports(lines);
    return log;
}

Log read_log(const std::string& path) {
    // read_standard_input: bounded, and binary (/dev/zero) refused, as files are.
    const TextFile file = path == "-" ? read_standard_input() : read_text_file(path);
    return log_of_text(path, file.text);
}

}  // namespace

int cmd_oops(int argc, char** argv) {
    SnapshotInputs in;
    std::vector<std::string> files;
    bool json = false, all_cpus = false;
    std::string format_name = "text";
    po::options_description opts = input_options(in);
    opts.add_options()
        ("format", po::value(&format_name),
         "text (the report annotated, then a summary), json (JSON Lines), or inplace (the log as given, "
         "source appended to each frame as decode_stacktrace.sh does)")
        ("json", po::bool_switch(&json), "the same as --format=json")
        ("all-cpus", po::bool_switch(&all_cpus), "with --vmcore: the stack of every CPU, not only the crashed task's");
    if (!parse(argc, argv, "usage: kaddr oops [inputs] [--format text|json|inplace] [FILE...]  (default: standard input)",
               opts, files))
        return kOk;
    const Format format = json ? Format::Json : format_named(format_name);
    if (json && format_name != "text" && format_name != "json") throw po::error("--json contradicts --format " + format_name);
    std::vector<Log> logs;
    if (!in.vmcore.empty()) {  // the dump's own log holds its reports
        in.vmcore_facts = read_vmcore_facts(in);
        if (files.empty()) logs.push_back(log_of_text(in.vmcore, format_log(read_kernel_log(*in.vmcore_facts->dump))));
    }
    if (files.empty() && logs.empty()) {
        explain_terminal_stdin("oops", "a kernel log");
        files.push_back("-");
    }
    for (const auto& f : files) logs.push_back(read_log(f));
    // Each report is resolved with its own facts (release, KASLR offset,
    // modules, frames that place them); reports that agree share a snapshot.
    SnapshotPool& pool = pool_until_exit();
    bool all_resolved = true;
    std::size_t found = 0;
    for (auto& log : logs) {
        if (log.reports.empty())
            std::cerr << "kaddr: no crash report found in " << log.name
                      << " (single addresses and frames: kaddr resolve)\n";
        for (auto& r : log.reports) {
            ++found;
            bool fresh = false;
            auto snap = pool.get(with_report_facts(in, r, log.path), &fresh);
            if (fresh) print_notes(*snap);
            const Resolver resolver(*snap);
            ExplainedReport e = explain(std::move(r), resolver);
            all_resolved = all_resolved && e.resolved_frames == e.kernel_frames && e.kernel_frames > 0;
            if (format == Format::Json) {
                auto j = oops_to_json(e);
                j["source_file"] = log.path;
                j["source_line"] = e.report.first_line();
                std::cout << json_line(j);
            } else if (format == Format::Text) {
                print_oops_text(std::cout, e);
            } else {
                log.explained.push_back(std::move(e));
            }
        }
        if (format == Format::Inplace) print_oops_inplace(std::cout, log.raw, log.explained);
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
                if (format == Format::Json) std::cout << json_line(crashed_thread_json(t));
                else print_crashed_thread(std::cout, t);
            }
        } catch (const Error& e) {
            std::cerr << "kaddr: no stack from the dump: " << e.what() << "\n";
            all_resolved = false;
        }
        if (format == Format::Json) std::cout << json_line(dump_modules_json(*snap));
        else print_dump_modules(std::cout, *snap);
    }
    return found && all_resolved ? kOk : kUnresolved;
}

}  // namespace kaddr::cli
