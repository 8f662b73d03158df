// The most common real task: a crash report and the debug files, no
// capture of /proc or /sys. Every report of the bundled captures is decoded
// twice, once with the capture (whose answers the ground-truth tests check
// against gdb, addr2line and llvm-symbolizer) and once with only the report,
// the module files and (in the vmlinux tiers) the extracted -dbg package;
// every code frame must come out with the same source lines and inline
// chain. Module frames run everywhere with the shipped ktoops.ko; core
// frames need the -dbg package.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "kaddr/oops_explain.h"
#include "kaddr/report_facts.h"
#include "kaddr/resolver.h"
#include "kaddr/snapshot_pool.h"
#include "support.h"

using namespace kaddr;
namespace fs = std::filesystem;

namespace {

using Tally = kt::ZeroTally;
Tally compare_captures(const std::string& set, const std::string& debug_root) { return kt::compare_zero_setup(set, debug_root); }

}  // namespace

TEST_CASE("zero setup: x86_64 module frames from the report and ktoops.ko alone equal the capture's answers") {
    Tally t = compare_captures("deb12-6.1.0-56-cloud", "");
    MESSAGE(t.reports << " reports, " << t.module_frames << " module frames compared");
    CHECK(t.module_frames >= 40);
}

TEST_CASE("zero setup: arm64 and 32-bit ARM module frames equal the capture's answers") {
    CHECK(compare_captures("deb12-6.1.0-56-arm64", "").module_frames >= 40);
    CHECK(compare_captures("deb12-6.1.0-50-armmp", "").module_frames >= 20);
}

TEST_CASE("zero setup: x86_64 every frame with only the -dbg package" * doctest::test_suite("vmlinux-x86_64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE(!root.empty());
    Tally t = compare_captures("deb12-6.1.0-56-cloud", root);
    MESSAGE(t.reports << " reports: " << t.core_frames << " core and " << t.module_frames << " module frames compared");
    CHECK(t.core_frames >= 100);
}

TEST_CASE("zero setup: arm64 every frame with only the -dbg package" * doctest::test_suite("vmlinux-arm64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_ARM64");
    REQUIRE(!root.empty());
    CHECK(compare_captures("deb12-6.1.0-56-arm64", root).core_frames >= 100);
}

TEST_CASE("zero setup: 32-bit ARM every frame with only the -dbg package" * doctest::test_suite("vmlinux-armhf")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_ARMHF");
    REQUIRE(!root.empty());
    CHECK(compare_captures("deb12-6.1.0-50-armmp", root).core_frames >= 50);
}

// A report printed in the older x86 form, frames with their addresses (the
// real runtime addresses of capture-1, from its ground truth), and no
// capture: the first module frame places ktoops (layout derived from it), so
// a data address of the module (the fault address here) resolves to the
// same symbol as with the exact sysfs layout.
TEST_CASE("zero setup: a frame printed with its address places the module; data addresses then resolve") {
    const std::string cap = kt::testdata("captures/deb12-6.1.0-56-cloud/");
    std::istringstream text(
        "BUG: unable to handle page fault for address: ffffffffc056b3c8\n"
        "Oops: 0002 [#1] PREEMPT SMP NOPTI\n"
        "CPU: 1 PID: 643 Comm: init Tainted: G        W  OE      6.1.0-56-cloud-amd64 #1  Debian 6.1.192-2\n"
        "Call Trace:\n"
        " [<ffffffffc056919c>] ktoops_public_entry+0x9c/0xb0 [ktoops]\n"
        " [<ffffffffc0569247>] ? ktoops_write+0x47/0xb0 [ktoops]\n"
        "---[ end trace 0000000000000000 ]---\n");
    auto reports = parse_reports(text);
    REQUIRE(reports.size() == 1);
    REQUIRE(reports[0].fault_address == 0xffffffffc056b3c8ULL);
    SnapshotInputs bare;
    bare.module_dirs = {cap + "ktoops"};
    auto snap = load_snapshot(with_report_facts(bare, reports[0], "old-style.txt"));
    const Module* m = snap->module_named("ktoops");
    REQUIRE(m);
    CHECK(m->layout == Placement::Reconstructed);
    CHECK(m->layout_how.find("derived from the frame ktoops_public_entry+0x9c printed at 0xffffffffc056919c") !=
          std::string::npos);
    ExplainedReport e = explain(reports[0], Resolver(*snap));
    REQUIRE(e.fault);
    CHECK(e.fault->module == "ktoops");
    CHECK(e.fault->symbol == "ktoops_null_item");  // kallsyms: ffffffffc056b3c8 b ktoops_null_item
    CHECK(e.fault->section == ".bss");
    CHECK(std::find(e.fault->found_by.begin(), e.fault->found_by.end(), "layout derived from a frame") !=
          e.fault->found_by.end());
    // Every section equals the capture's exact sysfs address.
    auto exact = kt::load_capture("deb12-6.1.0-56-cloud", "capture-1", "");
    const Module* x = exact->module_named("ktoops");
    int same = 0;
    for (const auto& s : m->sections)
        for (const auto& t : x->sections)
            if (s.name == t.name && is_runtime(s.placement) && t.placement == Placement::Exact) {
                CHECK_MESSAGE(s.addr == t.addr, s.name);
                ++same;
            }
    CHECK(same >= 15);
}
