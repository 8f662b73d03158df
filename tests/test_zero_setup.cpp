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

struct Tally {
    int reports = 0, module_frames = 0, core_frames = 0;
};

bool same_locations(const std::vector<SourceLocation>& a, const std::vector<SourceLocation>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].function != b[i].function || a[i].file != b[i].file || a[i].line != b[i].line || a[i].column != b[i].column)
            return false;
    return true;
}

Tally compare_captures(const std::string& arch_dir, const std::string& debug_root) {
    Tally t;
    const std::string base = kt::testdata("captures/" + arch_dir + "/");
    SnapshotInputs bare;  // what a user has: the report, the module files, the -dbg package
    bare.module_dirs = {base + "ktoops"};
    bare.debug_root = debug_root;
    SnapshotPool pool;
    for (const auto& cap : fs::directory_iterator(base)) {
        if (!cap.path().filename().string().starts_with("capture-")) continue;
        const std::string name = cap.path().filename().string();
        auto with_capture = kt::load_capture(arch_dir, name, debug_root);
        const Resolver full(*with_capture);
        for (const char* dir : {"oops", "console-oops"}) {
            std::error_code ec;
            for (const auto& file : fs::directory_iterator(cap.path() / dir, ec)) {
                for (auto& report : parse_report_file(file.path().string())) {
                    ++t.reports;
                    auto snap = pool.get(with_report_facts(bare, report, file.path().string()));
                    const Resolver zero(*snap);
                    ExplainedReport a = explain(report, full), b = explain(report, zero);
                    REQUIRE(a.frames.size() == b.frames.size());
                    for (std::size_t i = 0; i < a.frames.size(); ++i) {
                        const Resolution &ra = a.frames[i].resolution, &rb = b.frames[i].resolution;
                        if (ra.locations.empty()) continue;  // not a code frame with source (user space, ...)
                        const bool module = ra.module.has_value();
                        if (!module && debug_root.empty()) continue;
                        INFO(file.path().string() << ": " << ra.input);
                        CHECK_MESSAGE(same_locations(ra.locations, rb.locations),
                                      "with capture " << ra.locations[0].function << " " << ra.locations[0].file << ":"
                                                      << ra.locations[0].line << "; without: "
                                                      << (rb.locations.empty() ? (rb.error ? *rb.error : std::string("nothing"))
                                                                               : rb.locations[0].file + ":" +
                                                                                     std::to_string(rb.locations[0].line)));
                        CHECK(rb.module == ra.module);
                        CHECK(rb.symbol == ra.symbol);
                        CHECK(rb.section == ra.section);
                        if (module) {
                            // No load address: said, and never claimed exact.
                            if (!rb.address) CHECK(rb.confidence == "module-relative");
                            ++t.module_frames;
                        } else {
                            CHECK(rb.confidence == "exact");
                            ++t.core_frames;
                        }
                    }
                    // The guilty frame is the same one, named the same way.
                    CHECK(a.guilty_function == b.guilty_function);
                    // A data address either resolves or says why not.
                    if (b.fault) CHECK((b.fault->resolved() || b.fault->error.has_value()));
                }
            }
        }
    }
    return t;
}

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
