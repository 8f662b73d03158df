// Report parsing and explanation on the real captures (every ground-truth
// frame found, with the right kind and lookup address), the same reports in
// other transports' formats, and the syzkaller corpus.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <unistd.h>

#include "kaddr/error.h"
#include "kaddr/oops_explain.h"
#include "cli_run.h"
#include "support.h"

using namespace kaddr;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::vector<OopsReport> parse_text(const std::string& text) {
    std::istringstream in(text);
    return parse_reports(in);
}

// Frames as "name+off [mod] pc|ret ?" strings: what a rewrite must keep.
std::vector<std::string> frame_keys(const std::vector<OopsReport>& reports) {
    std::vector<std::string> out;
    for (const auto& r : reports)
        for (const auto& f : r.frames) {
            std::string k = std::string(kind_name(r.kind)) + ": ";
            if (f.symbol) k += f.symbol->name + "+" + hex(f.symbol->offset) + " [" + f.symbol->module + "]";
            else if (f.address) k += hex(*f.address);
            k += f.kind == FrameKind::Pc ? " pc" : " ret";
            if (!f.reliable) k += " ?";
            out.push_back(k);
        }
    return out;
}

struct Arch {
    const char* dir;
    std::vector<const char*> captures;
};
const Arch kArchs[] = {
    {"deb12-6.1.0-56-cloud", {"capture-1", "capture-2"}},
    {"deb12-6.1.0-56-arm64", {"capture-1", "capture-2", "capture-3"}},
    {"deb12-6.1.0-50-armmp", {"capture-1", "capture-2"}},
};

// Each ground-truth frame must be found in its excerpt, with the kind and
// lookup address the ground truth used; with `debug_root`, its source too.
void check_excerpt_frames(const std::string& arch_dir, const std::string& cap, const std::string& debug_root) {
    auto snap = kt::load_capture(arch_dir, cap, debug_root);
    Resolver resolver(*snap);
    const std::string base = kt::testdata("captures/" + arch_dir + "/" + cap + "/");
    const bool x86 = arch_dir.find("cloud") != std::string::npos;
    std::map<std::string, std::vector<ExplainedReport>> explained;
    int checked = 0;
    for (auto& row : kt::read_tsv(base + "groundtruth/oops-frames.tsv")) {
        std::string excerpt = x86 ? "oops/" + row["excerpt"] : row["excerpt"];
        auto& reports = explained[excerpt];
        if (reports.empty())
            for (auto& r : parse_text(slurp(base + excerpt))) reports.push_back(explain(std::move(r), resolver));
        INFO(cap << " " << excerpt << ": " << row["frame_text"]);
        const ExplainedFrame* found = nullptr;
        for (const auto& e : reports)
            for (const auto& f : e.frames) {
                const LogLine& l = e.report.lines[f.frame.line];
                bool same = x86 ? l.raw == row["frame_text"] : std::to_string(l.number) == row["line"];
                if (same && (!found || f.frame.kind == FrameKind::Pc)) found = &f;
            }
        REQUIRE_MESSAGE(found, "frame not found by the parser");
        const bool pc = x86 ? row["kind"] == "RIP" : (row["kind"] == "pc" || row["kind"] == "exc-pc");
        CHECK_MESSAGE((found->frame.kind == FrameKind::Pc) == pc, "frame kind");
        if (x86) CHECK(found->frame.reliable == (row["kind"] != "unreliable(?)"));
        REQUIRE_MESSAGE(found->resolution.lookup, (found->resolution.error ? *found->resolution.error : ""));
        const std::uint64_t want = x86 ? *parse_hex(row["runtime_addr"]) - (pc ? 0 : 1) : *parse_hex(row["lookup_addr"]);
        CHECK_MESSAGE(*found->resolution.lookup == want, hex(*found->resolution.lookup) << " want " << hex(want));
        if (row["module"] == "ktoops" || !debug_root.empty()) CHECK_MESSAGE(!found->resolution.locations.empty(), "no source line");
        ++checked;
    }
    CHECK(checked > 10);
}

}  // namespace

TEST_CASE("every ground-truth frame of every excerpt: found, right kind, right lookup address") {
    for (const auto& a : kArchs)
        for (const char* cap : a.captures) check_excerpt_frames(a.dir, cap, "");
}

