// The kernels people run: Debian's 6.1 and 6.12 (a 6.4+ kernel, whose
// modules' memory is split by type) booted with test modules kaddr has never
// seen (ktkinds, ktoops), their reports checked frame by frame against gdb
// and addr2line under every set of inputs a user may have. The captures
// live in ../shared/captures (the kinds sets); the -dbg packages come from
// scripts/fetch-debug.sh (tiers vmlinux-x86_64 and vmlinux-x86_64-6.12).
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "cli_run.h"
#include "kaddr/lexemes.h"
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

namespace {

// What gdb says is at each address once it has read the add-symbol-file
// lines kaddr printed: `info symbol` (its ELF symbols moved by the lines'
// section addresses; gdb 13 misplaces a relocatable file's DWARF
// variables, so `info address` is no judge here).
std::map<std::uint64_t, std::string> gdb_symbols_at(const std::string& add_symbol_file,
                                                     const std::vector<std::uint64_t>& addrs) {
    std::string cmd = "gdb -batch -nx -ex 'set confirm off' -ex 'set architecture i386:x86-64'";
    std::istringstream lines(add_symbol_file);
    for (std::string l; std::getline(lines, l);)
        if (l.starts_with("add-symbol-file ")) cmd += " -ex '" + l + "'";
    for (auto a : addrs) cmd += " -ex 'echo @" + hex(a) + "\\n' -ex 'info symbol " + hex(a) + "'";
    cmd += " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buf[4096];
    for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    pclose(p);
    std::map<std::uint64_t, std::string> got;
    std::istringstream in(out);
    std::uint64_t at = 0;
    for (std::string l; std::getline(in, l);)
        if (l.starts_with("@")) at = *parse_hex(l.substr(1));
        else if (at && !got.count(at)) got[at] = l;
    return got;
}

}  // namespace

TEST_CASE("gdb-symbols on 6.1 and 6.12: gdb accepts the lines and puts text, data, rodata and bss where sysfs says") {
    REQUIRE_MESSAGE(std::system("gdb --version > /dev/null 2>&1") == 0, "gdb is needed (scripts/install-deps.sh installs it)");
    // ktoops: one symbol in each kind of section (ktoops.c), their sections' sysfs addresses + st_value as truth.
    const std::vector<std::string> syms = {"ktoops_deref", "ktoops_counter", "ktoops_table", "ktoops_hits"};
    for (const char* set : kSets) {
        const kt::Capture c = kt::captures_of(set).front();
        std::string ko;
        for (const auto& f : c.module_files)
            if (f.ends_with("/ktoops.ko")) ko = f;
        REQUIRE(!ko.empty());
        std::ifstream ss(c.file("sys_module_sections.txt"));
        const auto sysfs = parse_section_list(ss, "sys_module_sections.txt").at("ktoops");
        auto elf = ElfFile::open(ko);
        std::map<std::uint64_t, std::string> want;  // address -> "sym in section .sec"
        for (const auto& e : elf->symbols())
            if (std::find(syms.begin(), syms.end(), e.name) != syms.end()) {
                const std::string& sec = elf->sections()[e.section].name;
                want[sysfs.at(sec) + e.value] = std::string(e.name) + " in section " + sec;
            }
        REQUIRE(want.size() == syms.size());
        std::vector<std::uint64_t> addrs;
        for (const auto& [a, unused] : want) addrs.push_back(a);
        // The whole capture (exact), then /proc/modules + kallsyms + the
        // release (reconstructed; on 6.12 data, rodata and bss placed by kallsyms).
        for (const std::string& inputs :
             {"--proc-modules " + c.file("proc_modules.txt") + " --sections " + c.file("sys_module_sections.txt"),
              "--proc-modules " + c.file("proc_modules.txt") + " --kallsyms " + c.file("kallsyms.txt") +
                  " --proc-version " + c.file("version.txt")}) {
            CAPTURE(set);
            CAPTURE(inputs);
            kt::Run r = kt::run("gdb-symbols " + inputs + " --ko " + ko + " ktoops");
            CHECK(r.status == 0);
            CHECK(gdb_symbols_at(r.out, addrs) == want);
        }
    }
}

TEST_CASE("arm64's address map ends with vmemmap's 2 TB: above it is a guard region") {
    CHECK(static_region(Arch::Arm64, 0xfffffc0000000000ULL, false).name == "vmemmap");
    CHECK(static_region(Arch::Arm64, 0xfffffdffffffffffULL, false).name == "vmemmap");
    CHECK(static_region(Arch::Arm64, 0xfffffe0000000000ULL, false).name == "guard region (unmapped)");
    CHECK(static_region(Arch::Arm64, 0xffffffffffffffffULL, false).name == "guard region (unmapped)");
}

TEST_CASE("an address in a module known only by /proc/modules names the module, not 'outside every module'") {
    const kt::Capture c = kt::captures_of("deb12-6.12.118-cloud-kinds").front();
    SnapshotInputs in;
    in.proc_modules = c.file("proc_modules.txt");
    in.version = c.file("version.txt");
    auto snap = load_snapshot(in);
    const Module* m = snap->module_named("ktoops");
    REQUIRE(m);
    REQUIRE(m->proc);
    const Resolution r = Resolver(*snap).resolve_address(m->proc->base + 0x10);
    CHECK(r.module == "ktoops");
    REQUIRE(r.error);
    CHECK(r.error->find("module ktoops") != std::string::npos);
    CHECK(r.error->find("outside") == std::string::npos);
    CHECK(r.error_code == ResolveErrorCode::UnknownSymbol);
}
