// The persisted vmlinux index must never change an answer: the same inputs
// resolve identically with and without it, on a fixture and on the real
// Debian vmlinux; a damaged index file is ignored and rebuilt.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "kaddr/report.h"
#include "kaddr/resolver.h"
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
