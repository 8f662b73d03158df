// Fleet use (kaddr/fleet.h, kaddr/batch_stage.h): the long-lived batch
// stage on a pipe, the per-input time budget, record identity across runs
// of different subsets, crash signatures, buckets merged in any grouping,
// summary records, exemplars and routing.
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <doctest/doctest.h>

#include "cli_run.h"
#include "kaddr/fleet.h"
#include "kaddr/oops.h"
#include "support.h"
#include "vmcore_support.h"

namespace fs = std::filesystem;

namespace {

const std::string kCap = kt::testdata("captures/deb12-6.1.0-56-cloud/");
const std::string kInputs = "--snapshot " + kCap + "capture-1/snapshot --modules " + kCap + "ktoops";

fs::path temp_dir(const std::string& name) {
    auto d = fs::temp_directory_path() / ("kaddr-fleet-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> raw_lines(const std::string& out) {
    std::vector<std::string> v;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
}

// The paste files (sorted), and the capture's reports.
std::vector<std::string> paste_files() {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(kt::testdata("pastes")))
        if (e.path().extension() == ".txt" && e.path().filename().string()[0] != 'R') v.push_back(e.path().string());
    std::sort(v.begin(), v.end());
    return v;
}

// Record lines (not the totals) by source file, in output order.
std::map<std::string, std::string> records_by_source(const std::string& out) {
    std::map<std::string, std::string> by;
    for (const auto& l : raw_lines(out)) {
        const auto j = nlohmann::json::parse(l);
        kt::keep_for_schema_check(l);
        if (j["record"] == "batch-totals") continue;
        by[j["source_file"].get<std::string>()] += l + "\n";
    }
    return by;
}

std::string write_list(const fs::path& dir, const std::string& name, const std::vector<std::string>& files) {
    const fs::path p = dir / name;
    std::ofstream out(p);
    for (const auto& f : files) out << f << "\n";
    return p.string();
}

}  // namespace

TEST_CASE("batch --files-from on a pipe writes each input's records before the next name is written") {
    const std::vector<std::string> inputs = {kCap + "capture-1/oops/02-bug-null.txt", "/nonexistent/kaddr-input",
                                             kt::testdata("pastes"), kCap + "capture-1/oops/01-warn.txt"};
    kt::Coprocess k({"batch", "--files-from", "-", "--snapshot", kCap + "capture-1/snapshot", "--modules", kCap + "ktoops"});
    for (const auto& input : inputs) {
        INFO(input);
        k.send(input);
        const std::string got = k.receive(1);
        REQUIRE_MESSAGE(!got.empty(), "no record while kaddr waits for the next name");
        const auto recs = kt::json_lines(got);
        REQUIRE(recs.size() == 1);  // each of these inputs holds one report, or is one error
        CHECK(recs[0]["source_file"] == input);
        if (input.find("/oops/") != std::string::npos) CHECK(recs[0]["record"] == "report");
        else CHECK(recs[0]["error"]["code"] == "unreadable-input");  // poisoned: its error, and the stage goes on
    }
    k.close_input();
    const auto totals = kt::json_lines(k.receive(1));
    REQUIRE(totals.size() == 1);
    CHECK(totals[0]["record"] == "batch-totals");
    CHECK(totals[0]["files"] == inputs.size());
    CHECK(totals[0]["unreadable_files"] == 2);
    CHECK(k.wait_exit() == 1);
}

