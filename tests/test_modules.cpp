// Finding module files: compressed .ko, several candidates (the one whose
// layout matches sysfs wins, and the choice is said), build-id mismatches,
// and data addresses in a module's .rodata.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "kaddr/oops_explain.h"
#include "kaddr/resolver.h"
#include "model/module_finder.h"
#include "support.h"

using namespace kaddr;
namespace fs = std::filesystem;

namespace {

const std::string kCap = kt::testdata("captures/deb12-6.1.0-56-cloud/");

std::string temp_dir(const char* name) {
    auto d = fs::temp_directory_path() / (std::string("kaddr-") + name + "-" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d.string();
}

SnapshotInputs capture_inputs() {
    SnapshotInputs si;
    si.snapshot_dir = kCap + "capture-1/snapshot";
    return si;
}

// The capture with module files searched in `dir`; ktoops must be found.
std::unique_ptr<Snapshot> capture_with_modules(const std::string& dir) {
    SnapshotInputs si = capture_inputs();
    si.module_dirs = {dir};
    auto snap = load_snapshot(si);
    const Module* m = snap->module_named("ktoops");
    REQUIRE(m);
    REQUIRE(m->ko);
    return snap;
}

std::unique_ptr<Snapshot> capture_with_ktoops() {
    SnapshotInputs si = capture_inputs();
    si.ko_files = {kCap + "ktoops/ktoops.ko"};
    return load_snapshot(si);
}

}  // namespace

TEST_CASE("compressed modules (.ko.xz, .ko.zst, .ko.gz) are found and read") {
    for (const char* tool : {"xz", "zstd", "gzip"}) {
        const std::string dir = temp_dir(tool);
        fs::create_directories(dir + "/kernel/misc");
        const std::string ko = dir + "/kernel/misc/ktoops.ko";
        fs::copy_file(kCap + "ktoops/ktoops.ko", ko);
        const std::string cmd = std::string(tool) + " -q " + ko + (std::string(tool) == "zstd" ? " --rm" : "");
        if (std::system(cmd.c_str()) != 0) {
            MESSAGE("SKIPPED: " << tool << " is not installed");
            continue;
        }
        INFO(tool);
        REQUIRE(!fs::exists(ko));
        auto snap = capture_with_modules(dir);
        Resolution r = Resolver(*snap).resolve_text("ktoops_deref+0x6/0x30 [ktoops]");
        REQUIRE(!r.locations.empty());
        CHECK(r.locations[0].line == 70);
        CHECK(r.confidence == "exact");
        fs::remove_all(dir);
    }
}

TEST_CASE("several candidate files: the one matching the loaded layout is chosen, and said") {
    const std::string dir = temp_dir("candidates");
    fs::create_directories(dir + "/a");
    fs::create_directories(dir + "/b");
    // Same name, another build: two more pages of code move every section
    // of the later passes, so its layout cannot reproduce sysfs.
    const std::string pad = dir + "/pad.bin";
    std::ofstream(pad) << std::string(8192, '\xcc');
    const std::string cmd = "objcopy --add-section .text.kaddr_pad=" + pad +
                            " --set-section-flags .text.kaddr_pad=alloc,code,readonly " + kCap + "ktoops/ktoops.ko " + dir +
                            "/a/ktoops.ko";
    REQUIRE(std::system(cmd.c_str()) == 0);
    fs::copy_file(kCap + "ktoops/ktoops.ko", dir + "/b/ktoops.ko");
    auto snap = capture_with_modules(dir);
    CHECK(snap->module_named("ktoops")->ko->path() == dir + "/b/ktoops.ko");
    bool said = false;
    for (const auto& n : snap->notes) said = said || (n.find("chose " + dir + "/b/ktoops.ko") != std::string::npos &&
                                                      n.find("differ from sysfs") != std::string::npos);
    CHECK(said);
    fs::remove_all(dir);
}

TEST_CASE("a module file of another architecture is never a candidate, and is said loudly") {
    const std::string dir = temp_dir("foreign");
    fs::copy_file(kt::testdata("captures/deb12-6.1.0-56-arm64/ktoops/ktoops.ko"), dir + "/ktoops.ko");
    SnapshotInputs si = capture_inputs();  // an x86_64 capture
    si.module_dirs = {dir};
    auto snap = load_snapshot(si);
    REQUIRE(snap->module_named("ktoops"));
    CHECK_FALSE(snap->module_named("ktoops")->ko);
    bool said = false;
    for (const auto& n : snap->notes)
        said = said || (n.starts_with("WARNING: module ktoops: skipped") && n.find("arm64 module, the kernel is x86_64") != std::string::npos);
    CHECK(said);
    fs::remove_all(dir);
}

TEST_CASE("a frame's build id that differs from the module file's is reported loudly") {
    auto snap = capture_with_ktoops();
    REQUIRE(snap->module_named("ktoops")->ko->build_id() == "cd6c5299ba08f3643886b9e1cf6f7bbf906f258f");
    std::istringstream good(" ktoops_write+0x59/0xb0 [ktoops cd6c5299ba08f3643886b9e1cf6f7bbf906f258f]\n");
    std::istringstream bad(" ktoops_write+0x59/0xb0 [ktoops 0123456789abcdef0123456789abcdef01234567]\n");
    Resolver resolver(*snap);
    auto note_of = [&](std::istream& in) {
        std::string text((std::istreambuf_iterator<char>(in)), {});
        std::istringstream s("BUG: kernel NULL pointer dereference, address: 0000000000000004\nCall Trace:\n" + text);
        auto reports = parse_reports(s);
        REQUIRE(reports.size() == 1);
        REQUIRE(reports[0].frames.size() == 1);
        CHECK(reports[0].frames[0].symbol->build_id.size() == 40);
        ExplainedReport e = explain(reports[0], resolver);
        std::string all;
        for (const auto& n : e.frames[0].resolution.notes) all += n;
        return all;
    };
    CHECK(note_of(good).find("BUILD-ID MISMATCH") == std::string::npos);
    CHECK(note_of(bad).find("BUILD-ID MISMATCH") != std::string::npos);
}

TEST_CASE("a fault address in a module's .rodata comes out as symbol+off [mod] .rodata") {
    auto snap = capture_with_ktoops();
    const Module* m = snap->module_named("ktoops");
    REQUIRE(m);
    // A data object of ktoops.c that lives in .rodata, from the module's own symbol table.
    const Symbol* data = nullptr;
    const PlacedSection* rodata = nullptr;
    for (const auto& s : m->sections)
        if (s.name == ".rodata") rodata = &s;
    REQUIRE(rodata);
    for (const auto& s : m->symbols().all())
        if (!s.is_function && s.addr >= rodata->addr && s.addr < rodata->addr + rodata->size && s.size > 4) data = &s;
    REQUIRE(data);
    std::istringstream text("BUG: unable to handle page fault for address: " + hex(data->addr + 4).substr(2) +
                            "\n#PF: supervisor write access in kernel mode\nCall Trace:\n ktoops_write+0x59/0xb0 [ktoops]\n");
    auto reports = parse_reports(text);
    REQUIRE(reports.size() == 1);
    ExplainedReport e = explain(reports[0], Resolver(*snap));
    REQUIRE(e.fault);
    CHECK(e.fault->module == std::optional<std::string>("ktoops"));
    CHECK(e.fault->section == ".rodata");
    CHECK(e.fault->symbol == data->name);
    CHECK(e.fault->offset == 4);
}

TEST_CASE("module directory scan: nested, trailing slash, symlinks followed for files only") {
    const std::string dir = temp_dir("scan");
    fs::create_directories(dir + "/kernel/drivers/misc");
    fs::create_directories(dir + "/other");
    std::ofstream(dir + "/kernel/drivers/misc/dm-mod.ko") << "x";
    std::ofstream(dir + "/kernel/drivers/misc/notes.txt") << "x";
    std::ofstream(dir + "/other/ext4.ko.xz") << "x";
    fs::create_symlink(dir + "/other/ext4.ko.xz", dir + "/kernel/linked.ko.zst");  // a file symlink: listed
    fs::create_directory_symlink(dir, dir + "/kernel/loop");                        // a directory symlink: not followed
    ModuleFiles found;
    scan_module_dir(dir + "/", found);
    REQUIRE(found.size() == 3);
    CHECK(found["dm_mod"] == std::vector<std::string>{dir + "/kernel/drivers/misc/dm-mod.ko"});
    CHECK(found["ext4"] == std::vector<std::string>{dir + "/other/ext4.ko.xz"});
    CHECK(found["linked"] == std::vector<std::string>{dir + "/kernel/linked.ko.zst"});
    fs::remove_all(dir);
}
