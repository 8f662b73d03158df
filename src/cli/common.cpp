#include "common.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include "kaddr/error.h"
#include "kaddr/input_limit.h"
#include "kaddr/lexemes.h"
#include "kaddr/version.h"

namespace kaddr::cli {

void print_version() { std::cout << "kaddr " << kVersion << "\n"; }

namespace {

// --kaslr-offset: decimal or 0x hex, optionally negative (an offset below the
// link address is possible on some configurations).
std::int64_t parse_kaslr_offset(const std::string& text) {
    std::string_view t = trim(text);
    const bool negative = !t.empty() && t.front() == '-';
    if (negative) t.remove_prefix(1);
    auto v = parse_number(t);
    if (!v) throw po::error("--kaslr-offset '" + text + "' is not a number (give 0x... hex or decimal)");
    return negative ? -static_cast<std::int64_t>(*v) : static_cast<std::int64_t>(*v);
}

}  // namespace

po::options_description input_options(SnapshotInputs& in) {
    po::options_description o("Inputs (any subset)");
    o.add_options()
        ("vmcore", po::value(&in.vmcore), "kdump vmcore (kdump-compressed, ELF or flattened): release, KASLR, modules from the dump")
        ("snapshot", po::value(&in.snapshot_dir), "captured tree: proc/{kallsyms,modules,version}, sys/module/*/sections")
        ("vmlinux", po::value(&in.vmlinux), "vmlinux ELF (with DWARF for source lines)")
        ("system-map", po::value(&in.system_map), "System.map")
        ("kallsyms", po::value(&in.kallsyms), "/proc/kallsyms capture")
        ("proc-modules", po::value(&in.proc_modules), "/proc/modules capture")
        ("sections", po::value(&in.sections), "module section addresses: a sys/module tree or 'module section address' lines")
        ("proc-version", po::value(&in.version), "/proc/version capture (release)")
        ("debug-root", po::value(&in.debug_root), "extracted -dbg package (usr/lib/debug/...)")
        ("modules", po::value(&in.module_dirs)->composing(), "directory searched recursively for .ko[.xz|.zst|.gz] (repeatable)")
        ("ko", po::value(&in.ko_files)->composing(), "a module file (repeatable)")
        ("arch", po::value(&in.arch), "x86_64, arm64 or arm (normally derived)")
        ("kaslr-offset", po::value<std::string>()->notifier([&in](const std::string& s) {
             in.kaslr_offset = parse_kaslr_offset(s);
             in.kaslr_offset_source = "--kaslr-offset";
         }),
         "KASLR offset of the core kernel (runtime - link-time), as crash's --kaslr")
        ("no-debuginfod", po::bool_switch()->notifier([&in](bool off) { in.use_debuginfod = !off; }),
         "never fetch missing debug files from $DEBUGINFOD_URLS")
        ("no-index", po::bool_switch()->notifier([&in](bool off) { in.use_index = !off; }),
         "do not read or write the persisted indexes (in $KADDR_CACHE/index or ~/.cache/kaddr/index)")
        ("index-dir", po::value(&in.index_dir), "where the persisted indexes live (a store shared by hosts may be read-only)")
        ("build-index", po::bool_switch(&in.build_source_index),
         "index a debug file's DWARF on first use, for later runs (batch always does; see kaddr index)")
        ("max-input-size", po::value<std::string>()->notifier([](const std::string& s) {
             auto v = parse_size(s);
             if (!v) throw po::invalid_option_value("--max-input-size " + s + " (expected e.g. 4G, 512M)");
             set_input_size_limit(*v);
         }),
         "most bytes one input may hold in memory, read or decompressed (default 2G; also KADDR_MAX_INPUT_SIZE)");
    return o;
}

void print_notes(const Snapshot& snap) {
    for (const auto& n : snap.notes) std::cerr << "kaddr: note: " << n << "\n";
}

// Kept reachable from a global rather than dropped: the same for the OS,
// and LeakSanitizer (the sanitizer build) sees it is not a leak. Volatile:
// a global that is only written is otherwise optimised away.
Snapshot* volatile g_snapshot_at_exit = nullptr;

void release_at_exit(std::unique_ptr<Snapshot> snap) { g_snapshot_at_exit = snap.release(); }

SnapshotPool* volatile g_pool_at_exit = nullptr;

SnapshotPool& pool_until_exit() {
    if (!g_pool_at_exit) g_pool_at_exit = new SnapshotPool;
    return *g_pool_at_exit;
}

void add_jobs_option(po::options_description& opts, unsigned& jobs) {
    jobs = std::max(1u, std::thread::hardware_concurrency());
    opts.add_options()("jobs,j", po::value(&jobs)->notifier([&jobs](unsigned n) { jobs = std::max(1u, n); }),
                       "worker threads (default: number of CPUs)");
}

bool parse(int argc, char** argv, const char* usage, po::options_description& opts,
           std::vector<std::string>& positional) {
    opts.add_options()
        ("help,h", "show this help")
        ("version,V", "print kaddr's version");
    po::options_description hidden;
    hidden.add_options()("positional-argument", po::value(&positional)->composing());
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("positional-argument", -1);
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    if (vm.count("help")) {
        std::cout << usage << "\n" << opts << "\n";
        return false;
    }
    if (vm.count("version")) {
        print_version();
        return false;
    }
    po::notify(vm);
    return true;
}

void explain_terminal_stdin(const char* command, const char* what) {
    if (!isatty(STDIN_FILENO)) return;
    std::cerr << "kaddr " << command << ": reading " << what
              << " from the terminal; end with Ctrl-D (see 'kaddr " << command << " --help')\n";
}

std::istream& line_input(const std::string& name, std::ifstream& file, const char* command, const char* what) {
    if (name == "-") {
        explain_terminal_stdin(command, what);
        return std::cin;
    }
    file.open(name);
    if (!file) throw Error(name, "cannot be read");
    return file;
}

}  // namespace kaddr::cli
