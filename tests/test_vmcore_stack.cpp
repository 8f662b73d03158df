// The crashed task's stack unwound from the real dump (NT_PRSTATUS + CFI)
// against drgn 0.0.22's stack trace of the crashed thread
// (truth/drgn-bt.txt: pc, sp, symbol, source line of every frame, inline
// frames listed separately) and crash 8.0.2's `bt` (truth/crash-bt.txt).
// Frames where the tools differ by design are listed with the reason in
// testdata/vmcore-accepted-differences.tsv; the test checks they still differ.
#include <regex>
#include <set>
#include <sstream>

#include "kaddr/lexemes.h"
#include "kaddr/resolver.h"
#include "kaddr/snapshot.h"
#include "kaddr/vmcore_stack.h"
#include "vmcore_support.h"

using namespace kaddr;

namespace {

struct DrgnFrame {
    std::string function, symbol, src;
    std::uint64_t pc = 0, sp = 0, offset = 0;
    bool interrupted = false;
};

// drgn's frames per CPU: drgn-bt-a.txt has "CPU N: ..." blocks; drgn-bt.txt
// is the crashed thread alone (key -1).
std::map<int, std::vector<DrgnFrame>> drgn_frames(const char* file) {
    std::map<int, std::vector<DrgnFrame>> out;
    int cpu = -1;
    std::istringstream in(kt::slurp(kt::kdump_file(file)));
    static const std::regex header(R"(^CPU (\d+): )");
    static const std::regex row(R"(^ *#\d+ +(\S+) +pc=(0x[0-9a-f]+) sp=(0x[0-9a-f]+) sym=(\S+) src=(\S+)(.*)$)");
    static const std::regex sym(R"(^(\S+)\+(0x[0-9a-f]+)/0x[0-9a-f]+$)");
    std::string line;
    std::smatch m, s;
    while (std::getline(in, line))
        if (std::regex_search(line, m, header)) {
            cpu = std::stoi(m[1]);
        } else if (std::regex_search(line, m, row)) {
            DrgnFrame f{m[1], "", m[5], *parse_hex(m[2].str()), *parse_hex(m[3].str()), 0,
                        m[6].str().find("[interrupted]") != std::string::npos};
            const std::string symtext = m[4];
            if (std::regex_search(symtext, s, sym)) {
                f.symbol = s[1];
                f.offset = *parse_hex(s[2].str());
            }
            out[cpu].push_back(f);
        }
    return out;
}

std::set<std::string> accepted(const std::string& tool) {
    std::set<std::string> out;
    for (auto& r : kt::read_tsv(kt::testdata("vmcore-accepted-differences.tsv")))
        if (r["tool"] == tool) out.insert(r["symbol"]);
    return out;
}

std::unique_ptr<Snapshot> dump_snapshot(const std::string& dump) {
    SnapshotInputs in;
    in.vmcore = dump;
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE_MESSAGE(!root.empty(), "run through tests/run-vmlinux-tier.sh x86_64");
    in.debug_root = root;
    in.ko_files.push_back(kt::kdump_file("ktoops.ko"));
    return load_snapshot(in);
}

CpuStack unwind(const std::string& dump) {
    auto snap = dump_snapshot(dump);
    Resolver res(*snap);
    return crashed_thread(res);
}

// drgn lists an inlined call as its own frame at the same pc and sp: one
// row per source location of each kaddr frame, innermost first.
struct Row {
    const StackFrame* frame;
    const SourceLocation* loc;
};

std::vector<Row> expand(const CpuStack& t) {
    std::vector<Row> rows;
    for (const auto& f : t.frames) {
        if (f.where.locations.empty()) rows.push_back({&f, nullptr});
        for (const auto& l : f.where.locations) rows.push_back({&f, &l});
    }
    return rows;
}

void compare_with_drgn(const CpuStack& t, const std::vector<DrgnFrame>& drgn, const std::set<std::string>& skip_symbol) {
    const auto rows = expand(t);
    REQUIRE(rows.size() == drgn.size());
    for (std::size_t i = 0; i < drgn.size(); ++i) {
        const DrgnFrame& d = drgn[i];
        const Row& r = rows[i];
        CAPTURE(i);
        CHECK(r.frame->pc == d.pc);
        CHECK(r.frame->sp == d.sp);
        CHECK((r.frame->kind != StackFrameKind::Call) == d.interrupted);
        if (d.src == "?") {  // user space
            CHECK(r.frame->kind == StackFrameKind::UserEntry);
            continue;
        }
        REQUIRE(r.loc);
        std::ostringstream src;
        src << r.loc->file << ":" << r.loc->line << ":" << r.loc->column;
        CHECK(src.str() == d.src);
        if (d.function != "?") CHECK(r.loc->function == d.function);
        if (d.symbol.empty() && d.function != "?") {
            // drgn prints sym=? for a return address just past the end of its
            // function (a call to a noreturn function is the last instruction):
            // kaddr names the function with offset == size, the line from pc - 1.
            CHECK(r.frame->where.symbol == d.function);
            CHECK(r.frame->where.offset == r.frame->where.size);
        } else if (!skip_symbol.count(d.symbol) && !skip_symbol.count(r.frame->where.symbol)) {
            CHECK(r.frame->where.symbol == d.symbol);
            CHECK(r.frame->where.offset == d.offset);
        } else {
            CHECK(r.frame->where.symbol != d.symbol);
        }
    }
}

}  // namespace

