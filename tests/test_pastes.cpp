// The real-world paste collection (testdata/pastes): crash reports as people
// paste them into bug trackers, mailing lists and forums, decoded with no
// kernel files at all. The expected answers (testdata/pastes/expected.tsv)
// were written by hand from reading each paste, before kaddr ran on it; the
// accepted disagreements are listed with their reasons in
// testdata/pastes/disagreements.md, and the test fails when that set changes.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "kaddr/oops_blame.h"
#include "kaddr/oops_explain.h"
#include "kaddr/oops_report.h"
#include "support.h"

using namespace kaddr;
namespace fs = std::filesystem;

namespace {

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::vector<std::string> words(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string w; in >> w;) out.push_back(w);
    if (out.size() == 1 && out[0] == "-") out.clear();
    return out;
}

// The frame list as expected.tsv writes it (README.md there): functions
// only, the pc frame first, `?` before unreliable frames, the stack's own
// repeat of the pc function right after it dropped, link-register lines
// left out (they are registers, not frames).
std::vector<std::string> frame_list(const OopsReport& r) {
    std::vector<std::string> out;
    std::string pc;
    for (const OopsFrame& f : r.frames)
        if (f.symbol && f.kind == FrameKind::Pc && !f.outside_stack) {
            pc = f.symbol->name;
            break;
        }
    if (!pc.empty()) out.push_back(pc);
    bool first = true, pc_seen = false;
    for (const OopsFrame& f : r.frames) {
        if (!f.symbol || f.kind == FrameKind::Link || f.outside_stack || f.lock_history) continue;
        const bool repeat = f.symbol->name == pc && (f.kind == FrameKind::Pc ? pc_seen : first);
        if (f.kind == FrameKind::Pc && f.symbol->name == pc && !pc_seen) {
            pc_seen = true;  // the pc itself, already in front
            continue;
        }
        if (f.kind != FrameKind::Pc) first = false;
        if (repeat) continue;  // RIP printed twice, or the stack repeating the pc
        out.push_back((f.reliable ? "" : "?") + f.symbol->name);
    }
    return out;
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& w : v) s += (s.empty() ? "" : " ") + w;
    return s.empty() ? "-" : s;
}

// "| file | measure | ... |" rows of the note, as "file<TAB>measure".
std::set<std::string> noted(const std::string& note) {
    std::set<std::string> rows;
    std::istringstream in(read_all(note));
    std::regex row_re(R"(^\| ([0-9]{3}-[^ |]+) \| ([a-z-]+) \|.*)");
    std::smatch m;
    for (std::string l; std::getline(in, l);)
        if (std::regex_match(l, m, row_re)) rows.insert(m[1].str() + "\t" + m[2].str());
    return rows;
}

}  // namespace

