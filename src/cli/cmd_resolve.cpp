// kaddr resolve: addresses and `sym+off/size [mod]` frames from the command
// line, or from standard input as a long-lived coprocess (answers are
// flushed before kaddr waits for more input, as addr2line and
// llvm-symbolizer do).
#include <algorithm>
#include <cstring>
#include <iostream>
#include <set>
#include <sstream>

#include "common.h"
#include "kaddr/error.h"
#include "kaddr/inputs.h"
#include "kaddr/report.h"
#include "kaddr/report_facts.h"
#include "kaddr/resolver.h"
#include "ordered_parallel.h"
#include "resolve_inputs.h"

namespace kaddr::cli {

namespace {

enum class Output { Text, Json, Addr2line };

struct Settings {
    AddressKind kind = AddressKind::Precise;
    bool pc_given = false;  // --pc: precise on purpose, no hint
    Output output = Output::Text;
    Addr2lineStyle addr2line;
    unsigned jobs = 1;
};

std::string answer(const Resolver& resolver, const std::string& input, const Settings& s, bool& ok) {
    Resolution r = resolver.resolve_text(input, s.kind);
    if (s.kind == AddressKind::Precise && !s.pc_given) note_frame_shaped_precise(r);
    ok = r.resolved();
    if (s.output == Output::Text) {
        std::string text;
        text.reserve(512);  // an answer is a few lines: grown once, not five times
        append_text(text, r);
        return text;
    }
    std::ostringstream out;
    if (s.output == Output::Json) out << json_line(to_json(r));
    else print_addr2line(out, r, s.addr2line);
    return out.str();
}

// Resolves `inputs` on s.jobs threads and prints the answers in input order.
// Threads take contiguous slices of the inputs sorted by address, so each
// thread's DWARF session parses its own compile units.
bool resolve_all(const Resolver& resolver, const std::vector<std::string>& inputs, const Settings& s) {
    std::vector<std::size_t> order(inputs.size());
    std::vector<std::uint64_t> key(inputs.size(), 0);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        order[i] = i;
        if (auto a = parse_address_text(inputs[i])) key[i] = *a;
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key[a] < key[b]; });
    std::vector<std::string> text(inputs.size());
    std::vector<char> ok(inputs.size(), 0);
    // Small slices: even 20 cold addresses are 20 compile units to parse,
    // and two threads parse them in about half the time.
    const std::size_t chunk = std::max<std::size_t>(4, inputs.size() / (std::size_t{s.jobs} * 16 + 1));
    const std::size_t chunks = (inputs.size() + chunk - 1) / chunk;
    ordered_parallel<int>(chunks, s.jobs, [&](std::size_t c) {
        for (std::size_t k = c * chunk; k < std::min(inputs.size(), (c + 1) * chunk); ++k) {
            bool good = false;
            text[order[k]] = answer(resolver, inputs[order[k]], s, good);
            ok[order[k]] = good;
        }
        return 0;
    }, [](std::size_t, int) {});
    for (const auto& t : text) std::cout << t;
    return std::all_of(ok.begin(), ok.end(), [](char c) { return c; });
}

