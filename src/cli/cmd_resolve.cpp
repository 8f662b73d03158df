#include <algorithm>
#include <iostream>
#include <sstream>
#include <thread>

#include "ordered_parallel.h"

#include "common.h"
#include "kaddr/inputs.h"
#include "kaddr/report.h"
#include "kaddr/report_facts.h"
#include "kaddr/resolver.h"

namespace kaddr::cli {

int cmd_resolve(int argc, char** argv) {
    SnapshotInputs in;
    std::vector<std::string> inputs;
    bool json = false, ret = false;
    unsigned jobs = 1;
    po::options_description opts = input_options(in);
    add_jobs_option(opts, jobs);
    opts.add_options()
        ("json", po::bool_switch(&json), "one JSON object per input (JSON Lines)")
        ("return-address", po::bool_switch(&ret), "inputs are return addresses: look up the call instruction")
        ("input", po::value(&inputs)->composing(), "addresses or symbols (else read from stdin)");
    if (!parse(argc, argv, "usage: kaddr resolve [inputs] ADDR|SYM[+OFF[/SIZE]] [mod]...", opts, "input")) return kOk;

    if (inputs.empty()) {  // bounded, binary refused: /dev/zero is an error, not an OOM kill
        std::istringstream text{std::string(read_standard_input().text)};
        for (std::string line; std::getline(text, line);)
            if (!trim(line).empty()) inputs.push_back(line);
    }
    auto snap = load_snapshot(with_queried_modules(in, inputs));
    print_notes(*snap);
    const Resolver resolver(*snap);
    const AddressKind kind = ret ? AddressKind::Return : AddressKind::Precise;
    // Threads take contiguous slices of the inputs sorted by address, so
    // each thread's DWARF session parses its own compile units; output
    // keeps the input order.
    std::vector<std::size_t> order(inputs.size());
    std::vector<std::uint64_t> key(inputs.size(), 0);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        order[i] = i;
        if (auto a = parse_address_text(inputs[i])) key[i] = *a;
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key[a] < key[b]; });
    std::vector<std::string> text(inputs.size());
    std::vector<char> ok(inputs.size(), 0);
    // Contiguous chunks, handed out in order: a compile unit rarely spans two.
    const std::size_t chunk = std::max<std::size_t>(64, inputs.size() / (std::size_t{jobs} * 16 + 1));
    const std::size_t chunks = (inputs.size() + chunk - 1) / chunk;
    ordered_parallel<int>(chunks, jobs, [&](std::size_t c) {
        for (std::size_t k = c * chunk; k < std::min(inputs.size(), (c + 1) * chunk); ++k) {
            const std::size_t i = order[k];
            Resolution r = resolver.resolve_text(inputs[i], kind);
            std::ostringstream out;
            if (json) out << json_line(to_json(r));
            else print_text(out, r);
            text[i] = out.str();
            ok[i] = r.resolved();
        }
        return 0;
    }, [](std::size_t, int) {});
    bool all = true;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        std::cout << text[i];
        all = all && ok[i];
    }
    release_at_exit(std::move(snap));
    return all ? kOk : kUnresolved;
}

int cmd_gdb_symbols(int argc, char** argv) {
    SnapshotInputs in;
    std::vector<std::string> names;
    po::options_description opts = input_options(in);
    opts.add_options()("module", po::value(&names)->composing(), "modules (default: every loaded module)");
    if (!parse(argc, argv, "usage: kaddr gdb-symbols [inputs] [MODULE...]", opts, "module")) return kOk;
    auto snap = load_snapshot(in);
    print_notes(*snap);
    bool all = true;
    if (names.empty())
        for (const auto& m : snap->modules) names.push_back(m->name);
    for (const auto& n : names) {
        const Module* m = snap->module_named(n);
        if (!m) {
            std::cerr << "kaddr: module " << n << " is not in this snapshot\n";
            all = false;
            continue;
        }
        print_gdb_symbols(std::cout, *m);
        all = all && m->ko;
    }
    return all ? kOk : kUnresolved;
}

}  // namespace kaddr::cli
