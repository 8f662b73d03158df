// The persisted vmlinux index must never change an answer: the same inputs
// resolve identically with and without it, on a fixture and on the real
// Debian vmlinux (with the source indexes of vmlinux and modules too); a
// damaged index file is ignored and rebuilt.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "kaddr/report.h"
#include "kaddr/resolver.h"
#include "kaddr/symbol_table.h"
#include "support.h"

using namespace kaddr;
namespace fs = std::filesystem;

namespace {

std::string resolve_all(const SnapshotInputs& si, const std::vector<std::string>& inputs) {
    auto snap = load_snapshot(si);
    Resolver r(*snap);
    std::string out;
    for (const auto& in : inputs) out += to_json(r.resolve_text(in)).dump() + "\n";
    return out;
}

std::string temp_dir(const char* name) {
    auto d = fs::temp_directory_path() / (std::string("kaddr-") + name + "-" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d.string();
}

void check_index_identical(SnapshotInputs si, const std::vector<std::string>& inputs) {
    const std::string dir = temp_dir("index");
    si.index_dir = dir;
    si.use_index = false;
    const std::string plain = resolve_all(si, inputs);
    si.use_index = true;
    const std::string first = resolve_all(si, inputs);   // builds and saves
    REQUIRE(!fs::is_empty(dir));
    const std::string second = resolve_all(si, inputs);  // loads the file
    CHECK(first == plain);
    CHECK(second == plain);
    // With the source indexes of vmlinux and the modules: built, then read.
    si.build_source_index = true;
    CHECK(resolve_all(si, inputs) == plain);
    si.build_source_index = false;
    CHECK(resolve_all(si, inputs) == plain);
    // Damage the file: it must be ignored (rebuilt), never trusted.
    for (const auto& e : fs::directory_iterator(dir)) {
        std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(fs::file_size(e.path()) / 2));
        f.put('\x7f').put('\x13').put('\x37');
    }
    CHECK(resolve_all(si, inputs) == plain);
    fs::remove_all(dir);
}

}  // namespace

TEST_CASE("persisted index: identical answers on the fixture vmlinux") {
    SnapshotInputs si;
    si.vmlinux = kt::fixture("fxvmlinux");
    check_index_identical(si, {"fx_outer", "fx_in_leaf", "fx_dup+0x4", "fx_hotcold.cold", "0xffffffff81000075",
                               "0xffffffff81000000", "0xffffffff81000200", "fx_other+0x3/0x9"});
}

TEST_CASE("persisted index: identical answers on the real vmlinux" * doctest::test_suite("vmlinux-x86_64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE(!root.empty());
    SnapshotInputs si;
    const std::string cap = kt::testdata("captures/deb12-6.1.0-56-cloud/capture-1/");
    si.snapshot_dir = cap + "snapshot";
    si.debug_root = root;
    std::vector<std::string> inputs;
    for (auto& row : kt::read_tsv(cap + "groundtruth/oops-frames.tsv")) inputs.push_back(row["runtime_addr"]);
    // Addresses in gaps between compile units and past the text, too.
    for (std::uint64_t a = 0xffffffff99200000ULL; a < 0xffffffff9a100000ULL; a += 0x3f1d)
        inputs.push_back(hex(a));
    check_index_identical(si, inputs);
}

TEST_CASE("a packed symbol table answers like a built one, and damaged records read as unnamed") {
    // Three functions and an alias, as the index stores them: link-time
    // addresses, names as offsets into a string section.
    const std::string strtab = std::string("\0alpha\0beta\0beta_alias\0gamma\0", 30);
    const std::vector<PackedSymbol> records = {
        {0x1000, 0x10, 0x10, 1, 5, 1, 1, 7, 0},   // alpha
        {0x1010, 0x20, 0x20, 7, 4, 1, 1, 7, 0},   // beta
        {0x1010, 0x20, 0x20, 12, 10, 1, 1, 6, 0}, // beta_alias
        {0x1030, 0x8, 0x8, 23, 5, 1, 1, 7, 0},    // gamma
    };
    const std::vector<std::uint32_t> by_name = {0, 1, 2, 3};
    SymbolTable built;
    for (const auto& r : records)
        built.add({r.addr + 0x500000, r.size, true, true, r.rank == 7, std::string_view(strtab).substr(r.name_off, r.name_len), false});
    built.finalize(0x1038 + 0x500000);
    SymbolTable packed;
    packed.adopt_packed(records, by_name, strtab, 0x500000, nullptr);
    REQUIRE(packed.size() == built.size());
    for (std::uint64_t a = 0x500ff0; a < 0x501040; ++a) {
        const Symbol* p = packed.lookup(a);
        const Symbol* b = built.lookup(a);
        REQUIRE((p == nullptr) == (b == nullptr));
        if (!p) continue;
        CHECK(p->name == b->name);
        CHECK(p->addr == b->addr);
        CHECK(p->size == b->size);
        CHECK(packed.aliases(*p).size() == built.aliases(*b).size());
        // find(): lookup(), nearest() and aliases() in one search.
        for (const SymbolTable* t : {&packed, &built}) {
            const SymbolTable::Found f = t->find(a);
            CHECK(f.symbol == t->lookup(a));
            CHECK(f.nearest == t->nearest(a));
            CHECK(f.aliases == t->aliases(*f.symbol));
        }
    }
    CHECK(packed.find(0x500fff).symbol == nullptr);
    CHECK(packed.lookup(0x501014) == packed.lookup(0x501015));  // one object per symbol
    REQUIRE(packed.by_name("beta_alias").size() == 1);
    CHECK(packed.by_name("beta_alias")[0]->addr == 0x501010);
    CHECK(packed.by_name("delta").empty());
    CHECK(packed.all().size() == 4);

    // A damaged file whose checksum still matched: a name past the string
    // section and a permutation entry past the records.
    std::vector<PackedSymbol> bad = records;
    bad[3].name_off = 1000;
    const std::vector<std::uint32_t> bad_names = {0, 1, 2, 99};
    SymbolTable damaged;
    damaged.adopt_packed(bad, bad_names, strtab, 0, nullptr);
    REQUIRE(damaged.lookup(0x1031));
    CHECK(damaged.lookup(0x1031)->name.empty());
    CHECK(damaged.by_name("gamma").empty());
    CHECK(damaged.by_name("alpha").size() == 1);
}