TEST_CASE("real-world pastes: reports found, guilty function, exact frame lists, printed functions kept") {
    const std::string dir = kt::testdata("pastes/");
    auto expected = kt::read_tsv(dir + "expected.tsv");
    REQUIRE(expected.size() >= 40);
    Snapshot empty;
    Resolver resolver(empty);
    int files = 0, found = 0, kinds = 0, with_report = 0, guilty = 0, modules = 0, exact = 0;
    int printed = 0, carried = 0;
    std::set<std::string> differs;
    const bool debug = !kt::env("KADDR_PASTES_DEBUG").empty();  // print kaddr's answer where it differs
    for (const auto& row : expected) {
        const std::string file = row.at("# file");
        ++files;
        std::istringstream in(read_all(dir + file));
        REQUIRE_MESSAGE(!in.str().empty(), "missing paste " << file);
        auto reports = parse_reports(in);
        const int want_reports = std::stoi(row.at("reports"));
        if (static_cast<int>(reports.size()) == want_reports) ++found;
        else differs.insert(file + "\treports");
        if (debug && static_cast<int>(reports.size()) != want_reports) {
            std::string kinds;
            for (const auto& r : reports) kinds += std::string(kind_name(r.kind)) + "@" + std::to_string(r.first_line()) + " ";
            MESSAGE(file << " reports: " << kinds);
        }
        if (want_reports == 0 || reports.empty()) continue;
        ++with_report;
        const OopsReport& first = reports.front();
        if (kind_name(first.kind) == row.at("kind")) ++kinds;
        else differs.insert(file + "\tkind");
        if (debug && kind_name(first.kind) != row.at("kind")) MESSAGE(file << " kind: " << std::string(kind_name(first.kind)));
        const std::string got_frames = join(frame_list(first));
        if (got_frames == join(words(row.at("frames (first report; see README.md)")))) ++exact;
        else differs.insert(file + "\tframes");
        if (debug && got_frames != join(words(row.at("frames (first report; see README.md)"))))
            MESSAGE(file << " frames: " << got_frames);
        ExplainedReport e = explain(first, resolver);
        const std::string want_module = row.at("guilty_module") == "-" ? "" : row.at("guilty_module");
        const std::string want_guilty = row.at("guilty_function") == "-" ? "" : row.at("guilty_function");
        if (e.guilty_function == want_guilty) ++guilty;
        else differs.insert(file + "\tguilty");
        if (debug && e.guilty_function != want_guilty) MESSAGE(file << " guilty: " << e.guilty_function);
        std::string got_module;
        if (e.guilty) got_module = e.frames[*e.guilty].resolution.module.value_or("");
        if (got_module == want_module) ++modules;
        else differs.insert(file + "\tmodule");
        // Class 1 of issue 9: what the report prints is knowledge.
        nlohmann::json j = oops_to_json(e);
        for (const auto& jf : j["frames"]) {
            if (!jf.contains("printed") || jf["printed"].is_null()) continue;
            ++printed;
            const bool ok = jf["symbol"] == jf["printed"]["function"] && jf["confidence"] == "as-printed" &&
                            jf["found_by"].is_array() && !jf["found_by"].empty() &&
                            jf["found_by"].back() == "report text";
            if (ok) ++carried;
            else differs.insert(file + "\tprinted");
        }
    }
    MESSAGE("pastes: " << files << " files; report count right " << found << "/" << files << "; kind " << kinds
                       << "/" << with_report << "; guilty function " << guilty << "/" << with_report << ", module "
                       << modules << "/" << with_report << "; exact frame list " << exact << "/" << with_report
                       << "; printed functions carried " << carried << "/" << printed);
    // Issue 9's thresholds: reports found >= 97%, exact first-report frame
    // lists >= 95%, guilty function >= 95%, every printed function carried.
    // Measured 2026-12-02 on 169 files: guilty 160/168 (95.2%); every miss
    // is listed in disagreements.md, so none can hide under the floor.
    CHECK(found * 100 >= files * 97);
    CHECK(exact * 100 >= with_report * 95);
    CHECK(carried == printed);
    CHECK(guilty * 100 >= with_report * 95);
    std::set<std::string> listed = noted(dir + "disagreements.md");
    for (const auto& d : differs) CHECK_MESSAGE(listed.count(d), "not in testdata/pastes/disagreements.md: " << d);
    for (const auto& d : listed)
        CHECK_MESSAGE(differs.count(d), "listed in testdata/pastes/disagreements.md but agrees now: " << d);
}

namespace {

// A frame line and what the lexer must read from it (module: nullptr, not checked).
struct FrameCase {
    const char* line;
    FrameKind kind;
    const char* function;
    const char* module = nullptr;
};

void check_frames(std::initializer_list<FrameCase> cases) {
    for (const FrameCase& c : cases) {
        CAPTURE(c.line);
        auto f = parse_frame_text(c.line);
        REQUIRE(f);
        CHECK(f->kind == c.kind);
        REQUIRE(f->symbol);
        CHECK(f->symbol->name == c.function);
        if (c.module) CHECK(f->symbol->module == c.module);
    }
}

}  // namespace

