// Another tool linking libkaddr through pkg-config: resolves one symbol of
// the fixture vmlinux given on the command line and prints its source.
#include <kaddr/report.h>
#include <kaddr/resolver.h>
#include <kaddr/version.h>

#include <iostream>

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    kaddr::SnapshotInputs in;
    in.vmlinux = argv[1];
    in.use_index = false;
    auto snap = kaddr::load_snapshot(in);
    kaddr::Resolver resolver(*snap);
    kaddr::Resolution r = resolver.resolve_text(argv[2]);
    std::cout << "libkaddr " << kaddr::kVersion << ": " << kaddr::to_json(r)["locations"].dump() << "\n";
    return r.resolved() ? 0 : 1;
}
