#include <iostream>

#include "common.h"
#include "kaddr/report.h"
#include "kaddr/resolver.h"

namespace kaddr::cli {

int cmd_resolve(int argc, char** argv) {
    SnapshotInputs in;
    std::vector<std::string> inputs;
    bool json = false, ret = false;
    po::options_description opts = input_options(in);
    opts.add_options()
        ("json", po::bool_switch(&json), "one JSON object per input (JSON Lines)")
        ("return-address", po::bool_switch(&ret), "inputs are return addresses: look up the call instruction")
        ("input", po::value(&inputs)->composing(), "addresses or symbols (else read from stdin)");
    po::positional_options_description pos;
    pos.add("input", -1);
    po::variables_map vm;
    if (!parse(argc, argv, "usage: kaddr resolve [inputs] ADDR|SYM[+OFF[/SIZE]] [mod]...", opts, pos, vm)) return kOk;

    auto snap = load_snapshot(in);
    print_notes(*snap);
    Resolver resolver(*snap);
    const AddressKind kind = ret ? AddressKind::Return : AddressKind::Precise;
    bool all = true;
    auto one = [&](const std::string& text) {
        Resolution r = resolver.resolve_text(text, kind);
        all = all && r.resolved();
        if (json) std::cout << to_json(r).dump() << "\n";
        else print_text(std::cout, r);
    };
    if (inputs.empty()) {
        std::string line;
        while (std::getline(std::cin, line))
            if (!trim(line).empty()) one(line);
    } else {
        for (const auto& t : inputs) one(t);
    }
    return all ? kOk : kUnresolved;
}

int cmd_gdb_symbols(int argc, char** argv) {
    SnapshotInputs in;
    std::vector<std::string> names;
    po::options_description opts = input_options(in);
    opts.add_options()("module", po::value(&names)->composing(), "modules (default: every loaded module)");
    po::positional_options_description pos;
    pos.add("module", -1);
    po::variables_map vm;
    if (!parse(argc, argv, "usage: kaddr gdb-symbols [inputs] [MODULE...]", opts, pos, vm)) return kOk;
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
