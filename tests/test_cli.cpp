// The kaddr command end to end: exit codes, JSON Lines, batch totals and
// error records. Runs the built binary like a user would.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_run.h"
#include "support.h"

namespace fs = std::filesystem;

namespace {

using kt::Run;
using kt::run;
const auto lines = kt::json_lines;

const std::string kCap = kt::testdata("captures/deb12-6.1.0-56-cloud/");

}  // namespace

TEST_CASE("resolve --json: one record per input, errors included, exit 1 when some fail") {
    Run r = run("resolve --json --snapshot " + kCap + "capture-1/snapshot --modules " + kCap +
                "ktoops 'ktoops_deref+0x6/0x30 [ktoops]' 0x47b7a0 nonsense+zz");
    CHECK(r.status == 1);
    auto recs = lines(r.out);
    REQUIRE(recs.size() == 3);
    CHECK(recs[0]["address"] == "0xffffffffc0569046");
    CHECK(recs[0]["module"] == "ktoops");
    CHECK(recs[0]["section"] == ".text");
    CHECK(recs[0]["symbol"] == "ktoops_deref");
    CHECK(recs[0]["offset"] == 6);
    CHECK(recs[0]["locations"][0]["line"] == 70);
    CHECK(recs[0]["confidence"] == "exact");
    CHECK(recs[0]["error"].is_null());
    CHECK(recs[1]["region"] == "user");
    CHECK(!recs[1]["error"].is_null());
    CHECK(!recs[2]["error"].is_null());
}

TEST_CASE("usage and unreadable inputs exit 2") {
    CHECK(run("resolve --no-such-option").status == 2);
    CHECK(run("resolve --kallsyms /nonexistent/kallsyms 0xffffffff81000000").status == 2);
    CHECK(run("frobnicate").status == 2);
}

TEST_CASE("gdb-symbols: exact and reconstructed lines") {
    Run exact = run("gdb-symbols --snapshot " + kCap + "capture-1/snapshot --ko " + kCap + "ktoops/ktoops.ko ktoops");
    CHECK(exact.status == 0);
    CHECK(exact.out.find("exact section addresses") != std::string::npos);
    CHECK(exact.out.find("add-symbol-file " + kCap + "ktoops/ktoops.ko 0xffffffffc0569000") != std::string::npos);
    CHECK(exact.out.find("-s .data 0xffffffffc056b020") != std::string::npos);
    Run rec = run("gdb-symbols --proc-modules " + kCap + "capture-1/proc_modules.txt --proc-version " + kCap +
                  "capture-1/version.txt --ko " + kCap + "ktoops/ktoops.ko ktoops");
    CHECK(rec.out.find("reconstructed") != std::string::npos);
    CHECK(rec.out.find("-s .data 0xffffffffc056b020") != std::string::npos);
    CHECK(rec.out.find("left out (address unknown): .init.text .init.data") != std::string::npos);
}

TEST_CASE("batch: hundreds of reports in parallel, correct totals, bad files become error records") {
    auto dir = fs::temp_directory_path() / ("kaddr-batch-" + std::to_string(::getpid()));
    fs::create_directories(dir / "nested");
    int expected = 0;
    for (const char* cap : {"capture-1", "capture-2"})
        for (const auto& e : fs::directory_iterator(kCap + cap + "/oops")) {
            for (int copy = 0; copy < 40; ++copy) {
                fs::copy_file(e.path(), dir / "nested" / (std::string(cap) + "-" + std::to_string(copy) + "-" +
                                                          e.path().filename().string()));
                ++expected;
            }
        }
    std::ofstream(dir / "no-report.txt") << "just a log line\n";
    fs::create_directories(dir / "unreadable.txt");  // a directory named like a file is skipped by the walk...
    const std::string missing = (dir / "missing.log").string();  // ...a missing path given directly is an error record
    Run r = run("batch --jobs 2 --snapshot " + kCap + "capture-1/snapshot --modules " + kCap + "ktoops " +
                dir.string() + " " + missing);
    auto recs = lines(r.out);
    REQUIRE(!recs.empty());
    const auto totals = recs.back();  // written last, only when the batch completed
    recs.pop_back();
    CHECK(totals["batch"] == "complete");
    CHECK(totals["reports"] == expected);
    CHECK(totals["unreadable_files"] == 1);
    CHECK(totals["files_without_report"] == 1);
    int reports = 0, errors = 0;
    for (const auto& j : recs) {
        if (j["record"] == "no-report") {
            CHECK(j["reports"] == 0);
            CHECK(j["source_file"] == (dir / "no-report.txt").string());
        } else if (j["record"] == "input-error") {
            CHECK(j["error"]["code"] == "unreadable-input");
            ++errors;
            CHECK(j["source_file"] == missing);
        } else {
            ++reports;
            CHECK(j.contains("source_line"));
            CHECK(j["frames"].size() > 0);
        }
    }
    CHECK(reports == expected);
    CHECK(errors == 1);
    CHECK(r.status == 1);  // one unreadable input
    fs::remove_all(dir);
}