TEST_CASE("oops on the captures' dmesg: each report explained, module frames with file:line") {
    for (const auto& a : kArchs) {
        auto snap = kt::load_capture(a.dir, "capture-1", "");
        Resolver resolver(*snap);
        auto reports = parse_text(slurp(kt::testdata(std::string("captures/") + a.dir + "/capture-1/dmesg.txt")));
        REQUIRE(reports.size() >= 4);
        std::set<std::string> titles;
        for (auto& r : reports) {
            CHECK_MESSAGE(!r.corrupted, r.headline);  // real, whole reports
            ExplainedReport e = explain(std::move(r), resolver);
            titles.insert(e.title);
            CHECK(e.resolved_frames == e.kernel_frames);
            for (const auto& f : e.frames)
                if (f.resolution.module == std::optional<std::string>("ktoops")) {
                    INFO(f.resolution.input);
                    CHECK(!f.resolution.locations.empty());
                }
        }
        INFO(std::string(a.dir));
        CHECK(titles.count("WARNING in ktoops_do_warn"));
        CHECK(titles.count("kernel BUG in ktoops_do_bug"));
        bool null_deref = titles.count("BUG: kernel NULL pointer dereference in ktoops_deref") ||
                          titles.count("BUG: unable to handle page fault in ktoops_deref");
        CHECK(null_deref);
    }
}

TEST_CASE("NULL deref report fields (x86_64)") {
    auto reports = parse_text(slurp(kt::testdata("captures/deb12-6.1.0-56-cloud/capture-1/oops/02-bug-null.txt")));
    REQUIRE(reports.size() == 1);
    const OopsReport& r = reports[0];
    CHECK(r.kind == ReportKind::NullDeref);
    CHECK(r.cpu == 1);
    CHECK(r.pid == 643);
    CHECK(r.comm == "init");
    CHECK(r.taint == "WOE");
    CHECK(r.release == "6.1.0-56-cloud-amd64");
    CHECK(r.fault_address == 4);
    Snapshot empty;
    ExplainedReport e = explain(r, Resolver(empty));
    REQUIRE(e.fault);
    CHECK(e.fault->region == "NULL page");
    CHECK(r.code.find("<8b>") != std::string::npos);
    CHECK(r.modules.front() == "ktoops(OE)");
    CHECK(r.complete);
    REQUIRE(!r.frames.empty());
    CHECK(r.frames[0].kind == FrameKind::Pc);
    CHECK(r.frames[1].stack == "task");
    std::vector<TaintFlag> t = decode_taint(r.taint);
    REQUIRE(t.size() == 3);
    CHECK(t[0].letter == 'W');
}

TEST_CASE("the same reports in other transports' formats decode to the same frames") {
    const std::string original = slurp(kt::testdata("captures/deb12-6.1.0-56-cloud/capture-1/dmesg.txt"));
    const auto want = frame_keys(parse_text(original));
    REQUIRE(want.size() > 50);
    std::regex ts(R"(^\[ *[0-9]+\.[0-9]+\] ?)");
    auto rewrite = [&](auto f) {
        std::istringstream in(original);
        std::string line, out;
        int n = 0;
        while (std::getline(in, line)) out += f(std::regex_replace(line, ts, ""), line, n++) + "\n";
        return out;
    };
    std::map<std::string, std::string> variants = {
        {"timestamps stripped", rewrite([](const std::string& m, const std::string&, int) { return m; })},
        {"syslog", rewrite([](const std::string& m, const std::string&, int) { return "Nov 23 13:14:35 qemu kernel: " + m; })},
        {"journal ISO", rewrite([](const std::string& m, const std::string&, int) {
             return "2026-11-23T13:14:35.123456+00:00 qemu kernel: " + m;
         })},
        {"dmesg -T", rewrite([](const std::string& m, const std::string&, int) { return "[Mon Nov 23 13:14:35 2026] " + m; })},
        {"caller ids", rewrite([](const std::string& m, const std::string& l, int) {
             return l.substr(0, l.find(']') + 1) + "[  T643] " + m;
         })},
        {"indentation lost", rewrite([](const std::string& m, const std::string&, int) { return std::string(trim(m)); })},
        {"CRLF serial", rewrite([](const std::string&, const std::string& l, int) { return l + "\r"; })},
    };
    for (const auto& variant : variants) {  // not bound: clang 14 cannot capture a binding
        INFO(variant.first);
        CHECK(frame_keys(parse_text(variant.second)) == want);
    }
}