TEST_CASE("batch --requests: JSON lines with a path or the text itself; a bad line is a bad-request record") {
    const std::string report = slurp(kCap + "capture-1/oops/02-bug-null.txt");
    kt::Coprocess k({"batch", "--requests", "-", "--snapshot", kCap + "capture-1/snapshot", "--modules", kCap + "ktoops"});
    k.send(nlohmann::json{{"id", "collector/42"}, {"text", report}, {"time", "2026-11-30T08:15:00Z"}}.dump());
    auto recs = kt::json_lines(k.receive(1));
    REQUIRE(recs.size() == 1);
    CHECK(recs[0]["record"] == "report");
    CHECK(recs[0]["source_file"] == "collector/42");
    CHECK(recs[0]["seen_time"] == "2026-11-30T08:15:00");
    const std::string text_hash = recs[0]["input_hash"];
    for (const char* bad : {"not json", "[1,2]", R"({"text": "no id"})", R"({"path": "a", "text": "b", "id": "c"})",
                            R"({"path": "x", "colour": "red"})", R"({"path": "x", "time": "yesterday"})"}) {
        INFO(bad);
        k.send(bad);
        recs = kt::json_lines(k.receive(1));
        REQUIRE(recs.size() == 1);
        CHECK(recs[0]["error"]["code"] == "bad-request");
    }
    k.send(nlohmann::json{{"path", kCap + "capture-1/oops/02-bug-null.txt"}}.dump());
    recs = kt::json_lines(k.receive(1));
    REQUIRE(recs.size() == 1);
    CHECK(recs[0]["source_file"] == kCap + "capture-1/oops/02-bug-null.txt");
    CHECK(recs[0]["input_hash"] == text_hash);  // the same bytes, given as text or as a file
    CHECK(recs[0]["seen_time"].is_null());
    k.close_input();
    const auto totals = kt::json_lines(k.receive(1));
    REQUIRE(totals.size() == 1);
    CHECK(totals[0]["files"] == 8);
    CHECK(totals[0]["unreadable_files"] == 6);
    CHECK(k.wait_exit() == 1);
}

