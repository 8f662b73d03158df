// The loaded modules walked from the real dump's `modules` list with the
// struct offsets of the -dbg vmlinux's DWARF, against drgn 0.0.22's list of
// the same dump (truth/drgn-modules.txt: layout and every sect_attrs
// address) and crash 8.0.2's `mod` (base and size); then the snapshot built
// from the dump alone resolves the oops's frames exactly.
#include <regex>
#include <sstream>

#include <fstream>

#include "kaddr/error.h"
#include "kaddr/inputs.h"
#include "kaddr/lexemes.h"
#include "kaddr/resolver.h"
#include "kaddr/snapshot.h"
#include "kaddr/vmcore_facts.h"
#include "vmcore_support.h"

using namespace kaddr;

namespace {

struct TruthModule {
    std::uint64_t base = 0, size = 0, text_size = 0, ro_size = 0, ro_after_init_size = 0;
    std::map<std::string, std::uint64_t> sections;
};

std::map<std::string, TruthModule> drgn_modules() {
    std::map<std::string, TruthModule> out;
    std::istringstream in(kt::slurp(kt::kdump_file("truth/drgn-modules.txt")));
    static const std::regex mod(R"(^module (\S+) state=MODULE_STATE_LIVE core_layout\.base=(0x[0-9a-f]+) size=(0x[0-9a-f]+) )"
                                R"(text_size=(0x[0-9a-f]+) ro_size=(0x[0-9a-f]+) ro_after_init_size=(0x[0-9a-f]+))");
    static const std::regex sect(R"(^  section (\S+) +(0x[0-9a-f]+)$)");
    TruthModule* cur = nullptr;
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
        if (std::regex_search(line, m, mod)) {
            cur = &out[m[1]];
            cur->base = *parse_hex(m[2].str());
            cur->size = *parse_hex(m[3].str());
            cur->text_size = *parse_hex(m[4].str());
            cur->ro_size = *parse_hex(m[5].str());
            cur->ro_after_init_size = *parse_hex(m[6].str());
        } else if (cur && std::regex_search(line, m, sect)) {
            cur->sections[m[1]] = *parse_hex(m[2].str());
        }
    }
    return out;
}

std::string debug_root() {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE_MESSAGE(!root.empty(), "run through tests/run-vmlinux-tier.sh x86_64");
    return root;
}

SnapshotInputs dump_inputs(const std::string& dump) {
    SnapshotInputs in;
    in.vmcore = dump;
    in.debug_root = debug_root();
    in.ko_files.push_back(kt::kdump_file("ktoops.ko"));
    return in;
}

}  // namespace

TEST_CASE("modules and every section address from the dump equal drgn's and crash's" * doctest::test_suite("vmlinux-x86_64")) {
    const auto truth = drgn_modules();
    REQUIRE(truth.size() == 19);
    for (const std::string& dump : {kt::kdump_file("vmcore.kdump-zlib"), kt::kdump_file("dump.flat"), kt::elf_vmcore()}) {
        CAPTURE(dump);
        SnapshotInputs in = dump_inputs(dump);
        auto f = read_vmcore_facts(in);
        CHECK(f->modules_walked);
        REQUIRE(f->modules.size() == truth.size());
        CHECK(f->modules.front().name == "ktoops");  // the list head: the newest module
        std::size_t sections = 0;
        for (const auto& m : f->modules) {
            CAPTURE(m.name);
            auto t = truth.find(m.name);
            REQUIRE(t != truth.end());
            CHECK(m.state == 0);
            CHECK(m.base == t->second.base);
            CHECK(m.size == t->second.size);
            CHECK(m.text_size == t->second.text_size);
            CHECK(m.ro_size == t->second.ro_size);
            CHECK(m.ro_after_init_size == t->second.ro_after_init_size);
            CHECK(m.sections == t->second.sections);
            sections += m.sections.size();
        }
        CHECK(sections > 400);
    }
    // crash `mod`: MODULE NAME BASE SIZE, read from the same dump.
    std::istringstream crash(kt::slurp(kt::kdump_file("truth/crash-mod.txt")));
    auto f = read_vmcore_facts(dump_inputs(kt::kdump_file("vmcore.kdump-zlib")));
    std::string line;
    std::getline(crash, line);
    std::size_t rows = 0;
    while (std::getline(crash, line)) {
        std::istringstream w(line);
        std::string addr, name, base;
        std::uint64_t size = 0;
        if (!(w >> addr >> name >> base >> size)) continue;
        ++rows;
        bool found = false;
        for (const auto& m : f->modules)
            if (m.name == name) {
                found = true;
                CHECK(m.base == *parse_hex(base));
                CHECK(m.size == size);
            }
        CHECK_MESSAGE(found, name);
    }
    CHECK(rows == 19);
}