TEST_CASE("a log file on disk decodes like the same text read as a stream; a missing one is an error naming it") {
    const std::string path = kt::testdata("captures/deb12-6.1.0-56-cloud/capture-1/dmesg.txt");
    const std::string text = slurp(path);
    const auto want = frame_keys(parse_text(text));
    REQUIRE(want.size() > 50);
    CHECK(frame_keys(parse_report_file(path)) == want);
    // The last line counts even without its newline.
    const auto unterminated = fs::temp_directory_path() / ("kaddr-test-" + std::to_string(::getpid()) + "-dmesg.txt");
    std::ofstream(unterminated, std::ios::binary) << text.substr(0, text.find_last_not_of('\n') + 1);
    const auto reports = parse_report_file(unterminated.string());
    CHECK(frame_keys(reports) == want);
    CHECK(reports.back().lines.back().number == static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')));
    fs::remove(unterminated);
    std::string msg;
    try {
        parse_report_file("/nonexistent/dmesg.txt");
    } catch (const Error& e) {
        msg = e.what();
    }
    CHECK(msg.find("/nonexistent/dmesg.txt: cannot read file") != std::string::npos);
}

TEST_CASE("systemtap print_backtrace and bare address lists") {
    const std::string stap =
        " 0xffffffffc0569046 : ktoops_deref+0x6/0x30 [ktoops]\n"
        " 0xffffffffc056907d : ktoops_level2+0xd/0x30 [ktoops]\n"
        " 0xffffffff995eacb6 : proc_reg_write+0x56/0xa0 [kernel] (inexact)\n";
    auto reports = parse_text("some log line\n" + stap + "another line\n");
    REQUIRE(reports.size() == 1);
    const auto& f = reports[0].frames;
    REQUIRE(f.size() == 3);
    CHECK(f[0].kind == FrameKind::Pc);
    CHECK(f[1].kind == FrameKind::Return);
    CHECK(f[2].symbol->module.empty());  // [kernel] is the core image
    CHECK_FALSE(f[2].reliable);

    auto snap = kt::load_capture("deb12-6.1.0-56-cloud", "capture-1", "");
    Resolver resolver(*snap);
    ExplainedReport e = explain(reports[0], resolver);
    REQUIRE(e.frames[1].resolution.lookup);
    CHECK(*e.frames[1].resolution.lookup == 0xffffffffc056907cULL);
    CHECK(e.frames[0].resolution.locations.at(0).line == 70);

    auto bare = parse_text("0xffffffffc0569046\nffffffffc056907d\n");
    REQUIRE(bare.size() == 1);
    CHECK(bare[0].frames.size() == 2);
    // One address alone is no backtrace (a sys/module section file, a
    // pointer in a log); one systemtap line names its symbol and is one.
    CHECK(parse_text("0xffffffffc0882068\n").empty());
    CHECK(parse_text("log line\n0xffffffffc0882068\nlog line\nlog line\nlog line\nlog line\n").empty());
    CHECK(parse_text(" 0xffffffffc0569046 : ktoops_deref+0x6/0x30 [ktoops]\n").size() == 1);
}

TEST_CASE("batch over a capture directory finds its reports, not one per sysfs section file") {
    // capture-1 holds four reports, each in oops/, console-oops/, dmesg.txt
    // and console.log (the MANIFEST), and 450 one-address section files.
    const std::string dir = kt::testdata("captures/deb12-6.1.0-56-cloud/capture-1");
    std::map<std::string, int> per_file;
    for (const auto& rec : kt::json_lines(kt::run("batch " + dir).out))
        if (rec["record"] == "report") ++per_file[rec["source_file"].get<std::string>().substr(dir.size() + 1)];
    CHECK(per_file == std::map<std::string, int>{{"console-oops/01-warn.txt", 1}, {"console-oops/02-bug-null.txt", 1},
                                                 {"console-oops/03-bug.txt", 1},  {"console-oops/04-sysrq-l.txt", 1},
                                                 {"console.log", 4},              {"dmesg.txt", 4},
                                                 {"oops/01-warn.txt", 1},         {"oops/02-bug-null.txt", 1},
                                                 {"oops/03-bug.txt", 1},          {"oops/04-sysrq-l.txt", 1}});
}

namespace {
std::vector<OopsReport> parse_syzkaller_log(const std::string& number) {
    return parse_text(slurp(kt::testdata("syzkaller/" + number + ".log")));
}
}  // namespace

TEST_CASE("a report's task is its first CPU header, not a CPU its panic stops") {
    auto warn = parse_syzkaller_log("589");  // WARNING by PID 19; "CPU0: stopping" shows PID 4477 last
    REQUIRE(warn.size() == 1);
    CHECK(warn[0].pid == 19);
    CHECK(warn[0].cpu == 1);
    CHECK(warn[0].comm == "kworker/1:0");
    auto panic = parse_text(slurp(kt::testdata("captures/deb12-6.1.0-50-armmp/capture-2/console-oops/04-panic.txt")));
    REQUIRE(panic.size() == 1);
    CHECK(panic[0].pid == 694);
    CHECK(panic[0].comm == "init");
    CHECK(panic[0].cpu == 0);
}

TEST_CASE("a hung-task report is about the blocked task, not the CPUs backtraced after it") {
    auto reports = parse_syzkaller_log("442");
    REQUIRE(reports.size() == 1);  // the panic khungtaskd raises ends the report
    CHECK(reports[0].kind == ReportKind::HungTask);
    CHECK(reports[0].pid == 16519);
    CHECK(reports[0].comm == "syz-executor.0");
    CHECK_FALSE(reports[0].cpu.has_value());
    bool panic = false;
    for (const auto& l : reports[0].lines) panic = panic || l.text == "Kernel panic - not syncing: hung_task: blocked tasks";
    CHECK(panic);
}

TEST_CASE("a fault-injection stack printed before the blamed frame marks the report corrupted") {
    Snapshot empty;
    Resolver resolver(empty);
    auto injected_first = parse_syzkaller_log("393");
    REQUIRE_FALSE(injected_first.empty());
    CHECK(injected_first[0].kind == ReportKind::Warning);
    CHECK(injected_first[0].corrupted);
    CHECK(injected_first[0].corrupted_reason.find("fault-injection stack") != std::string::npos);
    // Here the injection's stack comes inside an interrupt, after the WARNING's pc.
    auto injected_after = parse_syzkaller_log("562");
    REQUIRE_FALSE(injected_after.empty());
    CHECK_FALSE(injected_after[0].corrupted);
    CHECK(explain(injected_after[0], resolver).guilty_function == "vkms_vblank_simulate");
}

TEST_CASE("another task's dump_stack() inside a lockdep splat marks it corrupted") {
    auto splat = parse_syzkaller_log("115");
    REQUIRE(splat.size() == 1);
    CHECK(splat[0].corrupted);
    CHECK(splat[0].corrupted_reason == "another task's dump_stack() (line 6) inside the lockdep splat, before its stack backtrace");
    CHECK(splat[0].pid == 14420);  // the header after "stack backtrace:", not PID 14413's before it
    Snapshot empty;
    Resolver resolver(empty);
    // The old-style bracketed headline loses its brackets in the title; the
    // site is lockdep's "at:" line.
    CHECK(explain(splat[0], resolver).title == "BUG: bad unlock balance detected! in ipmr_mfc_seq_stop");
    // A lockdep report without the "-----" rule prints its own header first.
    auto key = parse_syzkaller_log("118");
    REQUIRE(key.size() == 1);
    CHECK_FALSE(key[0].corrupted);
    CHECK(key[0].pid == 2990);
}

TEST_CASE("lockdep's lock histories are carried but are not the report's stack") {
    // A 32-bit ARM circular-dependency splat from a kernel commit message:
    // three "-> #N (lock):" chains, then the task's own stack backtrace.
    auto reports = parse_text(slurp(kt::testdata("pastes/020-satyr-gitlog-15.txt")));
    REQUIRE(reports.size() == 1);
    const OopsReport& r = reports[0];
    std::size_t history = 0, stack = 0;
    for (const OopsFrame& f : r.frames) (f.lock_history ? history : stack) += f.symbol ? 1 : 0;
    CHECK(history == 38);  // 18 + 9 + 11 frames printed under the chains -> #2, #1, #0
    CHECK(stack == 14);    // unwind_backtrace ... kernel_thread_exit after "stack backtrace:"
    // The first chain's reg_set_request_processed is where a lock was once
    // taken; the splat is about the acquire site its headline names.
    Snapshot empty;
    Resolver resolver(empty);
    const auto e = explain(r, resolver);
    CHECK(e.guilty_function == "restore_regulatory_settings");
    REQUIRE(e.guilty);
    CHECK_FALSE(r.frames[*e.guilty].lock_history);
}

TEST_CASE("a KASAN report ends at its closing rule; its panic joins it across other output") {
    auto reports = parse_syzkaller_log("306");
    REQUIRE(reports.size() == 1);
    const OopsReport& r = reports[0];
    CHECK(r.kind == ReportKind::Kasan);
    CHECK(r.complete);
    CHECK_FALSE(r.corrupted);
    CHECK(r.pid == 8786);
    bool panic = false;
    for (const auto& l : r.lines) panic = panic || l.text.find("Kernel panic - not syncing: panic_on_warn set") != std::string::npos;
    CHECK(panic);
    // The other task's fault-injection lines between them are not the report's.
    for (const auto& l : r.lines) CHECK(l.text.find("PID: 8817") == std::string::npos);
    // Cut before the closing rule, the same report is incomplete.
    std::string text = slurp(kt::testdata("syzkaller/306.log"));
    text = text.substr(0, text.find("Memory state around the buggy address"));
    auto cut = parse_text(text);
    REQUIRE(cut.size() == 1);
    CHECK_FALSE(cut[0].complete);
}

TEST_CASE("reports of different printk callers printed into each other come out whole and apart") {
    Snapshot empty;
    Resolver resolver(empty);
    auto reports = parse_syzkaller_log("392");  // GPF by [T1560], KASAN by [T1533]
    REQUIRE(reports.size() == 2);
    CHECK(reports[0].kind == ReportKind::Gpf);
    CHECK(reports[0].pid == 1560);
    CHECK_FALSE(reports[0].corrupted);
    CHECK(reports[1].kind == ReportKind::Kasan);
    CHECK(reports[1].pid == 1533);
    for (const auto& r : reports)  // each report holds its own caller's lines only
        for (const auto& l : r.lines) CHECK(l.caller == r.lines.front().caller);
    CHECK(explain(reports[0], resolver).guilty_function == "x25_connect");
    auto stall = parse_syzkaller_log("346");  // WARNING by [T1194], RCU stall by [T1234]
    REQUIRE(stall.size() == 2);
    CHECK(stall[0].kind == ReportKind::Warning);
    CHECK_FALSE(stall[0].corrupted);
    CHECK(explain(stall[0], resolver).guilty_function == "xfrm_state_fini");
    CHECK(stall[1].kind == ReportKind::RcuStall);
}

TEST_CASE("the panic after an oops's repeated registers is part of the oops") {
    auto reports = parse_syzkaller_log("256");
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].kind == ReportKind::NullDeref);
    CHECK(reports[0].complete);
    bool panic = false;
    for (const auto& l : reports[0].lines) panic = panic || l.text == "Kernel panic - not syncing: Fatal exception";
    CHECK(panic);
    CHECK(reports[0].kernel_offset == 0);  // "Kernel Offset: disabled", printed by the panic
}