// Register lines and transports that the collection has no paste of yet, as
// the kernel prints them (arch/*/kernel/traps.c, process.c; journalctl's
// output formats).
TEST_CASE("pc and link-register lines of every architecture table, and journal formats") {
    check_frames({
        {"IAOQ[0]: ext2_fill_super+0x1c4/0x9d0", FrameKind::Pc, "ext2_fill_super"},     // parisc show_regs
        {"IAOQ[1]: ext2_fill_super+0x1c8/0x9d0", FrameKind::Link, "ext2_fill_super"},
        {"RP(r2): mount_bdev+0x1a8/0x250", FrameKind::Link, "mount_bdev"},
        {"NIP [c000000000ac0ce8] dbs_update_util_handler+0x18/0xf0", FrameKind::Pc, "dbs_update_util_handler"},
        {"LR [c000000000159748] propagate_entity_cfs_rq.isra.11+0x4a8/0x5f0", FrameKind::Link,
         "propagate_entity_cfs_rq.isra.11"},
        {"epc   : 8003ab3c kthread_data+0x4/0xc", FrameKind::Pc, "kthread_data"},
        {"ra    : 80036f64 wq_worker_sleeping+0x14/0xbc", FrameKind::Link, "wq_worker_sleeping"},
        {" ra : default_idle_call+0x3a/0x42", FrameKind::Link, "default_idle_call"},
        {"Krnl PSW : 0704f00180000000 000003ff8086d03a (will_oops_init+0x3a/0x1000 [will_oops])", FrameKind::Pc,
         "will_oops_init"},
        {"EIP is at wdev_priv.part.8+0x3/0x5 [wl]", FrameKind::Pc, "wdev_priv.part.8"},
        {"[c000000010f93150] [c000000008028668] .rtas_read_config+0x128/0x170", FrameKind::Return, "rtas_read_config"},
    });
    // register dumps that only carry addresses are no frames
    CHECK_FALSE(parse_frame_text("epc : ffffffe00022affe ra : ffffffe00022afea sp : ffffffe086d3fe30"));
    CHECK_FALSE(parse_frame_text("pc : [<8015295c>]    lr : [<801a41e4>]    psr: 80000093"));
    // journalctl -o short-monotonic and -o short-precise
    CHECK(normalize_line("[   18.718322] host kernel: Oops: 0002 [#1] SMP", 1).text == "Oops: 0002 [#1] SMP");
    CHECK(normalize_line("Apr 15 13:58:03.028579 raspberrypi kernel: Mem abort info:", 1).text == "Mem abort info:");
}

TEST_CASE("skip patterns: whole names where a word would match unrelated functions") {
    CHECK(is_reporting_machinery("string"));    // lib/vsprintf.c
    CHECK(is_reporting_machinery("pointer"));
    CHECK_FALSE(is_reporting_machinery("encode_string"));
    CHECK_FALSE(is_reporting_machinery("nfs4_xdr_enc_pointer"));
    CHECK(is_reporting_machinery("dump_stack_lvl"));  // prefixes still match
    // Whole names keep kernel code that merely shares a word out of the list:
    // mm/ksm.c's memcmp_pages, or a driver's own helper named after one.
    CHECK(is_reporting_machinery("memcmp"));
    CHECK_FALSE(is_reporting_machinery("memcmp_pages"));
    CHECK(is_reporting_machinery("validate_chain.clone.24"));  // a clone suffix is still the name
    CHECK_FALSE(is_reporting_machinery("xfs_validate_chain"));
    CHECK(is_reporting_machinery("usb_control_msg"));
    CHECK_FALSE(is_reporting_machinery("ftdi_usb_control_msg"));
    // families are whole words inside a name, never substrings
    CHECK(is_reporting_machinery("_raw_spin_lock_irqsave"));
    CHECK(is_reporting_machinery("__mutex_lock_common"));
    CHECK(is_reporting_machinery("asm_exc_page_fault"));
    CHECK(is_reporting_machinery("vprintk_emit"));
    CHECK(is_reporting_machinery("_RNvNtCs9jEwPDbx20M_4core9panicking9panic_fmt"));  // Rust's core::panicking
    CHECK_FALSE(is_reporting_machinery("sget_userns"));             // no get_user
    CHECK_FALSE(is_reporting_machinery("debug_objects_mem_init"));  // no debug_object
    CHECK_FALSE(is_reporting_machinery("radix_tree_node_alloc"));
}

