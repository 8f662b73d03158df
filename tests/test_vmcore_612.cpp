// A real kdump of Debian's 6.12 kernel (a 6.4+ kernel: module memory split
// by type; makedumpfile -d 31 leaves out the slab pages that hold the
// crashed task's task_struct and most modules' section names), where
// Debian 12's crash 8.0.2 opens nothing and drgn 0.0.22 stops at the first
// module frame. Truth: drgn's log, gdb's frames of the oops the console
// printed (groundtruth/oops-frames.tsv), drgn's stack from the first
// vmlinux frame on (truth/drgn-bt.txt), and the /proc/modules, sysfs
// sections and allocation layout captured before the crash.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "cli_run.h"
#include "kaddr/lexemes.h"
#include "kaddr/resolver.h"
#include "kaddr/snapshot.h"
#include "kaddr/vmcore_facts.h"
#include "kaddr/vmcore_log.h"
#include "kaddr/vmcore_stack.h"
#include "support.h"

using namespace kaddr;

namespace {

std::string dir() {
    const std::string d = kt::capture_set_dir("deb12-6.12.118-cloud-kdump");
    REQUIRE_MESSAGE(!d.empty(), "the 6.12 kdump capture is missing");
    return d;
}
std::string file(const std::string& rel) { return dir() + rel; }

std::string debug_root() {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64_6_12");
    REQUIRE_MESSAGE(!root.empty(), "run through tests/run-vmlinux-tier.sh x86_64-6.12");
    return root;
}

SnapshotInputs dump_inputs(bool with_ktoops) {
    SnapshotInputs in;
    in.vmcore = file("vmcore.kdump-zlib");
    in.debug_root = debug_root();
    if (with_ktoops) in.ko_files.push_back(file("ktoops.ko"));
    return in;
}

// The oops's frames that are the crashed thread's calls, as gdb resolved
// them: the RIP, then every reliable return address (no `?`).
struct TruthFrame {
    std::uint64_t addr;
    std::string symbol;  // as printed
};
std::vector<TruthFrame> gdb_frames() {
    std::vector<TruthFrame> out;
    static const std::regex sym(R"((?:RIP: 0010:| )([A-Za-z0-9_.]+)\+0x[0-9a-f]+/0x[0-9a-f]+)");
    for (auto& row : kt::read_tsv(file("groundtruth/oops-frames.tsv"))) {
        if (row["excerpt"] != "02-bug-null.txt" || (row["kind"] != "RIP" && row["kind"] != "return-addr")) continue;
        std::smatch m;
        REQUIRE(std::regex_search(row["frame_text"], m, sym));
        out.push_back({*parse_hex(row["runtime_addr"]), m[1]});
    }
    return out;
}

// drgn's stack pointers by pc (truth/drgn-bt.txt, the part drgn unwound).
std::map<std::uint64_t, std::uint64_t> drgn_sp() {
    std::map<std::uint64_t, std::uint64_t> out;
    std::istringstream in(kt::slurp(file("truth/drgn-bt.txt")));
    static const std::regex row(R"(pc=(0x[0-9a-f]+) sp=(0x[0-9a-f]+))");
    std::smatch m;
    for (std::string line; std::getline(in, line);)
        if (std::regex_search(line, m, row)) out[*parse_hex(m[1].str())] = *parse_hex(m[2].str());
    return out;
}

}  // namespace

TEST_CASE("6.12 kdump: the log, read with no debug file at all, equals drgn's") {
    auto dump = Vmcore::open(file("vmcore.kdump-zlib"));
    CHECK(dump->info().osrelease() == "6.12.118+deb12-cloud-amd64");
    const std::string log = format_log(read_kernel_log(*dump));
    CHECK(log == kt::slurp(file("truth/drgn-log.txt")));
    CHECK(log.find("BUG: kernel NULL pointer dereference, address: 0000000000000004") != std::string::npos);
}

