// kaddr against the independent ground truth recorded with the captures:
// gdb `info symbol`/`info line`, binutils addr2line -i and llvm-symbolizer
// --inlining. Module frames run everywhere with the shipped ktoops.ko; core
// and distribution-module frames run in the vmlinux tiers with the Debian
// debug package (KADDR_DEBUG_ROOT_<ARCH>, set by tests/run-vmlinux-tier.sh).
#include <doctest/doctest.h>

#include <filesystem>

#include "kaddr/resolver.h"
#include "support.h"

using namespace kaddr;

namespace {

struct Tally {
    int checked = 0, skipped = 0;
};

// arm64 / 32-bit ARM: oops-frames.tsv with lookup addresses and llvm-symbolizer chains.
Tally check_arm(const std::string& arch_dir, const std::string& cap, const std::string& debug_root) {
    Tally t;
    auto snap = kt::load_capture(arch_dir, cap, debug_root);
    Resolver res(*snap);
    for (auto& row : kt::read_tsv(kt::testdata("captures/" + arch_dir + "/" + cap + "/groundtruth/oops-frames.tsv"))) {
        const bool module = !row["module"].empty();
        if (debug_root.empty() && row["module"] != "ktoops") {
            ++t.skipped;
            continue;
        }
        Resolution r = res.resolve_address(*parse_hex(row["lookup_addr"]));
        CHECK(r.module.has_value() == module);
        kt::check_chain(r, kt::parse_chain(row["llvm_symbolizer"]), cap + ":" + row["line"] + " " + row["frame_text"]);
        ++t.checked;
    }
    return t;
}

}  // namespace

TEST_CASE("x86_64 module frames and symbols match gdb and addr2line (shipped ktoops.ko)") {
    for (const auto& c : kt::captures_of("deb12-6.1.0-56-cloud")) {
        kt::TruthTally t = kt::check_gdb_truth(c, kt::Given::WholeCapture, "");
        MESSAGE(c.name << ": " << t.checked << " rows checked, " << t.skipped << " need the debug package");
        CHECK(t.checked >= 20);
        CHECK(t.spans >= 5);
    }
}

TEST_CASE("arm64 module frames match llvm-symbolizer (shipped ktoops.ko; $x mapping symbols ignored)") {
    int checked = 0;
    for (const char* cap : {"capture-1", "capture-2", "capture-3"}) checked += check_arm("deb12-6.1.0-56-arm64", cap, "").checked;
    CHECK(checked >= 20);
}

TEST_CASE("32-bit ARM module frames match llvm-symbolizer (shipped ktoops.ko)") {
    int checked = 0;
    for (const char* cap : {"capture-1", "capture-2"}) checked += check_arm("deb12-6.1.0-50-armmp", cap, "").checked;
    CHECK(checked >= 14);  // capture-2 ran without ktoops
}

TEST_CASE("x86_64 every ground-truth row, core kernel included" * doctest::test_suite("vmlinux-x86_64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE_MESSAGE(!root.empty(), "run through tests/run-vmlinux-tier.sh x86_64");
    for (const auto& c : kt::captures_of("deb12-6.1.0-56-cloud")) {
        kt::TruthTally t = kt::check_gdb_truth(c, kt::Given::WholeCapture, root);
        MESSAGE(c.name << ": " << t.checked << " rows checked, " << t.spans << " printed sizes compared");
        CHECK(t.skipped == 0);
        CHECK(t.spans >= 20);
    }
}

TEST_CASE("arm64 every ground-truth row, core kernel included" * doctest::test_suite("vmlinux-arm64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_ARM64");
    REQUIRE(!root.empty());
    for (const char* cap : {"capture-1", "capture-2", "capture-3"}) {
        Tally t = check_arm("deb12-6.1.0-56-arm64", cap, root);
        MESSAGE(std::string(cap) << ": " << t.checked << " rows checked");
        CHECK(t.skipped == 0);
    }
}

TEST_CASE("32-bit ARM every ground-truth row, core kernel included" * doctest::test_suite("vmlinux-armhf")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_ARMHF");
    REQUIRE(!root.empty());
    for (const char* cap : {"capture-1", "capture-2"}) {
        Tally t = check_arm("deb12-6.1.0-50-armmp", cap, root);
        MESSAGE(std::string(cap) << ": " << t.checked << " rows checked");
        CHECK(t.skipped == 0);
    }
}

TEST_CASE("where binutils misreads DWARF 5 file indexes, kaddr agrees with llvm-symbolizer and eu-addr2line" *
          doctest::test_suite("vmlinux-x86_64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE(!root.empty());
    SnapshotInputs si;
    si.vmlinux = root + "/usr/lib/debug/boot/vmlinux-6.1.0-56-cloud-amd64";
    auto snap = load_snapshot(si);
    Resolver res(*snap);
    int rows = 0;
    for (auto& row : kt::read_tsv(kt::testdata("groundtruth/x86_64-binutils-file-disagreements.tsv"))) {
        INFO(row["address"]);
        CHECK(kt::same_path(row["eu_file"], row["llvm_file"]));  // the two agree: the reference is sound
        Resolution r = res.resolve_address(*parse_hex(row["address"]));
        REQUIRE(!r.locations.empty());
        CHECK_MESSAGE(kt::same_path(r.locations[0].file, row["llvm_file"]), r.locations[0].file);
        CHECK(std::to_string(r.locations[0].line) == row["llvm_line"]);
        CHECK_FALSE(kt::same_path(r.locations[0].file, row["binutils_file"]));
        ++rows;
    }
    CHECK(rows >= 20);
}