// Transport prefixes of vendor consoles the collection has no (other)
// paste of, as their printk patches print them, and the ones it has.
TEST_CASE("transport prefixes: one table, vendor cpu and task tags after the timestamp") {
    struct Case {
        const char* raw;
        const char* text;
        bool timestamped;
    };
    const Case cases[] = {
        // Samsung: cpu, and with CONFIG_PRINTK_PROCESS the task
        {"<4>[169739.712691] c2 Backtrace: ", "Backtrace: ", true},
        {"[    0.693542] c0 1 (swapper/0) Unable to handle kernel paging request at virtual address 65776f70",
         "Unable to handle kernel paging request at virtual address 65776f70", true},
        {"        <1>[41740.112427] c1 pgd = e785c000", "pgd = e785c000", true},
        // Exynos/Android `[cpu: comm: pid]`, the task name holding a colon
        {"<6>[  283.347167]  [5:  kworker/u16:3: 1234] Unable to handle kernel NULL pointer dereference",
         "Unable to handle kernel NULL pointer dereference", true},
        {"[    1.000000] [4:      swapper/4:    0] CPU4: Booted secondary processor", "CPU4: Booted secondary processor", true},
        // MediaTek `(cpu)[pid:comm]` (RFAnalyzer issue 45's last_kmsg)
        {"[42476.987203] (0)[848:ndroid.systemui]runnable tasks:", "runnable tasks:", true},
        // OnePlus dated timestamps, Amlogic and msm cpu inside the bracket
        {"<2>[20170514_00:45:44.932056]@0 Kernel BUG at ffffffc000437680", "Kernel BUG at ffffffc000437680", true},
        {"[ 6020.037872@0] Call trace:", "Call trace:", true},
        {"[86735.022661,1] R5: 0xc12e4298:", "R5: 0xc12e4298:", true},
        // OpenWrt logread with its weekday, a serial logger's clock, syslog without a host
        {"Fri Aug 28 08:33:06 2020 kern.warn kernel: [293371.377895] ------------[ cut here ]------------",
         "------------[ cut here ]------------", true},
        {"19:20:00  [<ffffffff8025b5c3>] __alloc_pages+0x2aa/0x2c3", "[<ffffffff8025b5c3>] __alloc_pages+0x2aa/0x2c3", false},
        {"Aug 30 18:07:03 kernel: Call Trace:", "Call Trace:", false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.raw);
        LogLine l = normalize_line(c.raw, 1);
        CHECK(l.text == c.text);
        CHECK(l.timestamped == c.timestamped);
    }
    // what only looks like a tag stays text
    CHECK(normalize_line("[    2.000000] [0:0:0:0] Direct-Access", 1).text == "[0:0:0:0] Direct-Access");
    CHECK(normalize_line("c1 is not a cpu without a timestamp", 1).text == "c1 is not a cpu without a timestamp");
}