TEST_CASE("6.12 kdump: every module with its mem[] allocations and sections, as captured before the crash" *
          doctest::test_suite("vmlinux-x86_64-6.12")) {
    auto f = read_vmcore_facts(dump_inputs(false));
    REQUIRE(f->modules_walked);
    CHECK(f->module_memory.per_type());
    CHECK(f->module_memory.how == "vmlinux DWARF: struct module has mem[]");
    std::ifstream pm(file("proc_modules.txt")), ss(file("sys_module_sections.txt"));
    const auto procs = parse_proc_modules(pm, "proc_modules.txt");
    const auto sysfs = parse_section_list(ss, "sys_module_sections.txt");
    REQUIRE(f->modules.size() == procs.size());
    // Where each core allocation starts: its first section (groundtruth/module-layout.tsv).
    std::map<std::pair<std::string, std::string>, std::uint64_t> starts;
    for (auto& row : kt::read_tsv(file("groundtruth/module-layout.tsv")))
        starts[{row["module"], row["region"]}] = *parse_hex(row["region_lo"]);
    std::size_t allocations = 0, with_sections = 0;
    for (const auto& p : procs) {
        CAPTURE(p.name);
        const VmcoreModule* m = nullptr;
        for (const auto& vm : f->modules)
            if (vm.name == p.name) m = &vm;
        REQUIRE(m);
        CHECK(m->base == p.base);  // MOD_TEXT
        CHECK(m->size == p.size);  // the sum of the core allocations
        CHECK(module_state_name(m->state) == p.state);
        // (kheld, loaded without a file, has no layout measured.)
        const bool measured = starts.count({p.name, "text"}) != 0;
        for (ModMemType t : {ModMemType::Text, ModMemType::Data, ModMemType::Rodata, ModMemType::RoAfterInit}) {
            if (!measured) break;
            const auto [base, size] = m->mem[static_cast<int>(t)];
            auto want = starts.find({p.name, std::string(mod_mem_type_key(t))});
            if (want == starts.end()) {
                CHECK(size == 0);
                continue;
            }
            CHECK(base == want->second);
            CHECK(size % 4096 == 0);
            ++allocations;
        }
        if (!m->sections.empty()) {  // the sect_attrs the dump does hold
            CHECK(m->sections == sysfs.at(p.name));
            ++with_sections;
        }
        CHECK(m->symbols.size() > 5);  // the module's own symbol table
    }
    CHECK(allocations >= 60);
    CHECK(with_sections >= 5);
    // Modules whose section names the dump does not hold are placed from
    // mem[] and their .ko: every core section where sysfs had it.
    auto snap = load_snapshot(dump_inputs(true));
    std::size_t placed = 0;
    for (const auto& m : snap->modules) {
        if (!m->ko) continue;
        CAPTURE(m->name);
        for (const auto& s : m->sections) {
            if (s.init || s.placement == Placement::Undetermined) continue;
            auto it = sysfs.at(m->name).find(s.name);
            REQUIRE(it != sysfs.at(m->name).end());
            CHECK(s.addr == it->second);
            ++placed;
        }
    }
    CHECK(placed > 300);
}

TEST_CASE("6.12 kdump: the crashed thread, every frame gdb's, with and without the module's file" *
          doctest::test_suite("vmlinux-x86_64-6.12")) {
    const auto truth = gdb_frames();
    REQUIRE(truth.size() == 10);  // RIP, 4 ktoops frames, proc_reg_write .. entry_SYSCALL_64_after_hwframe
    const auto sp = drgn_sp();
    for (bool with_ktoops : {false, true}) {
        CAPTURE(with_ktoops);
        auto snap = load_snapshot(dump_inputs(with_ktoops));
        Resolver res(*snap);
        const CpuStack t = crashed_thread(res);
        CHECK(t.pid == 896);
        CHECK(t.cpu == 1);
        // drgn: task 0xff24af53c1cf8000, its comm "Excluded page": said, not guessed.
        CHECK(t.task == 0xff24af53c1cf8000ULL);
        CHECK(t.comm.empty());
        CHECK(t.task_unread.find("is not in the dump") != std::string::npos);
        REQUIRE(t.frames.size() == truth.size() + 1);
        for (std::size_t i = 0; i < truth.size(); ++i) {
            CAPTURE(i);
            CHECK(t.frames[i].pc == truth[i].addr);
            CHECK(t.frames[i].kind == (i == 0 ? StackFrameKind::Interrupted : StackFrameKind::Call));
            bool named = t.frames[i].where.symbol == truth[i].symbol;
            for (const auto& a : t.frames[i].where.aliases) named = named || a == truth[i].symbol;
            CHECK_MESSAGE(named, t.frames[i].where.symbol << " want " << truth[i].symbol);
            if (auto it = sp.find(t.frames[i].pc); it != sp.end() && i > 0) CHECK(t.frames[i].sp == it->second);
        }
        CHECK(t.frames.back().kind == StackFrameKind::UserEntry);
        CHECK(t.frames.back().pc == 0x47b7a0);  // RIP: 0033:0x47b7a0
        CHECK(t.stopped.find("user space") != std::string::npos);
        // Without ktoops.ko the CFI stops in ktoops: ORC from the dump goes on.
        CHECK((t.orc_from != 0) == !with_ktoops);
    }
}

TEST_CASE("6.12 kdump: kaddr oops --vmcore with only the -dbg package gives the reports, the stack, exit 0" *
          doctest::test_suite("vmlinux-x86_64-6.12")) {
    kt::Run r = kt::run("oops --json --vmcore " + file("vmcore.kdump-zlib") + " --debug-root " + debug_root());
    CHECK(r.status == 0);
    const auto recs = kt::json_lines(r.out);
    REQUIRE(recs.size() == 4);  // the WARN, the NULL dereference, the crashed thread, the modules
    CHECK(recs[1]["guilty"]["function"] == "ktoops_deref");
    CHECK(recs[1]["kernel_frames"] == recs[1]["resolved_frames"]);
    const auto& frames = recs[2]["crashed_thread"]["frames"];
    CHECK(frames.size() == 11);
    CHECK(frames[0]["resolution"]["symbol"] == "ktoops_deref");
    CHECK(frames[1]["resolution"]["found_by"].dump().find("the dump's symbol table") != std::string::npos);
    const auto& mods = recs[3]["dump_modules"];
    CHECK(mods["era_from"] == "vmlinux DWARF: struct module has mem[]");
    CHECK(mods["modules"].size() == 21);
    for (const auto& m : mods["modules"]) CHECK(m["memory"].size() >= 2);  // MOD_TEXT and MOD_DATA at least
}