TEST_CASE("a panic on its own is corrupted when the report it ends, or its announced stack, is missing") {
    auto orphan = parse_syzkaller_log("221");  // "hung_task: blocked tasks" without the hung-task report
    REQUIRE(orphan.size() == 1);
    CHECK(orphan[0].kind == ReportKind::Panic);
    CHECK(orphan[0].corrupted);
    CHECK(orphan[0].corrupted_reason == "the report this panic ends is not in the log");
    auto cut = parse_syzkaller_log("90");  // "Call Trace:" and nothing after it
    REQUIRE(cut.size() == 1);
    CHECK(cut[0].corrupted);
    CHECK(cut[0].corrupted_reason == "the stack announced on line 4 was not printed");
    // A panic that names its own cause and prints its stack is whole.
    auto whole = parse_text(slurp(kt::testdata("captures/deb12-6.1.0-50-armmp/capture-2/console-oops/04-panic.txt")));
    REQUIRE(whole.size() == 1);
    CHECK_FALSE(whole[0].corrupted);
}

TEST_CASE("a report cut off half-way is still parsed and marked incomplete") {
    std::string text = slurp(kt::testdata("captures/deb12-6.1.0-56-cloud/capture-1/oops/02-bug-null.txt"));
    text = text.substr(0, text.find("proc_reg_write"));
    auto reports = parse_text(text);
    REQUIRE(reports.size() == 1);
    CHECK_FALSE(reports[0].complete);
    CHECK(reports[0].frames.size() == 5);
}