TEST_CASE("batch --time-budget: an input over it is a time-budget-exceeded record and the batch goes on") {
    const auto files = paste_files();
    REQUIRE(files.size() > 100);
    const fs::path dir = temp_dir("budget");
    const std::vector<std::string> some(files.begin(), files.begin() + 20);
    const std::string list = write_list(dir, "list", some);
    // A microsecond: every input overruns it, at its first check.
    auto recs = kt::json_lines(kt::run("batch --time-budget 0.000001 --files-from " + list).out);
    REQUIRE(recs.size() == some.size() + 1);
    for (std::size_t i = 0; i < some.size(); ++i) {
        CHECK(recs[i]["source_file"] == some[i]);
        CHECK(recs[i]["error"]["code"] == "time-budget-exceeded");
    }
    CHECK(recs.back()["files"] == some.size());
    // A budget no input needs changes nothing.
    const std::string generous = kt::run("batch --time-budget 600 --files-from " + list).out;
    CHECK(generous == kt::run("batch --files-from " + list).out);
    CHECK(generous.find("time-budget-exceeded") == std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("batch records are identical whichever subset, engine mode or thread count produced them") {
    const auto files = paste_files();
    const fs::path dir = temp_dir("identity");
    for (const auto& f : files) fs::copy_file(f, dir / fs::path(f).filename());
    for (const auto& e : fs::directory_iterator(kCap + "capture-1/oops")) fs::copy_file(e.path(), dir / e.path().filename());
    std::vector<std::string> all;
    for (const auto& e : fs::directory_iterator(dir)) all.push_back(e.path().string());
    std::sort(all.begin(), all.end());
    std::vector<std::string> subset;  // every third, as one engine's chunk would be
    for (std::size_t i = 1; i < all.size(); i += 3) subset.push_back(all[i]);
    const fs::path lists = temp_dir("identity-lists");

    const auto full = records_by_source(kt::run("batch --jobs 2 " + kInputs + " " + dir.string()).out);
    const auto part = records_by_source(kt::run("batch --files-from " + write_list(lists, "subset", subset) + " " + kInputs).out);
    CHECK(full.size() == all.size());  // one or more records for every input
    REQUIRE(part.size() == subset.size());
    std::size_t hashes = 0;
    for (const auto& s : subset) {
        INFO(s);
        REQUIRE(full.count(s));
        CHECK(part.at(s) == full.at(s));  // byte for byte
        // The content hash is XXH3-128 of the file's bytes (computed here independently).
        const std::string bytes = slurp(s);
        const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
        char want[64];
        std::snprintf(want, sizeof want, "xxh3-128:%016llx%016llx", static_cast<unsigned long long>(h.high64),
                      static_cast<unsigned long long>(h.low64));
        for (const auto& l : raw_lines(part.at(s))) {
            const auto j = nlohmann::json::parse(l);
            if (!j.contains("input_hash")) continue;
            CHECK(j["input_hash"] == want);
            ++hashes;
            CHECK(j["kaddr_version"].is_string());
        }
    }
    CHECK(hashes >= subset.size() - 2);  // all but unreadable inputs carry one (there are none here)
    fs::remove_all(dir);
    fs::remove_all(lists);
}

TEST_CASE("crash signatures ignore addresses, offsets, timestamps and clone suffixes, and tell crashes apart") {
    CHECK(kaddr::normalise_function("tcp_sendmsg.isra.0") == "tcp_sendmsg");
    CHECK(kaddr::normalise_function("foo.constprop.3.cold") == "foo");
    CHECK(kaddr::normalise_function("bar.part.1") == "bar");
    CHECK(kaddr::normalise_function("baz.llvm.1234567") == "baz");
    CHECK(kaddr::normalise_function("__x64_sys_write") == "__x64_sys_write");

    const std::string text = slurp(kCap + "capture-1/oops/02-bug-null.txt");
    // Another boot of the same crash: other timestamps, KASLR slide, module
    // base, return offsets, and the compiler's clone names.
    std::string other = std::regex_replace(text, std::regex(R"(\[ *[0-9]+\.[0-9]+\])"), "[ 4242.000001]");
    other = std::regex_replace(other, std::regex("ffffffff"), "ffffffee");
    other = std::regex_replace(other, std::regex(R"(\+0x[0-9a-f]+/)"), "+0x11/");
    other = std::regex_replace(other, std::regex(R"(ktoops_level2\+)"), "ktoops_level2.isra.0+");
    REQUIRE(other != text);
    auto a = kaddr::parse_report_text(text);
    auto b = kaddr::parse_report_text(other);
    REQUIRE(a.size() == 1);
    REQUIRE(b.size() == 1);
    const auto sa = kaddr::crash_signature(a[0]);
    const auto sb = kaddr::crash_signature(b[0]);
    CHECK(sa.id == sb.id);
    CHECK(sa.guilty == "ktoops_deref");
    CHECK(sa.frames.size() == kaddr::kSignatureFrames);
    CHECK(sa.frames.front() == "ktoops_deref");
    CHECK(sa.id.rfind("v1:", 0) == 0);
    // Another crash: the guilty function differs.
    auto c = kaddr::parse_report_text(std::regex_replace(text, std::regex("ktoops_deref"), "ktoops_other"));
    REQUIRE(c.size() == 1);
    CHECK(kaddr::crash_signature(c[0]).id != sa.id);
    // The other capture reports for the same module differ from it too.
    std::set<std::string> ids;
    for (const auto& e : fs::directory_iterator(kCap + "capture-1/oops"))
        for (auto& r : kaddr::parse_report_file(e.path().string())) ids.insert(kaddr::crash_signature(r).id);
    CHECK(ids.size() == 4);
}

TEST_CASE("buckets: merging partial results in any grouping and order gives the same buckets") {
    const auto files = paste_files();
    const std::string records = kt::run("batch --summary " + kInputs + " " + kt::testdata("pastes")).out;
    const fs::path dir = temp_dir("buckets");
    const auto lines = raw_lines(records);
    std::size_t reports = 0;
    for (const auto& l : lines)
        if (nlohmann::json::parse(l)["record"] == "summary") ++reports;
    REQUIRE(reports > 100);
    // Three chunks, as three workers would write them.
    std::ofstream c1(dir / "c1"), c2(dir / "c2"), c3(dir / "c3");
    for (std::size_t i = 0; i < lines.size(); ++i) (i % 3 == 0 ? c1 : i % 3 == 1 ? c2 : c3) << lines[i] << "\n";
    c1.close(), c2.close(), c3.close();
    std::ofstream(dir / "all") << records;
    auto buckets = [&](const std::string& args) { return kt::run("buckets " + args).out; };
    const std::string d = dir.string() + "/";
    const std::string whole = buckets(d + "all");
    std::ofstream(dir / "b12") << buckets(d + "c1 " + d + "c2");
    std::ofstream(dir / "b3") << buckets(d + "c3");
    std::ofstream(dir / "b31") << buckets(d + "c3 " + d + "c1");
    std::ofstream(dir / "b2") << buckets(d + "c2");
    CHECK(buckets(d + "b12 " + d + "b3") == whole);          // (1+2)+3
    CHECK(buckets(d + "b3 " + d + "b12") == whole);          // 3+(1+2)
    CHECK(buckets(d + "b2 " + d + "b31") == whole);          // 2+(3+1)
    CHECK(buckets(d + "c2 " + d + "b31") == whole);          // records and buckets mixed
    CHECK(buckets(d + "c3 " + d + "c2 " + d + "c1") == whole);  // records in another order
    std::uint64_t count = 0;
    std::set<std::string> ids;
    for (const auto& b : kt::json_lines(whole)) {
        count += b["count"].get<std::uint64_t>();
        CHECK(ids.insert(b["signature"]["id"]).second);
        CHECK(!(b["last_seen"]["order"] < b["first_seen"]["order"]));
    }
    CHECK(count == reports);  // every report in exactly one bucket
    CHECK(ids.size() < reports);  // the pastes repeat some crashes
    fs::remove_all(dir);
}

TEST_CASE("summary records stay within 2 KiB on every paste and the syzkaller corpus") {
    std::vector<std::string> dirs = {kt::testdata("pastes")};
    if (const std::string syz = kt::syzkaller_reports(); !syz.empty()) dirs.push_back(syz);
    for (const auto& dir : dirs) {
        INFO(dir);
        const auto full = kt::run("batch " + dir).out;
        const auto summary = kt::run("batch --summary " + dir).out;
        std::size_t reports = 0, summaries = 0, largest = 0;
        for (const auto& l : raw_lines(full))
            if (nlohmann::json::parse(l)["record"] == "report") ++reports;
        for (const auto& l : raw_lines(summary)) {
            const auto j = nlohmann::json::parse(l);
            if (j["record"] != "summary") continue;
            kt::keep_for_schema_check(l);
            ++summaries;
            largest = std::max(largest, l.size() + 1);
            CHECK(l.size() + 1 <= kaddr::kMaxSummaryBytes);
        }
        CHECK(summaries == reports);
        MESSAGE(dir << ": " << summaries << " summaries, the largest " << largest << " bytes");
    }
}

TEST_CASE("full records write a note shared by several frames once") {
    const auto recs = kt::json_lines(kt::run("batch " + kt::testdata("pastes")).out);
    std::size_t shared = 0;
    for (const auto& r : recs) {
        if (r["record"] != "report") continue;
        std::map<std::string, int> own;
        std::vector<int> refs(r["frame_notes"].size(), 0);
        for (const auto& f : r["frames"]) {
            for (const auto& n : f["notes"]) ++own[n.get<std::string>()];
            if (f.contains("shared_notes"))
                for (const auto& i : f["shared_notes"]) {
                    REQUIRE(i.get<std::size_t>() < refs.size());
                    ++refs[i.get<std::size_t>()];
                }
        }
        for (const auto& note : own) CHECK_MESSAGE(note.second == 1, note.first);  // no frame repeats another's note
        for (int n : refs) CHECK(n >= 2);                               // a shared note is shared
        shared += refs.size();
    }
    CHECK(shared > 0);  // the pastes, decoded with no kernel files, share "not resolved with ..." notes
}

TEST_CASE("batch --exemplars K symbolizes K reports per signature, the rest are summaries") {
    const fs::path dir = temp_dir("exemplars");
    for (int copy = 0; copy < 3; ++copy)
        for (const auto& e : fs::directory_iterator(kCap + "capture-1/oops"))
            fs::copy_file(e.path(), dir / (std::to_string(copy) + "-" + e.path().filename().string()));
    const auto recs = kt::json_lines(kt::run("batch --jobs 2 --exemplars 1 " + kInputs + " " + dir.string()).out);
    std::map<std::string, int> full, summary;
    for (const auto& r : recs) {
        if (r["record"] == "report") ++full[r["signature"]["id"]];
        if (r["record"] == "summary") ++summary[r["signature"]["id"]];
    }
    CHECK(full.size() == 4);  // four crashes, three copies of each
    for (const auto& [id, n] : full) {
        CHECK(n == 1);
        CHECK(summary[id] == 2);
    }
    // The first copy (input order) is the exemplar, whatever the threads did.
    for (const auto& r : recs)
        if (r["record"] == "report") CHECK(fs::path(r["source_file"].get<std::string>()).filename().string().rfind("0-", 0) == 0);
    fs::remove_all(dir);
}

TEST_CASE("route reads each input's kernel as the full parse does") {
    const auto files = paste_files();
    const fs::path dir = temp_dir("route");
    const std::string list = write_list(dir, "list", files);
    const auto routes = kt::json_lines(kt::run("route --files-from " + list).out);
    REQUIRE(routes.size() == files.size());
    const auto by = records_by_source(kt::run("batch --files-from " + list).out);
    std::size_t compared = 0, agree = 0;
    for (const auto& r : routes) {
        const std::string src = r["source_file"];
        REQUIRE(by.count(src));
        const auto first = nlohmann::json::parse(raw_lines(by.at(src)).front());
        if (first["record"] != "report" || first["release"].is_null()) continue;
        ++compared;
        agree += r["release"] == first["release"];
        CHECK(r["input_hash"] == first["input_hash"]);
    }
    MESSAGE("route: release as the parser's for " << agree << "/" << compared << " pastes");
    CHECK(compared > 50);
    CHECK(agree * 100 >= compared * 95);
    const auto cap = kt::json_lines(kt::run("route " + kCap + "capture-1/oops/02-bug-null.txt").out);
    REQUIRE(cap.size() == 1);
    CHECK(cap[0]["release"] == "6.1.0-56-cloud-amd64");
    CHECK(cap[0]["arch"] == "x86_64");
    CHECK(cap[0]["kind"] == "null-deref");
    fs::remove_all(dir);
}

// The README's GNU parallel recipe, on this host only: chunks of the file
// names, each one `batch --files-from -` stage, output kept in order, a
// worker killed mid-chunk retried; also through parallel's --sshlogin
// machinery with ':' (this host, no ssh). The records equal one process's.
TEST_CASE("GNU parallel chunks with a killed worker give the records of one process") {
    if (std::system("parallel --version > /dev/null 2>&1") != 0) {
        MESSAGE("SKIPPED: GNU parallel is not installed (scripts/install-deps.sh installs it)");
        return;
    }
    const fs::path dir = temp_dir("parallel");
    std::vector<std::string> files = paste_files();
    for (const auto& e : fs::directory_iterator(kCap + "capture-1/oops")) files.push_back(e.path().string());
    const std::string list = write_list(dir, "list", files);
    auto records = [](const std::string& out) {
        std::string kept;
        for (const auto& l : raw_lines(out))
            if (l.find(R"("record":"batch-totals")") == std::string::npos) kept += l + "\n";
        return kept;
    };
    const std::string single = records(kt::run("batch " + kInputs + " --files-from " + list).out);
    REQUIRE(!single.empty());
    const std::string kaddr = std::string(KADDR_BINARY) + " batch " + kInputs + " --files-from -";
    // Exit status 1 (some report not fully resolved) is a result; a worker
    // killed by a signal, or status 2, is a failure parallel retries. The
    // first attempt of chunk 3 is killed after three of its names.
    const std::string marker = (dir / "killed-once").string();
    const std::string job = "if [ \"$1\" = 3 ] && [ ! -e " + marker + " ]; then touch " + marker + "; head -n 3 | " + kaddr +
                            " 2>/dev/null; kill -9 $$; fi; " + kaddr + " 2>/dev/null; [ $? -le 1 ]";
    const std::string script = (dir / "job.sh").string();
    std::ofstream(script) << job << "\n";
    for (const std::string engine : {"-j 2", "--sshlogin 2/:"}) {
        INFO(engine);
        fs::remove(marker);
        const std::string cmd = "parallel --will-cite " + engine + " --pipe -N 20 --keep-order --retries 3 sh " + script +
                                " {#} < " + list + " 2>/dev/null";
        FILE* p = popen(cmd.c_str(), "r");
        REQUIRE(p);
        std::string out;
        char buf[65536];
        for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
        CHECK(pclose(p) == 0);
        CHECK(fs::exists(marker));  // a worker was killed
        CHECK(std::count(out.begin(), out.end(), '\n') > 0);
        const std::size_t chunks = (files.size() + 19) / 20;
        std::size_t totals = 0;
        for (const auto& l : raw_lines(out)) totals += l.find(R"("record":"batch-totals")") != std::string::npos;
        CHECK(totals == chunks);  // every chunk ran to its end, once
        CHECK(records(out) == single);
    }
    fs::remove_all(dir);
}

// A debug store holding several kernels (their -dbg trees merged into one
// root, as `dpkg-deb -x` of each package into one directory gives): every
// report of a mixed batch is resolved with its own release's files, and its
// record says which. x86_64's tree is this tier's; the arm64 and 32-bit
// ARM trees join when their tiers fetched them into the same cache.
TEST_CASE("a mixed-kernel batch over a debug store: every report resolved with its own kernel" *
          doctest::test_suite("vmlinux-x86_64")) {
    const std::string x86 = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE_MESSAGE(!x86.empty(), "run through tests/run-vmlinux-tier.sh x86_64");
    std::vector<std::pair<std::string, std::string>> kernels = {{"deb12-6.1.0-56-cloud", x86}};  // capture dir, -dbg tree
    for (const auto& [cap, var, pattern] :
         {std::tuple{"deb12-6.1.0-56-arm64", "KADDR_DEBUG_ROOT_ARM64", "linux-image-6.1.0-56-arm64-dbg-"},
          std::tuple{"deb12-6.1.0-50-armmp", "KADDR_DEBUG_ROOT_ARMHF", "linux-image-6.1.0-50-armmp-dbg-"}}) {
        std::string root = kt::env(var);
        for (const auto& e : fs::directory_iterator(fs::path(x86).parent_path()))
            if (root.empty() && e.path().filename().string().rfind(pattern, 0) == 0) root = e.path().string();
        if (root.empty()) MESSAGE("the store holds no " << cap << " kernel: its tier has not fetched it");
        else kernels.push_back({cap, root});
    }
    const fs::path store = temp_dir("store"), inputs = temp_dir("mixed");
    fs::create_directories(store / "usr/lib/debug/boot");
    fs::create_directories(store / "usr/lib/debug/lib/modules");
    std::string modules;
    std::size_t named = 0;  // reports that print their release
    for (const auto& [cap, root] : kernels) {
        for (const auto& e : fs::directory_iterator(fs::path(root) / "usr/lib/debug/boot"))
            fs::create_symlink(e.path(), store / "usr/lib/debug/boot" / e.path().filename());
        for (const auto& e : fs::directory_iterator(fs::path(root) / "usr/lib/debug/lib/modules"))
            fs::create_symlink(e.path(), store / "usr/lib/debug/lib/modules" / e.path().filename());
        modules += " --modules " + kt::testdata("captures/" + cap + "/ktoops");
        for (const auto& e : fs::directory_iterator(kt::testdata("captures/" + cap + "/capture-1/oops"))) {
            fs::copy_file(e.path(), inputs / (cap + "-" + e.path().filename().string()));
            for (auto& r : kaddr::parse_report_file(e.path().string())) named += !r.release.empty();
        }
    }
    const auto recs = kt::json_lines(kt::run("batch --debug-root " + store.string() + modules + " " + inputs.string()).out);
    std::size_t own = 0;
    for (const auto& j : recs) {
        if (j["record"] != "report" || j["release"].is_null()) continue;
        INFO(j["source_file"]);
        const std::string release = j["release"];
        CHECK(j["kernel_inputs"]["release"] == release);
        REQUIRE(j["kernel_inputs"]["vmlinux"].is_string());
        CHECK(fs::path(j["kernel_inputs"]["vmlinux"].get<std::string>()).filename() == "vmlinux-" + release);
        CHECK(j["resolved_frames"] == j["kernel_frames"]);
        ++own;
    }
    CHECK(own == named);
    CHECK(named >= 4 * kernels.size() - 1);
    MESSAGE(kernels.size() << " kernels in the store; " << own << " reports resolved with their own");
    fs::remove_all(store);
    fs::remove_all(inputs);
}

// The README's Dask recipe (scripts/kaddr-dask.py) on a scheduler and two
// workers on 127.0.0.1 (tests/dask-cluster.py), one worker killed with
// SIGKILL mid-run: the output is byte for byte one process's, totals too.
TEST_CASE("Dask distributed on loopback with a killed worker gives the records of one process") {
    const fs::path dir = temp_dir("dask");
    std::vector<std::string> files = paste_files();
    for (const auto& e : fs::directory_iterator(kCap + "capture-1/oops")) files.push_back(e.path().string());
    const std::string list = write_list(dir, "list", files);
    const std::string single = kt::run("batch " + kInputs + " --files-from " + list).out;
    const std::string cmd = "/usr/bin/python3 " + kt::testdata("../tests/dask-cluster.py") + " " +
                            kt::testdata("../scripts/kaddr-dask.py") + " " + KADDR_BINARY + " 10 " + kInputs + " < " + list +
                            " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buf[65536];
    for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    const int st = pclose(p);
    const int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (code == 77) {
        MESSAGE("SKIPPED: python3-distributed is not installed (scripts/install-deps.sh installs it)");
    } else {
        CHECK(code == 1);  // as batch's own: some paste is not resolved by the capture's kernel
        CHECK(!out.empty());
        CHECK(out == single);
        CHECK(std::count(out.begin(), out.end(), '\n') > static_cast<long>(files.size()));
    }
    fs::remove_all(dir);
}

TEST_CASE("route reads a dump's kernel from its VMCOREINFO, whatever the file is called") {
    const std::string kdump = kt::kdump_file("vmcore.kdump-zlib"), flat = kt::kdump_file("dump.flat");
    const auto recs = kt::json_lines(kt::run("route " + kdump + " " + flat + " " + kt::kdump_file("dmesg.txt")).out);
    REQUIRE(recs.size() == 3);
    // The capture's own record of the kernel: uname -a's third word.
    std::istringstream uname(kt::slurp(kt::kdump_file("uname.txt")));
    std::string word, release;
    uname >> word >> word >> release;
    for (int i : {0, 1}) {
        CHECK(recs[i]["kind"] == "vmcore");
        CHECK(recs[i]["release"] == release);
        CHECK(recs[i]["arch"] == "x86_64");
        CHECK(recs[i]["build_id"].get<std::string>().size() == 40);
        CHECK(recs[i]["input_hash"].is_null());
    }
    CHECK(recs[0]["build_id"] == recs[1]["build_id"]);  // two formats of one dump
    CHECK(recs[2]["kind"] == "warning");  // the dmesg file beside it is text
    CHECK(recs[2]["release"] == release);
}