// Standard input: whatever is already buffered is resolved together (a
// piped file keeps its parallel throughput); before blocking for more input
// the answers so far are flushed, so a coprocess writing one line at a time
// gets each answer at once.
// Lines are bounded: /dev/zero or a binary file is an error, not an OOM kill.
// Modules the lines name are looked for as they arrive (QueriedSnapshot).
bool resolve_stream(QueriedSnapshot& snap, const Settings& s) {
    bool all = true;
    std::set<std::string> noted(snap.snapshot().notes.begin(), snap.snapshot().notes.end());
    auto answer_batch = [&](const std::vector<std::string>& batch) {
        if (snap.cover(batch))  // loaded again: its notes that are new
            for (const auto& n : snap.snapshot().notes)
                if (noted.insert(n).second) std::cerr << "kaddr: note: " << n << "\n";
        return resolve_all(Resolver(snap.snapshot()), batch, s);
    };
    std::vector<std::string> batch;
    static char buf[64 * 1024];
    for (std::size_t n = 1;; ++n) {
        std::cin.getline(buf, sizeof buf);
        // What was stored: gcount() also counts a newline it consumed.
        const auto got = static_cast<std::size_t>(std::cin.gcount());
        const std::size_t stored = std::cin.fail() || std::cin.eof() ? got : got - 1;
        if (std::memchr(buf, '\0', stored))  // as read_standard_input() refuses it
            throw Error("standard input", "binary data, not text", "resolve reads one address or frame per line");
        if (std::cin.fail() && !std::cin.eof())
            throw Error("standard input:" + std::to_string(n), "a line longer than 64 KiB",
                        "resolve reads one address or frame per line; is this binary input?");
        if (std::cin.fail()) break;  // end of input, nothing read
        if (!trim(std::string_view(buf, stored)).empty()) batch.emplace_back(buf, stored);
        if (std::cin.eof()) break;
        if (std::cin.rdbuf()->in_avail() > 0 && batch.size() < 4096) continue;
        all = answer_batch(batch) && all;
        batch.clear();
        std::cout.flush();
    }
    return answer_batch(batch) && all;
}

}  // namespace

int cmd_resolve(int argc, char** argv) {
    SnapshotInputs in;
    std::vector<std::string> args, exes;
    Settings s;
    bool json = false, ret = false;
    po::options_description opts = input_options(in);
    add_jobs_option(opts, s.jobs);
    opts.add_options()
        ("exe,e", po::value(&exes)->composing(), "addr2line's -e: a vmlinux or a module .ko (repeatable)")
        ("return-address", po::bool_switch(&ret),
         "inputs are return addresses (call trace frames): look up the call instruction")
        ("pc", po::bool_switch(&s.pc_given), "inputs are faulting pcs: look them up as given (the default), no hint")
        ("json", po::bool_switch(&json), "one JSON object per input (JSON Lines)")
        ("addresses,a", po::bool_switch(&s.addr2line.addresses), "addr2line output: print the address first")
        ("functions,f", po::bool_switch(&s.addr2line.functions), "addr2line output: print function names")
        ("inlines,i", po::bool_switch(&s.addr2line.inlines), "addr2line output: print the whole inline chain")
        ("pretty-print,p", po::bool_switch(&s.addr2line.pretty), "addr2line output: one line per location")
        ("basenames,s", po::bool_switch(&s.addr2line.basenames), "addr2line output: file base names only");
    if (!parse(argc, argv,
               "usage: kaddr resolve [inputs] [-e FILE] [options] ADDR|SYM[+OFF[/SIZE]] [[mod]]...\n"
               "       (without ADDR arguments, one input per line is read from standard input)",
               opts, args))
        return kOk;
    if (ret && s.pc_given) throw po::error("--return-address and --pc contradict each other");
    for (const auto& e : exes) add_executable(in, e);
    s.kind = ret ? AddressKind::Return : AddressKind::Precise;
    const auto& a = s.addr2line;
    const bool addr2line_style = a.addresses || a.functions || a.inlines || a.pretty || a.basenames;
    if (json && addr2line_style) throw po::error("--json and the addr2line output flags (-a -f -i -p -s) exclude each other");
    s.output = json ? Output::Json : addr2line_style ? Output::Addr2line : Output::Text;

    // Modules the arguments name are looked for before loading; streamed
    // queries' modules as the queries arrive.
    const std::vector<std::string> inputs = join_module_arguments(args);
    QueriedSnapshot snap(with_queried_modules(in, inputs));
    print_notes(snap.snapshot());
    bool all;
    if (!inputs.empty()) {
        all = resolve_all(Resolver(snap.snapshot()), inputs, s);
    } else {
        explain_terminal_stdin("resolve", "addresses or frames, one per line,");
        all = resolve_stream(snap, s);
    }
    std::cout.flush();
    release_at_exit(snap.release());
    return all ? kOk : kUnresolved;
}

}  // namespace kaddr::cli