namespace {

// The rows of a disagreement note (testdata/corpus-*-disagreements.md):
// "file<TAB>column 3" for each table row whose first column is a number.
std::set<std::string> note_rows(const std::string& note) {
    std::set<std::string> rows;
    std::istringstream in(slurp(kt::testdata(note)));
    std::regex row_re(R"(^\| (\d+) \| [^|]* \| ([^|]*) \|.*)");
    std::smatch m;
    for (std::string l; std::getline(in, l);)
        if (std::regex_match(l, m, row_re)) rows.insert(m[1].str() + "\t" + std::string(trim(m[2].str())));
    return rows;
}

// Both notes must list exactly the disagreements of this run: a new one is
// a regression or needs its reason written down; a listed one that went away
// is stale.
void check_note(const std::string& note, const std::set<std::string>& now) {
    const std::set<std::string> listed = note_rows(note);
    for (const auto& r : now) CHECK_MESSAGE(listed.count(r), "not in " << note << ": " << r);
    for (const auto& r : listed) CHECK_MESSAGE(now.count(r), "listed in " << note << " but no longer differs: " << r);
}

}  // namespace

TEST_CASE("syzkaller corpus: no crash, no false reports, guilty function agreement") {
    const fs::path dir = fs::path(KADDR_TESTDATA) / "../../shared/corpora/syzkaller-linux/report";
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        MESSAGE("SKIPPED: " << dir.string() << " is not present");
        return;
    }
    Snapshot empty;
    Resolver resolver(empty);
    int files = 0, crash_free = 0, false_reports = 0, titled = 0, agree = 0;
    int corrupted = 0, corrupted_marked = 0, clean = 0, clean_marked = 0;
    std::set<std::string> guilty_differs, corrupted_differs;  // as the notes list them
    std::regex title_re("^TITLE: (.*)$");
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        std::string raw = slurp(entry.path().string());
        ++files;
        const bool no_crash = raw.rfind("\n", 0) == 0;
        std::string header = no_crash ? "" : raw.substr(0, raw.find("\n\n"));
        std::string body = no_crash ? raw.substr(1) : raw.substr(std::min(raw.size(), raw.find("\n\n") + 2));
        if (auto rep = body.find("\nREPORT:\n"); rep != std::string::npos) body.resize(rep + 1);
        auto reports = parse_text(body);  // must not crash on any file
        if (no_crash) {
            ++crash_free;
            if (!reports.empty()) ++false_reports;
            continue;
        }
        const bool syz_corrupted = header.find("\nCORRUPTED: Y") != std::string::npos ||
                                   header.rfind("CORRUPTED: Y", 0) == 0;
        if (!reports.empty()) {
            (syz_corrupted ? corrupted : clean) += 1;
            if (reports.front().corrupted) (syz_corrupted ? corrupted_marked : clean_marked) += 1;
            if (reports.front().corrupted != syz_corrupted)
                corrupted_differs.insert(name + "\t" + (syz_corrupted ? "not marked" : "marked"));
        }
        std::smatch m;
        std::istringstream hs(header);
        std::string title;
        for (std::string l; std::getline(hs, l);)
            if (std::regex_match(l, m, title_re)) title = m[1];
        const bool x86 = (body.find("RIP: 0010") != std::string::npos || body.find("entry_SYSCALL_64") != std::string::npos) &&
                         body.find("pc : ") == std::string::npos;
        auto in = title.rfind(" in ");
        if (!x86 || in == std::string::npos || title.ends_with(" in corrupted")) continue;
        std::string want = title.substr(in + 4);
        want = want.substr(0, want.find('/'));  // "WARNING in f/usb_submit_urb"
        want = want.substr(0, want.find(' '));  // "INFO: Freed in f age=NUM cpu=NUM"
        ++titled;
        std::string got;
        if (!reports.empty()) {
            ExplainedReport e = explain(reports.front(), resolver);
            got = e.guilty_function;
        }
        if (kt::syscall_name(kt::base_name(got)) == kt::syscall_name(kt::base_name(want))) ++agree;
        else guilty_differs.insert(name + "\t" + (got.empty() ? "(none)" : got));
    }
    MESSAGE("corpus: " << files << " files; " << crash_free << " crash-free with " << false_reports
                       << " false reports; guilty agreement " << agree << "/" << titled << "; corrupted marked "
                       << corrupted_marked << "/" << corrupted << ", clean marked " << clean_marked << "/" << clean);
    CHECK(files == 747);
    CHECK(false_reports == 0);
    CHECK(titled > 300);
    // Issue 4: the guilty function agrees on at least 90% (measured
    // 2026-12-01: 377/409); syzkaller's CORRUPTED reports are marked (122/137,
    // with 5/555 clean ones marked). Every disagreement is in a note with its
    // reason. Issue 9: no regression below 91.7%.
    CHECK(agree * 1000 >= titled * 917);
    CHECK(corrupted_marked * 100 >= corrupted * 85);
    CHECK(clean_marked * 100 <= clean * 2);
    check_note("corpus-guilty-disagreements.md", guilty_differs);
    check_note("corpus-corrupted-disagreements.md", corrupted_differs);
}