TEST_CASE("console bytes that are not UTF-8 never cost a report") {
    auto path = fs::temp_directory_path() / ("kaddr-bad-utf8-" + std::to_string(::getpid()) + ".log");
    std::ofstream(path) << "[    1.000000] BUG: kernel NULL pointer dereference, address: 0000000000000008 \xff\xfe\n"
                           "[    1.000001] Call Trace:\n"
                           "[    1.000003]  vfs_write+0xc7/0x3f0 \xc3\n"
                           "[    1.000005] ---[ end trace 0 ]---\n";
    for (const char* cmd : {"oops --json ", "batch "}) {
        Run r = run(std::string(cmd) + "--kallsyms " + kCap + "capture-1/kallsyms.txt " + path.string());
        auto recs = lines(r.out);  // parses: every record is valid JSON
        if (std::string(cmd) == "batch ") recs.pop_back();  // the totals
        REQUIRE(recs.size() == 1);
        CHECK(recs[0]["kind"] == "null-deref");
        CHECK(recs[0]["headline"].get<std::string>().find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD
        CHECK(recs[0]["frames"][0]["symbol"] == "vfs_write");
    }
    fs::remove(path);
}

TEST_CASE("JSON records are typed: error codes, null for unknown, confidence only with an answer") {
    const std::string fx = kt::fixture("fxvmlinux");
    Run r = run("resolve --json --vmlinux " + fx + " --ko " + kt::fixture("fxmod.ko") +
                " fx_dup+0x4 0x8 'fx_outer [nosuchmod]' no_such_symbol 'what?' 0x1234567812345678 fx_outer");
    auto recs = lines(r.out);
    REQUIRE(recs.size() == 7);
    for (const auto& j : recs) {
        CHECK(j["schema_version"] == 1);
        CHECK(j["record"] == "address");
        CHECK(j["address_kind"] == "pc");
        CHECK(j["error"].is_null() != j["confidence"].is_null());  // an answer has a confidence, an error has none
    }
    // An ambiguous static name: every candidate, addresses as strings.
    CHECK(recs[0]["confidence"] == "guess");
    REQUIRE(recs[0]["candidates"].size() == 2);
    CHECK(recs[0]["candidates"][0]["address"].get<std::string>().rfind("0xffffffff8", 0) == 0);
    const char* codes[] = {nullptr, "null-page", "unknown-module", "unknown-symbol", "bad-input", "unmapped-address"};
    for (int i = 1; i <= 5; ++i) {
        INFO(recs[i]["input"]);
        CHECK(recs[i]["error"]["code"] == codes[i]);
        CHECK(recs[i]["offset"].is_null());
        CHECK(recs[i]["size"].is_null());
        CHECK(recs[i]["span"].is_null());
    }
    CHECK(recs[1]["region"] == "null-page");
    CHECK(recs[1]["owner"].is_null());
    // A plain answer: owner and region apart, offset 0 is a real 0.
    CHECK(recs[6]["owner"] == "kernel");
    CHECK(recs[6]["region"] == "kernel-text");
    CHECK(recs[6]["offset"] == 0);
    CHECK(recs[6]["size"].get<int>() > 0);
    CHECK(recs[6]["locations"][0]["line"].get<int>() > 0);
    CHECK(recs[6]["candidates"].empty());
}

TEST_CASE("oops --json and batch give the same report record; frames are address records") {
    const std::string in = "--snapshot " + kCap + "capture-1/snapshot --modules " + kCap + "ktoops ";
    const std::string log = kCap + "capture-1/oops/02-bug-null.txt";
    auto oops = lines(run("oops --json " + in + log).out);
    auto batch = lines(run("batch --jobs 1 " + in + log).out);
    REQUIRE(oops.size() == 1);
    REQUIRE(batch.size() == 2);
    CHECK(batch[1]["record"] == "batch-totals");
    // batch adds what identifies the record across runs and hosts (kaddr/fleet.h); the rest is the same
    for (const char* k : {"input_hash", "kaddr_version", "kernel_inputs", "signature", "seen_time"}) {
        CHECK_MESSAGE(batch[0].contains(k), k);
        batch[0].erase(k);
    }
    CHECK(oops[0] == batch[0]);
    CHECK(oops[0]["record"] == "report");
    CHECK(oops[0]["source_line"] == 1);
    const auto& frames = oops[0]["frames"];
    CHECK(frames[0]["address_kind"] == "pc");
    CHECK(frames[1]["address_kind"] == "return");
    CHECK(frames[1]["stack"] == "task");
    CHECK(!frames[0].contains("kind"));  // "kind" is the report's alone
    CHECK(oops[0]["fault_address"]["error"]["code"] == "null-page");
}

TEST_CASE("oops --json with the Debian debug package: every kernel frame has source" * doctest::test_suite("vmlinux-x86_64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE_MESSAGE(!root.empty(), "run through tests/run-vmlinux-tier.sh x86_64");
    for (const char* cap : {"capture-1", "capture-2"}) {
        Run r = run("oops --json --snapshot " + kCap + cap + "/snapshot --modules " + kCap + "ktoops --debug-root " + root +
                    " " + kCap + cap + "/oops/*.txt");
        auto recs = lines(r.out);  // kept for the schema check with the rest
        CHECK(recs.size() >= 4);
        for (const auto& j : recs)
            for (const auto& f : j["frames"]) {
                INFO(f["raw"]);
                if (f["region"] == "user") continue;
                CHECK(f["error"].is_null());
                // `? lapic_can_unplug_cpu+0x70/0x70` is a stale value just past
                // its function, looked up in padding no compile unit covers:
                // gdb, addr2line and llvm-symbolizer give no line there either.
                const bool padding = f["raw"].get<std::string>().ends_with("? lapic_can_unplug_cpu+0x70/0x70");
                CHECK(f["locations"].empty() == padding);
                CHECK(f["owner"] == (f["module"].is_null() ? "kernel" : "module"));
            }
    }
}
