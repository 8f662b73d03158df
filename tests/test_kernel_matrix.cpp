// The kernels people run: Debian's 6.1 and 6.12 (a 6.4+ kernel, whose
// modules' memory is split by type) booted with test modules kaddr has never
// seen (ktkinds, ktoops), their reports checked frame by frame against gdb
// and addr2line under every set of inputs a user may have. The captures
// live in ../shared/captures (the kinds sets); the -dbg packages come from
// scripts/fetch-debug.sh (tiers vmlinux-x86_64 and vmlinux-x86_64-6.12).
#include <doctest/doctest.h>

#include "kaddr/resolver.h"
#include "support.h"

using namespace kaddr;
using kt::Given;

namespace {

const char* const kSets[] = {"deb12-6.1.0-56-cloud-kinds", "deb12-6.12.118-cloud-kinds"};

std::string root_of(const char* var) {
    const std::string root = kt::env(var);
    REQUIRE_MESSAGE(!root.empty(), "run through tests/run-vmlinux-tier.sh (" << var << ")");
    return root;
}

// The whole tier for one kernel: gdb's answer for every frame and symbol
// with the whole capture and with kallsyms + /proc/modules + the -dbg
// package (no sysfs, no release: the era from the vmlinux DWARF, module
// data placed from kallsyms on 6.4+); every printed frame named as
// printed; every report decoded with only the -dbg package as with the
// capture.
void check_kernel(const std::string& set, const std::string& root) {
    for (const auto& c : kt::captures_of(set)) {
        for (Given g : {Given::WholeCapture, Given::KallsymsModulesDebugRoot}) {
            const kt::TruthTally t = kt::check_gdb_truth(c, g, root);
            MESSAGE(set << " " << c.name << " configuration " << static_cast<int>(g) << ": " << t.checked
                        << " rows equal gdb's, " << t.spans << " printed sizes");
            CHECK(t.skipped == 0);
            CHECK(t.checked >= 100);
        }
        CHECK(kt::check_printed_frames(c, Given::KallsymsModulesDebugRoot, root) >= 50);
    }
    const kt::ZeroTally z = kt::compare_zero_setup(set, root);
    MESSAGE(set << " with only the -dbg package: " << z.reports << " reports, " << z.core_frames << " core and "
                << z.module_frames << " module frames equal the capture's answers");
    CHECK(z.core_frames >= 200);
    CHECK(z.module_frames >= 20);
}

}  // namespace

TEST_CASE("6.1 and 6.12 captures: every printed frame named as printed, from kallsyms alone to the whole capture") {
    for (const char* set : kSets)
        for (const auto& c : kt::captures_of(set))
            for (Given g : {Given::Kallsyms, Given::KallsymsAndModules, Given::WholeCapture}) {
                const int n = kt::check_printed_frames(c, g, "");
                CHECK(n >= 50);
            }
}

TEST_CASE("6.1 and 6.12 captures: the test modules' frames and symbols equal gdb's (their own .ko files)") {
    for (const char* set : kSets)
        for (const auto& c : kt::captures_of(set)) {
            const kt::TruthTally t = kt::check_gdb_truth(c, Given::WholeCapture, "");
            CHECK(t.checked >= 20);
        }
}

TEST_CASE("6.1 kinds captures: every row against gdb, three ways" * doctest::test_suite("vmlinux-x86_64")) {
    check_kernel("deb12-6.1.0-56-cloud-kinds", root_of("KADDR_DEBUG_ROOT_X86_64"));
}

TEST_CASE("6.12 kinds captures: every row against gdb, three ways" * doctest::test_suite("vmlinux-x86_64-6.12")) {
    check_kernel("deb12-6.12.118-cloud-kinds", root_of("KADDR_DEBUG_ROOT_X86_64_6_12"));
}

TEST_CASE("6.12: /proc/modules, with or without a release, is read as the 6.4+ era; the overlap it shows is no error") {
    int inferred = 0;
    for (const auto& c : kt::captures_of("deb12-6.12.118-cloud-kinds")) {
        SnapshotInputs in;
        in.proc_modules = c.file("proc_modules.txt");
        // No release: a module starting inside another's base + size says
        // 6.4+ (capture-1 has one); without such a pair the era stays an
        // assumption, said as one.
        auto bare = load_snapshot(in);
        if (bare->module_memory.per_type()) ++inferred;
        else CHECK(bare->module_memory.assumed);
        in.version = c.file("version.txt");
        auto with_release = load_snapshot(in);
        CHECK(with_release->module_memory.per_type());
        CHECK(with_release->module_memory.how == "release 6.12");
    }
    CHECK(inferred >= 1);
}