TEST_CASE("the crashed task's stack from the dump equals drgn's, frame by frame, in every dump form" *
          doctest::test_suite("vmlinux-x86_64")) {
    const auto drgn = drgn_frames("truth/drgn-bt.txt").at(-1);
    REQUIRE(drgn.size() == 13);
    const auto skip_symbol = accepted("drgn");
    for (const std::string& dump : {kt::kdump_file("vmcore.kdump-zlib"), kt::kdump_file("dump.flat"), kt::elf_vmcore()}) {
        CAPTURE(dump);
        const CpuStack t = unwind(dump);
        CHECK(t.pid == 660);  // crashed thread: pid 660 comm sh task 0xff3a23a81f08a0c0 cpu 1
        CHECK(t.cpu == 1);
        CHECK(t.comm == "sh");
        CHECK(t.task == 0xff3a23a81f08a0c0ULL);
        compare_with_drgn(t, drgn, skip_symbol);
    }
}

TEST_CASE("the crashed task's stack from the dump equals crash's bt, but for the frames documented to differ" *
          doctest::test_suite("vmlinux-x86_64")) {
    const CpuStack t = unwind(kt::kdump_file("vmcore.kdump-zlib"));
    const auto skip = accepted("crash");
    // crash: " #N [sp] function at pc [module]" and "[exception RIP: function+off]".
    std::istringstream in(kt::slurp(kt::kdump_file("truth/crash-bt.txt")));
    static const std::regex frame(R"(^ ?#\d+ \[[0-9a-f]+\] (\S+) at ([0-9a-f]+))");
    static const std::regex exception(R"(\[exception RIP: (\S+)\+(\d+)\])");
    std::vector<std::pair<std::string, std::uint64_t>> crash;  // function, pc (0: the exception RIP, by offset)
    std::size_t skipped = 0;
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
        if (std::regex_search(line, m, exception)) {
            crash.emplace_back(m[1], 0);
            CHECK(t.frames.at(0).where.symbol == m[1]);
            CHECK(t.frames.at(0).where.offset == std::stoull(m[2]));
        } else if (std::regex_search(line, m, frame)) {
            if (skip.count(m[1])) {
                ++skipped;
                for (const auto& f : t.frames) CHECK_MESSAGE(f.where.symbol != m[1], m[1].str() << " should differ");
                continue;
            }
            crash.emplace_back(m[1], *parse_hex(m[2].str()));
        }
    }
    CHECK(skipped == skip.size());
    std::vector<std::pair<std::string, std::uint64_t>> ours;  // kernel frames only: crash stops at the entry
    for (const auto& f : t.frames)
        if (f.kind != StackFrameKind::UserEntry) ours.emplace_back(f.where.symbol, f.kind == StackFrameKind::Interrupted ? 0 : f.pc);
    CHECK(ours == crash);
}

TEST_CASE("kaddr oops --vmcore: the dump's log reports decoded with the dump's layout; guilty frame = drgn's and crash's" *
          doctest::test_suite("vmlinux-x86_64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE(!root.empty());
    kt::TempFile out("oops.jsonl");
    const std::string cmd = std::string(KADDR_BINARY) + " oops --json --vmcore '" + kt::kdump_file("dump.flat") +
                            "' --debug-root '" + root + "' --ko '" + kt::kdump_file("ktoops.ko") + "' > " + out.path +
                            " 2>/dev/null";
    CHECK(std::system(cmd.c_str()) == 0);  // every kernel frame of every report resolved
    std::istringstream lines(kt::slurp(out.path));
    std::vector<nlohmann::json> records;
    for (std::string l; std::getline(lines, l);) records.push_back(nlohmann::json::parse(l));
    REQUIRE(records.size() == 4);  // the WARN, the NULL dereference, the stack, the dump's modules
    CHECK(records[3]["record"] == "dump_modules");
    CHECK(records[3]["dump_modules"]["modules"].size() == 19);
    const auto& guilty = records[1]["guilty"];  // drgn: ktoops_deref src=ktoops/ktoops.c:70:10
    CHECK(guilty["function"] == "ktoops_deref");
    CHECK(guilty["module"] == "ktoops");
    CHECK(guilty["file"] == "ktoops/ktoops.c");
    CHECK(guilty["line"] == 70);
    CHECK(records[1]["kernel_frames"] == records[1]["resolved_frames"]);
    const auto& stack = records[2]["crashed_thread"];
    CHECK(stack["pid"] == 660);
    const auto& top = stack["frames"][0]["resolution"];
    CHECK(top["symbol"] == "ktoops_deref");  // drgn #0, crash [exception RIP: ktoops_deref+6]
    CHECK(top.dump().find("ktoops/ktoops.c") != std::string::npos);
}

TEST_CASE("every CPU's stack from the dump equals drgn's bt -a" * doctest::test_suite("vmlinux-x86_64")) {
    const auto drgn = drgn_frames("truth/drgn-bt-a.txt");
    REQUIRE(drgn.size() == 2);
    auto snap = dump_snapshot(kt::kdump_file("vmcore.kdump-zlib"));
    Resolver res(*snap);
    const auto stacks = cpu_stacks(res);
    REQUIRE(stacks.size() == 2);
    for (const auto& t : stacks) {
        CAPTURE(t.cpu);
        CHECK(t.crashed == (t.cpu == 1));
        compare_with_drgn(t, drgn.at(static_cast<int>(t.cpu)), accepted("drgn"));
    }
}