TEST_CASE("x86_64 excerpts with the debug package: every frame has source" * doctest::test_suite("vmlinux-x86_64")) {
    for (const char* cap : {"capture-1", "capture-2"})
        check_excerpt_frames("deb12-6.1.0-56-cloud", cap, kt::env("KADDR_DEBUG_ROOT_X86_64"));
}

TEST_CASE("arm64 excerpts with the debug package: every frame has source" * doctest::test_suite("vmlinux-arm64")) {
    for (const char* cap : {"capture-1", "capture-2", "capture-3"})
        check_excerpt_frames("deb12-6.1.0-56-arm64", cap, kt::env("KADDR_DEBUG_ROOT_ARM64"));
}

TEST_CASE("32-bit ARM excerpts with the debug package: every frame has source" * doctest::test_suite("vmlinux-armhf")) {
    for (const char* cap : {"capture-1", "capture-2"})
        check_excerpt_frames("deb12-6.1.0-50-armmp", cap, kt::env("KADDR_DEBUG_ROOT_ARMHF"));
}

TEST_CASE("the NULL-deref report in systemtap form decodes to the same frames") {
    const std::string cap = kt::testdata("captures/deb12-6.1.0-56-cloud/capture-1/");
    auto original = parse_text(slurp(cap + "oops/02-bug-null.txt"));
    REQUIRE(original.size() == 1);
    // print_backtrace() form of the same frames, addresses from the ground truth.
    std::map<std::string, std::string> address_of;
    for (auto& row : kt::read_tsv(cap + "groundtruth/oops-frames.tsv"))
        if (row["excerpt"] == "02-bug-null.txt") address_of[row["frame_text"]] = row["runtime_addr"];
    std::string stap;
    std::vector<std::string> want;
    for (const auto& f : original[0].frames) {
        const std::string& raw = original[0].lines[f.line].raw;
        if (f.user || !f.reliable || !address_of.count(raw)) continue;
        stap += " " + address_of[raw] + " : " + f.symbol->name + "+" + hex(f.symbol->offset) + "/" + hex(*f.symbol->size) +
                " [" + (f.symbol->module.empty() ? "kernel" : f.symbol->module) + "]\n";
        want.push_back(f.symbol->name + "+" + hex(f.symbol->offset) + " [" + f.symbol->module + "]");
    }
    REQUIRE(want.size() >= 8);
    auto rewritten = parse_text(stap);
    REQUIRE(rewritten.size() == 1);
    std::vector<std::string> got;
    for (const auto& f : rewritten[0].frames) got.push_back(f.symbol->name + "+" + hex(f.symbol->offset) + " [" + f.symbol->module + "]");
    CHECK(got == want);
    CHECK(rewritten[0].frames[0].kind == FrameKind::Pc);
}

