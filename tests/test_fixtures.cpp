// Fixtures built at test time from tests/fixtures/*.c: the expected answers
// come from the C source (MARK: comments), not from another tool.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "kaddr/resolver.h"
#include "support.h"

using namespace kaddr;

namespace {

std::unique_ptr<Snapshot> fixture_kernel() {
    SnapshotInputs si;
    si.vmlinux = kt::fixture("fxvmlinux");
    return load_snapshot(si);
}

std::uint64_t symbol_addr(const Snapshot& s, const std::string& name) {
    auto v = s.core.symbols.by_name(name);
    REQUIRE_MESSAGE(v.size() == 1, name);
    return v[0]->addr;
}

}  // namespace

TEST_CASE("fixture vmlinux alone: link-time addresses, two-deep inline chain") {
    auto snap = fixture_kernel();
    CHECK(snap->arch == Arch::X86_64);
    CHECK(!snap->core.vmlinux->build_id().empty());
    Resolver res(*snap);
    Resolution r = res.resolve_address(symbol_addr(*snap, "fx_in_leaf"));
    REQUIRE(r.locations.size() == 3);
    CHECK(r.locations[0].function == "fx_leaf");
    CHECK(r.locations[0].line == kt::marker_line("core_main.c", "leaf"));
    CHECK(r.locations[1].function == "fx_middle");
    CHECK(r.locations[1].line == kt::marker_line("core_main.c", "middle"));
    CHECK(r.locations[2].function == "fx_outer");
    CHECK(r.locations[2].line == kt::marker_line("core_main.c", "outer"));
    CHECK(kt::same_path(r.locations[0].file, "tests/fixtures/core_main.c"));
    CHECK(r.symbol == "fx_outer");  // the sized function, not the asm label
    CHECK(r.confidence == "exact");
    CHECK(r.found_by == std::vector<std::string>{"vmlinux symtab", "DWARF (vmlinux)"});
    bool says_link_time = false;
    for (const auto& n : r.notes) says_link_time = says_link_time || n.find("link-time") != std::string::npos;
    CHECK(says_link_time);
}

TEST_CASE("a static name defined twice lists both; the printed size picks one") {
    auto snap = fixture_kernel();
    Resolver res(*snap);
    auto both = snap->core.symbols.by_name("fx_dup");
    REQUIRE(both.size() == 2);
    CHECK(both[0]->size != both[1]->size);

    Resolution any = res.resolve_text("fx_dup+0x4");
    CHECK(any.candidates.size() == 2);
    CHECK(any.confidence == "guess");

    for (const Symbol* s : both) {
        Resolution r = res.resolve_text("fx_dup+0x4/" + hex(s->span));
        INFO(hex(s->span));
        CHECK(r.candidates.empty());
        REQUIRE(r.address);
        CHECK(*r.address == s->addr + 4);
        REQUIRE(!r.locations.empty());
        const bool main = kt::same_path(r.locations[0].file, "fixtures/core_main.c");
        CHECK(r.locations.back().function == "fx_dup");
        CHECK(r.locations[0].line ==
              (main ? kt::marker_line("core_main.c", "dup_main") : kt::marker_line("core_other.c", "dup_other")));
    }
}

TEST_CASE(".cold clone: symbol keeps its suffix, DWARF names the parent function") {
    auto snap = fixture_kernel();
    Resolver res(*snap);
    auto cold = snap->core.symbols.by_name("fx_hotcold.cold");
    REQUIRE(cold.size() == 1);
    Resolution r = res.resolve_address(cold[0]->addr);
    CHECK(r.symbol == "fx_hotcold.cold");
    REQUIRE(!r.locations.empty());
    CHECK(r.locations.back().function == "fx_hotcold");
    CHECK(r.locations[0].line >= kt::marker_line("core_main.c", "cold"));
    CHECK(r.locations[0].line <= kt::marker_line("core_main.c", "cold") + 2);
}

TEST_CASE("ET_REL stand-in module: reconstructed layout from a /proc/modules base") {
    auto dir = std::filesystem::temp_directory_path() / ("kaddr-fxmod-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "modules") << "fxmod 16384 0 - Live 0xffffffffc0100000 (OE)\n";
    std::ofstream(dir / "version") << "Linux version 6.1.0-fixture (gcc) #1 SMP\n";
    SnapshotInputs si;
    si.proc_modules = (dir / "modules").string();
    si.version = (dir / "version").string();
    si.arch = "x86_64";
    si.ko_files = {kt::fixture("fxmod.ko")};
    auto snap = load_snapshot(si);
    Resolver res(*snap);

    Resolution r = res.resolve_text("fxmod_work+0x0 [fxmod]");
    REQUIRE(r.address);
    CHECK(*r.address == 0xffffffffc0100000ULL);  // .text is first at the base
    CHECK(r.section == ".text");
    CHECK(r.confidence == "reconstructed-layout");
    CHECK(std::find(r.found_by.begin(), r.found_by.end(), "reconstructed layout") != r.found_by.end());
    REQUIRE(!r.locations.empty());
    CHECK(r.locations.back().function == "fxmod_work");

    // Data lives in its own page-aligned pass after text and rodata.
    Resolution d = res.resolve_text("fxmod_counter");
    REQUIRE(d.address);
    CHECK(d.section == ".data");
    CHECK(*d.address % 4096 == 0);
    CHECK(*d.address > 0xffffffffc0100000ULL);

    // .init.text has no known address: the init allocation is not in /proc/modules.
    Resolution i = res.resolve_text("fxmod_init [fxmod]");
    CHECK(i.error);
    std::filesystem::remove_all(dir);
}