TEST_CASE("frame shapes of sparc64, 2.6 x86_64 and vendor arm64, and frames a paste cut inside the offset") {
    check_frames({
        {"TPC: <sha512_sparc64_transform+0x48/0x160 [sha512_sparc64]>", FrameKind::Pc, "sha512_sparc64_transform",
         "sha512_sparc64"},
        {"RPC: <sha512_sparc64_update+0x48/0x60 [sha512_sparc64]>", FrameKind::Link, "sha512_sparc64_update",
         "sha512_sparc64"},
        {"I7: <crypto_shash_finup+0x17c/0x220>", FrameKind::Link, "crypto_shash_finup", ""},
        {"  [000000000055eaa4] cache_flusharray+0xac/0xf4", FrameKind::Return, "cache_flusharray", ""},
        {"Caller[000000000055e66c]: kmem_cache_free+0xfc/0x1ac", FrameKind::Return, "kmem_cache_free", ""},
        {" [<ffffffff8808d2e6>] :jbd:journal_start+0x8f/0x101", FrameKind::Return, "journal_start", "jbd"},
        {" [clear_inode+206/304] clear_inode+0xce/0x130", FrameKind::Return, "clear_inode", ""},
        {" [_end+129598927/2130485360] :ext3:ext3_clear_inode+", FrameKind::Return, "ext3_clear_inode", "ext3"},
        {"[ffffff80201c7800+  32][<ffffff80091f0e2c>] vmalloc_to_page+0xd8/0xe4", FrameKind::Return, "vmalloc_to_page", ""},
        {"[ffffff80201c7820+  96][<ffffff8009086334>] __show_regs+0xac/0x", FrameKind::Return, "__show_regs", ""},
    });
    CHECK_FALSE(parse_frame_text("RPC: <0xfff8803b75826e08>"));          // an address only
    CHECK_FALSE(parse_frame_text("[00000006] *pgd=80000000004003"));     // a page-table line
    CHECK_FALSE(parse_frame_text(".3+1-sparc64-smp #1 NONE  Debian"));  // a release a mail client cut
    // a fixed-width capture cut a frame mid-word: the two halves are one frame
    std::istringstream cut("Call Trace:\n [kswapd+908/1264] kswapd+0x38c/0x4f0\n"
                           " [autoremove_wake_function+0/48] autoremove_wake_fun\nction+0x0/0x30\n");
    auto dump = parse_reports(cut);
    REQUIRE(dump.size() == 1);
    REQUIRE(dump[0].frames.size() == 2);
    CHECK(dump[0].frames[1].symbol->name == "autoremove_wake_function");
    // powerpc's two brackets are still sp and pc
    auto ppc = parse_frame_text("[c000003fdc18bd40] [c000000000150aec] wake_up_new_task+0x13c/0x310");
    REQUIRE(ppc);
    CHECK(ppc->address == 0xc000000000150aecULL);
}

TEST_CASE("a call trace printed after the end trace line continues its report (Qualcomm 4.x)") {
    std::istringstream in(R"([   10.000001] Unable to handle kernel NULL pointer dereference at virtual address 00000010
[   10.000002] Internal error: Oops: 96000005 [#1] PREEMPT SMP
[   10.000003] CPU: 2 PID: 77 Comm: kworker/2:1 Tainted: G        W       4.9.112-perf #1
[   10.000004] pc : msm_vidc_close+0x24/0x90
[   10.000005] lr : v4l2_release+0x3c/0x80
[   10.000006] ---[ end trace 1a2b3c4d5e6f7a8b ]---
[   10.000007] Call trace:
[   10.000008] [<ffffff8008a1b2c4>] msm_vidc_close+0x24/0x90
[   10.000009] [<ffffff8008a1c3d0>] v4l2_release+0x3c/0x80
[   10.000010] [<ffffff80082a4e10>] __fput+0x90/0x1d0
)");
    auto reports = parse_reports(in);
    REQUIRE(reports.size() == 1);
    std::vector<std::string> names;  // the pc line, then the trace (its first frame repeats the pc)
    for (const OopsFrame& f : reports[0].frames)
        if (f.symbol && f.kind != FrameKind::Link) names.push_back(f.symbol->name);
    CHECK(names == std::vector<std::string>{"msm_vidc_close", "msm_vidc_close", "v4l2_release", "__fput"});
    CHECK(blame(reports[0]).function == "msm_vidc_close");
}

TEST_CASE("checker skips: an allocation failure skips the allocator by whole names, not every 'alloc'") {
    // __alloc_pages __slab_alloc radix_tree_node_alloc kmem_cache_alloc radix_tree_node_alloc radix_tree_insert ...
    std::istringstream in(read_all(kt::testdata("pastes/168-linux-mm-2007-8464-serial-clock-quoted-printable.txt")));
    auto reports = parse_reports(in);
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].kind == ReportKind::AllocFailure);
    Blame b = blame(reports[0]);
    CHECK(b.function == "radix_tree_node_alloc");  // the caller after the allocator's last frame
}