TEST_CASE("vmlinux without kallsyms: KASLR derived from a frame printed with address and symbol" *
          doctest::test_suite("vmlinux-x86_64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE(!root.empty());
    const std::string cap = kt::testdata("captures/deb12-6.1.0-56-cloud/capture-1/");
    // The old x86 format carries both: " [<ffffffff995eacb6>] proc_reg_write+0x56/0xa0".
    std::string text = "BUG: kernel NULL pointer dereference, address: 0000000000000004\nCall Trace:\n";
    for (auto& row : kt::read_tsv(cap + "groundtruth/oops-frames.tsv"))
        if (row["excerpt"] == "02-bug-null.txt" && row["module"] == "vmlinux" && row["kind"] == "return-addr") {
            std::string frame = row["frame_text"].substr(row["frame_text"].find("]  ") + 3);
            text += " [<" + row["runtime_addr"].substr(2) + ">] " + frame + "\n";
        }
    std::istringstream in(text);
    auto reports = parse_reports(in);
    REQUIRE(reports.size() == 1);
    SnapshotInputs si;
    si.vmlinux = root + "/usr/lib/debug/boot/vmlinux-6.1.0-56-cloud-amd64";
    for (const auto& f : reports[0].frames)
        si.anchors.push_back({*f.address, *f.symbol, "test"});
    auto snap = load_snapshot(si);
    REQUIRE(snap->core.kaslr_offset == 0x18200000);
    CHECK(snap->core.kaslr_how.find("derived from the frame") != std::string::npos);
    ExplainedReport e = explain(reports[0], Resolver(*snap));
    for (const auto& f : e.frames) {
        INFO(f.resolution.input);
        CHECK(!f.resolution.locations.empty());
        CHECK(f.resolution.address == f.frame.address);
    }
}

TEST_CASE("printk caller ids: another task's lines are not part of the report") {
    auto reports = parse_text(
        "[   10.000000][ T100] BUG: kernel NULL pointer dereference, address: 0000000000000008\n"
        "[   10.000001][ T100] Call Trace:\n"
        "[   10.000002][ T200]  other_task_function+0x10/0x20\n"
        "[   10.000003][ T100]  real_caller+0x2a/0x60\n"
        "[   10.000004][   C1]  irq_handler_frame+0x3/0x9\n"
        "[   10.000005][ T100] ---[ end trace 0000000000000000 ]---\n");
    REQUIRE(reports.size() == 1);
    std::vector<std::string> names;
    for (const auto& f : reports[0].frames) names.push_back(f.symbol->name);
    CHECK(names == std::vector<std::string>{"real_caller", "irq_handler_frame"});  // CPU context lines are kept
    CHECK(reports[0].lines.front().caller == "T100");
}

TEST_CASE("frames decoded by decode_stacktrace.sh: the function, its printed lines, no invented offset") {
    // scripts/decode_stacktrace.sh replaces `+off/size` with addr2line's
    // lines (innermost first) and prints a module's name bare after them.
    auto one = parse_frame_text(" ? kernfs_test_super (fs/kernfs/mount.c:286) ");
    REQUIRE(one);
    CHECK(one->decoded);
    CHECK_FALSE(one->reliable);
    CHECK(one->symbol->name == "kernfs_test_super");
    CHECK(one->decoded_source == std::vector<PrintedSource>{{"fs/kernfs/mount.c", 286, 0}});
    auto chain = parse_frame_text("RIP: 0010:kfree (mm/slub.c:3567 mm/slub.c:4558:5) ");
    REQUIRE(chain);
    CHECK(chain->kind == FrameKind::Pc);
    CHECK(chain->decoded_source == std::vector<PrintedSource>{{"mm/slub.c", 3567, 0}, {"mm/slub.c", 4558, 5}});
    auto mod = parse_frame_text(" nft_do_chain (net/netfilter/nf_tables_core.c:264 (discriminator 3)) nf_tables");
    REQUIRE(mod);
    CHECK(mod->symbol->module == "nf_tables");
    CHECK(mod->decoded_source.size() == 1);
    auto cut = parse_frame_text("? kernfs_encode_fh (");  // a paste cut there
    REQUIRE(cut);
    CHECK(cut->decoded);
    CHECK(cut->decoded_source.empty());
    // Prose with parentheses is no frame.
    CHECK_FALSE(parse_frame_text("Hardware name: QEMU Standard PC (i440FX + PIIX, 1996)"));
    CHECK_FALSE(parse_frame_text("note (see below)"));
    CHECK_FALSE(parse_frame_text("foo (bar baz)"));

    // Explained with no kernel files: the printed lines are the answer, as
    // printed, and no lookup of the symbol's start (offset 0 as a return
    // address would name the previous function).
    auto reports = parse_text("BUG: KASAN: slab-use-after-free in kernfs_test_super (fs/kernfs/mount.c:286)\n"
                              "Call Trace:\n <TASK>\n kasan_report (mm/kasan/report.c:590)\n"
                              " kernfs_test_super (fs/kernfs/mount.c:286 fs/kernfs/mount.c:301)\n");
    REQUIRE(reports.size() == 1);
    auto snap = kt::load_capture("deb12-6.1.0-56-cloud", "capture-1", "");
    ExplainedReport e = explain(reports[0], Resolver(*snap));
    CHECK(e.guilty_function == "kernfs_test_super");
    REQUIRE(e.frames.size() == 2);
    const Resolution& r = e.frames[1].resolution;
    CHECK(r.confidence == "as-printed");
    CHECK_FALSE(r.address);
    REQUIRE(r.locations.size() == 2);
    CHECK(r.locations[0].line == 286);
    CHECK(r.locations[1].function == "kernfs_test_super");
    CHECK(r.locations[1].line == 301);
}
