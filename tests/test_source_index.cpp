// The persisted source index must answer exactly as the DWARF path it
// replaces: every address of the fixtures, random addresses over the real
// Debian vmlinux and every module of the x86_64 capture. A damaged index
// answers from DWARF; an index is found by build-id and content whatever
// the debug file's path or mtime, and never used for a different file.
#include <doctest/doctest.h>
#include <elf.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "index/source_index_format.h"
#include "kaddr/image_index.h"
#include "kaddr/module_layout.h"
#include "kaddr/source_index.h"
#include "cli_run.h"
#include "support.h"

using namespace kaddr;
namespace fs = std::filesystem;

namespace {

std::string fresh_dir(const char* name) {
    auto d = fs::temp_directory_path() / (std::string("kaddr-srcidx-") + name + "-" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d.string();
}

std::string show(const std::vector<SourceLocation>& locs) {
    std::string s;
    for (const auto& l : locs) s += l.function + "@" + l.file + ":" + std::to_string(l.line) + ":" + std::to_string(l.column) + " < ";
    return s.empty() ? "(none)" : s;
}

// Compares the two sources on `addrs`; returns how many answers were non-empty.
std::size_t compare(LocationSource& dwarf, LocationSource& index, const std::vector<std::uint64_t>& addrs) {
    std::size_t located = 0, differ = 0;
    for (std::uint64_t a : addrs) {
        const auto want = dwarf.locate(a), got = index.locate(a);
        located += !want.empty();
        if (show(want) != show(got) && differ++ < 5)
            FAIL_CHECK("at " << hex(a) << ": DWARF " << show(want) << " index " << show(got));
    }
    CHECK(differ == 0);
    return located;
}

std::vector<std::uint64_t> every_address(std::uint64_t lo, std::uint64_t hi) {
    std::vector<std::uint64_t> v;
    for (std::uint64_t a = lo; a < hi; ++a) v.push_back(a);
    return v;
}

std::vector<std::uint64_t> random_addresses(std::uint64_t lo, std::uint64_t hi, std::size_t n, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::uint64_t> pick(lo, hi - 1);
    std::vector<std::uint64_t> v(n);
    for (auto& a : v) a = pick(rng);
    return v;
}

// The image's loaded sections as link-time [lo, hi), padded to take in what
// lies around them (the per-cpu section, linked at 0, left out).
std::pair<std::uint64_t, std::uint64_t> alloc_extent(const ElfFile& f) {
    std::uint64_t lo = ~0ull, hi = 0;
    for (const auto& s : f.sections())
        if ((s.flags & SHF_ALLOC) && s.size && s.addr >= 0x1000) {
            lo = std::min(lo, s.addr);
            hi = std::max(hi, s.addr + s.size);
        }
    return {lo - 0x40, hi + 0x40};
}

std::unique_ptr<IndexedSource> indexed(std::shared_ptr<const SourceIndex> idx, std::shared_ptr<const ElfFile> f,
                                       std::vector<PlacedSection> sections = {}) {
    const bool module = f->type() == ET_REL;
    return std::make_unique<IndexedSource>(
        idx, [f, sections] { return sections.empty() ? DwarfSource::for_image(f) : DwarfSource::for_module(f, sections); },
        sections, module);
}

void check_module(std::shared_ptr<const ElfFile> ko, const std::vector<PlacedSection>& sections,
                  const std::string& dir, std::size_t samples_per_section) {
    auto idx = SourceIndex::build(ko, dir, 1);
    REQUIRE(idx);
    auto dwarf = DwarfSource::for_module(ko, sections);
    auto index = indexed(idx, ko, sections);
    std::size_t located = 0;
    for (const auto& s : sections) {
        if (s.placement == Placement::Undetermined) continue;
        auto addrs = samples_per_section ? random_addresses(s.addr, s.addr + s.size + 1, samples_per_section, 7)
                                         : every_address(s.addr, s.addr + s.size + 8);
        addrs.push_back(s.addr);
        located += compare(*dwarf, *index, addrs);
    }
    INFO(ko->path());
    CHECK(located > 0);  // the comparison saw real answers, not only empty ones
}

}  // namespace

TEST_CASE("source index: every address of the fixture vmlinux answers as its DWARF") {
    const std::string dir = fresh_dir("fx");
    auto f = ElfFile::open(kt::fixture("fxvmlinux"));
    auto idx = SourceIndex::build(f, dir, 2);
    REQUIRE(idx);
    CHECK(fs::exists(idx->path()));
    CHECK(idx->stats().entries > 10);
    auto dwarf = DwarfSource::for_image(f);
    auto index = indexed(SourceIndex::open(*f, dir), f);
    const auto [lo, hi] = alloc_extent(*f);
    CHECK(compare(*dwarf, *index, every_address(lo, hi)) > 100);
    // The same bytes whatever the number of threads: a store shared by
    // hosts holds one index per debug file, whoever built it.
    const std::string other = fresh_dir("fx-3");
    REQUIRE(SourceIndex::build(f, other, 3));
    auto bytes = [](const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    };
    CHECK(bytes(SourceIndex::path_in(*f, other)) == bytes(idx->path()));
    fs::remove_all(other);
    fs::remove_all(dir);
}

TEST_CASE("source index: every address of a fixture module, in any layout, answers as its DWARF") {
    const std::string dir = fresh_dir("mod");
    auto ko = ElfFile::open(kt::fixture("served/fxbid.ko"));
    LayoutRules rules;
    rules.arch = Arch::X86_64;
    // The layout the kernel would give it at some base, and the relative one.
    check_module(ko, reconstruct_layout(*ko, 0xffffffffc0a00000ULL, rules), dir, 0);
    check_module(ko, relative_layout(*ko, rules), dir, 0);
    fs::remove_all(dir);
}

TEST_CASE("source index: named by build-id and content, not path or mtime; damage falls back to DWARF") {
    const std::string dir = fresh_dir("key");
    auto f = ElfFile::open(kt::fixture("fxvmlinux"));
    REQUIRE(SourceIndex::build(f, dir, 1));
    // The same bytes elsewhere, with another mtime: the same index.
    const std::string copy = dir + "/copy-of-vmlinux";
    fs::copy_file(kt::fixture("fxvmlinux"), copy);
    fs::last_write_time(copy, fs::file_time_type::clock::now() - std::chrono::hours(100));
    auto moved = ElfFile::open(copy);
    CHECK(SourceIndex::path_in(*moved, dir) == SourceIndex::path_in(*f, dir));
    CHECK(SourceIndex::open(*moved, dir));
    // Same build-id, other content (the debug sections stripped): not used.
    const std::string stripped = dir + "/stripped-vmlinux";
    REQUIRE(std::system(("objcopy --strip-debug " + kt::fixture("fxvmlinux") + " " + stripped).c_str()) == 0);
    auto other = ElfFile::open(stripped);
    CHECK(other->build_id() == f->build_id());
    CHECK(SourceIndex::path_in(*other, dir) != SourceIndex::path_in(*f, dir));
    CHECK(!SourceIndex::open(*other, dir));
    // A file planted under the right name for another file is refused by its header.
    fs::copy_file(SourceIndex::path_in(*f, dir), SourceIndex::path_in(*other, dir));
    CHECK(!SourceIndex::open(*other, dir));

    const std::string path = SourceIndex::path_in(*f, dir);
    const auto size = fs::file_size(path);
    auto damage = [&](std::uint64_t from, std::uint64_t to) {
        std::fstream io(path, std::ios::in | std::ios::out | std::ios::binary);
        for (std::uint64_t at = from; at < to; at += 97) {
            io.seekp(static_cast<std::streamoff>(at));
            io.put('\x5a');
        }
    };
    const std::string pristine = [&] {
        std::ifstream in(path, std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }();
    // The fixture's payload is one 64 KiB page, checked with the block
    // table when the index is opened: damage anywhere in it is refused
    // there. (Damage found later, page by page, is tested on the real
    // vmlinux below.)
    damage(size / 2, size);
    CHECK(!SourceIndex::open(*f, dir));
    // Damage in the block table: refused.
    std::ofstream(path, std::ios::binary | std::ios::trunc) << pristine;
    REQUIRE(SourceIndex::open(*f, dir));
    damage(sizeof(SourceIndex::Header) + 8 + 3, sizeof(SourceIndex::Header) + 8 + 4);
    CHECK(!SourceIndex::open(*f, dir));
    // A truncated file is refused outright.
    fs::resize_file(path, size / 2);
    CHECK(!SourceIndex::open(*f, dir));
    fs::remove_all(dir);
}

TEST_CASE("source index: random addresses on the real vmlinux and every module answer as DWARF" *
          doctest::test_suite("vmlinux-x86_64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE(!root.empty());
    const std::string dir = fresh_dir("real");
    auto snap = kt::load_capture("deb12-6.1.0-56-cloud", "capture-1", root);
    REQUIRE(snap->core.vmlinux);
    auto vmlinux = snap->core.vmlinux;
    auto image = image_index(*vmlinux, dir);
    REQUIRE(image);
    auto idx = SourceIndex::build(vmlinux, dir, 2, image->cus);
    REQUIRE(idx);
    MESSAGE("vmlinux source index: " << idx->stats().entries << " entries, " << idx->stats().bytes << " bytes");
    auto dwarf = DwarfSource::for_image(vmlinux, image->cus, image->storage);
    auto cus = image->cus;
    auto keep = image->storage;
    IndexedSource index(SourceIndex::open(*vmlinux, dir),
                        [vmlinux, cus, keep] { return DwarfSource::for_image(vmlinux, cus, keep); });
    const auto [lo, hi] = alloc_extent(*vmlinux);
    std::uint64_t text_lo = 0, text_hi = 0;
    for (const auto& s : vmlinux->sections())
        if (s.name == ".text") text_lo = s.addr, text_hi = s.addr + s.size;
    REQUIRE(text_hi > text_lo);
    auto addrs = random_addresses(text_lo, text_hi, 30000, 1);
    const auto anywhere = random_addresses(lo, hi, 5000, 2);
    addrs.insert(addrs.end(), anywhere.begin(), anywhere.end());
    // About 72% of .text lies in some compile unit's ranges (gdb, addr2line
    // and llvm-symbolizer locate the same 215 of 300 random addresses; the
    // rest is code without DWARF), and little outside .text does.
    CHECK(compare(*dwarf, index, addrs) > 20000);
    {
        // Damage in the middle of the 11 MB file (entries), found when a
        // lookup first reads that page: those answers come from DWARF.
        const std::string path = SourceIndex::path_in(*vmlinux, dir);
        const auto size = fs::file_size(path);
        {
            std::fstream io(path, std::ios::in | std::ios::out | std::ios::binary);
            for (std::uint64_t at = size / 3; at < size / 3 + 300000; at += 4093) {
                io.seekp(static_cast<std::streamoff>(at));
                io.put('\x5a');
            }
        }
        auto damaged = SourceIndex::open(*vmlinux, dir);
        REQUIRE(damaged);
        IndexedSource fallback(damaged, [vmlinux, cus, keep] { return DwarfSource::for_image(vmlinux, cus, keep); });
        CHECK(compare(*dwarf, fallback, addrs) > 20000);
        REQUIRE(SourceIndex::build(vmlinux, dir, 2, image->cus));  // whole again for the modules below
    }

    std::size_t modules = 0;
    for (const auto& m : snap->modules) {
        if (!m->ko || !m->ko->has_dwarf()) continue;
        ++modules;
        check_module(m->ko, m->sections, dir, 3000);
    }
    CHECK(modules >= 15);
    fs::remove_all(dir);
}

TEST_CASE("kaddr index builds, keeps and reports indexes; resolve answers the same from them") {
    const std::string dir = fresh_dir("cli");
    const std::string mods = dir + "/mods";
    fs::create_directories(mods);
    fs::copy_file(kt::fixture("served/fxbid.ko"), mods + "/fxbid.ko");
    fs::copy_file(kt::fixture("fxmod.ko"), mods + "/fxmod.ko");  // no build-id: cannot be keyed
    const std::string store = dir + "/store";
    const std::string args = "index --index-dir " + store + " --vmlinux " + kt::fixture("fxvmlinux") + " " + mods;
    kt::Run first = kt::run(args + " 2>" + dir + "/err.txt");
    CHECK(first.status == 1);  // fxmod.ko failed; the others were still indexed
    CHECK(first.out.find("built\t" + kt::fixture("fxvmlinux")) != std::string::npos);
    CHECK(first.out.find("built\t" + mods + "/fxbid.ko") != std::string::npos);
    CHECK(first.out.find("failed\t" + mods + "/fxmod.ko") != std::string::npos);
    std::ifstream err(dir + "/err.txt");
    const std::string errors((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
    CHECK(errors.find("fxmod.ko: has no build-id") != std::string::npos);
    kt::Run again = kt::run(args);
    CHECK(again.out.find("current\t" + kt::fixture("fxvmlinux")) != std::string::npos);
    const std::string q = "resolve --vmlinux " + kt::fixture("fxvmlinux") + " fx_outer fx_in_leaf fx_dup+0x4 0xffffffff81000075";
    kt::Run plain = kt::run(q + " --no-index");
    kt::Run indexed = kt::run(q + " --index-dir " + store);
    CHECK(plain.status == 0);
    CHECK(indexed.out == plain.out);
    // Inputs that are no debug file: one failed line each, naming the file;
    // the good file in the same run is still reported.
    const std::string text = dir + "/notes.txt";
    std::ofstream(text) << "not an ELF file\n";
    kt::Run bad = kt::run("index --index-dir " + store + " " + text + " " + dir + "/missing.ko --vmlinux " +
                          kt::fixture("fxvmlinux") + " 2>&1");
    CHECK(bad.status == 1);
    CHECK(bad.out.find("failed\t" + text) != std::string::npos);
    CHECK(bad.out.find("kaddr: " + text + ": ") != std::string::npos);
    CHECK(bad.out.find("failed\t" + dir + "/missing.ko") != std::string::npos);
    CHECK(bad.out.find("current\t" + kt::fixture("fxvmlinux")) != std::string::npos);
    kt::Run nothing = kt::run("index --index-dir " + store + " 2>&1");
    CHECK(nothing.status == 2);
    CHECK(nothing.out.find("nothing to index") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("kaddr index takes resolve's inputs and indexes the debug files that configuration uses") {
    const std::string dir = fresh_dir("inputs");
    const std::string cap = kt::testdata("captures/deb12-6.1.0-56-cloud/");
    // What a user just ran `kaddr resolve` with: a capture and the module files.
    kt::Run r = kt::run("index --index-dir " + dir + " --snapshot " + cap + "capture-1/snapshot --modules " + cap +
                        "ktoops 2>&1");
    CHECK(r.status == 0);
    CHECK(r.out.find("built\t" + cap + "ktoops/ktoops.ko") != std::string::npos);  // the loaded module with a file
    CHECK(r.out.find("unrecognised") == std::string::npos);
    // The same configuration later: current, and resolve answers from it.
    kt::Run again = kt::run("index --index-dir " + dir + " --snapshot " + cap + "capture-1/snapshot --modules " + cap + "ktoops");
    CHECK(again.out.find("current\t" + cap + "ktoops/ktoops.ko") != std::string::npos);
    fs::remove_all(dir);
}