TEST_CASE("the snapshot from a dump alone: KASLR, release and exact module layout from the dump" * doctest::test_suite("vmlinux-x86_64")) {
    auto snap = load_snapshot(dump_inputs(kt::kdump_file("dump.flat")));
    CHECK(snap->version.release == "6.1.0-56-cloud-amd64");
    CHECK(snap->core.kaslr_offset == 0x2f400000);
    CHECK(snap->core.kaslr_how.find("VMCOREINFO KERNELOFFSET") == 0);
    const Module* k = snap->module_named("ktoops");
    REQUIRE(k);
    CHECK(k->layout == Placement::Exact);
    CHECK(k->exact_from == "vmcore");
    Resolver res(*snap);
    // drgn frame #0 and #5/#6 of the crashed thread (truth/drgn-bt.txt).
    Resolution r = res.resolve_address(0xffffffffc0b30046ULL);
    CHECK(r.symbol == "ktoops_deref");
    CHECK(r.offset == 6);
    REQUIRE(!r.locations.empty());
    CHECK(r.locations.back().line == 70);
    CHECK(r.confidence == "exact");
    r = res.resolve_address(0xffffffffb07eacb6ULL);
    CHECK(r.symbol == "proc_reg_write");
    CHECK(r.offset == 0x56);
}

TEST_CASE("a dump of another kernel than the vmlinux is refused naming the vmlinux" * doctest::test_suite("vmlinux-x86_64")) {
    // ktoops.ko stands in for a wrong vmlinux: an ELF file whose build-id is
    // not the dump's. The check is on the build-id alone, as it should be.
    auto dump = std::shared_ptr<const Vmcore>(Vmcore::open(kt::kdump_file("vmcore.kdump-zlib")));
    auto other = ElfFile::open(kt::kdump_file("ktoops.ko"));
    REQUIRE(!other->build_id().empty());
    std::string e;
    try {
        check_build_id(*dump, *other);
    } catch (const Error& err) {
        e = err.what();
    }
    CHECK(e.find(kt::kdump_file("ktoops.ko")) == 0);
    CHECK(e.find("is not the kernel of") != std::string::npos);
    CHECK(e.find("3b43fad5034874490492495d552c0af6a5fab235") != std::string::npos);
}

TEST_CASE("the dump's modules equal the live system's /proc/modules and sysfs sections captured before the crash" *
          doctest::test_suite("vmlinux-x86_64")) {
    std::ifstream pm(kt::kdump_file("proc_modules.txt")), ss(kt::kdump_file("sys_module_sections.txt"));
    const auto procs = parse_proc_modules(pm, "proc_modules.txt");
    const auto sysfs = parse_section_list(ss, "sys_module_sections.txt");
    auto f = read_vmcore_facts(dump_inputs(kt::kdump_file("vmcore.kdump-zlib")));
    REQUIRE(procs.size() == f->modules.size());
    for (const auto& p : procs) {
        CAPTURE(p.name);
        const VmcoreModule* m = nullptr;
        for (const auto& vm : f->modules)
            if (vm.name == p.name) m = &vm;
        REQUIRE(m);
        CHECK(m->base == p.base);
        CHECK(m->size + m->init_size == p.size);
        CHECK(module_state_name(m->state) == p.state);
        CHECK(m->taint == p.taint);  // ktoops: (OE)
        REQUIRE(sysfs.count(p.name));
        CHECK(m->sections == sysfs.at(p.name));
    }
}
