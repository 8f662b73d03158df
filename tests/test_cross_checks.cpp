// Inputs that disagree with each other are caught and named, on the real
// captures: a module list from another boot, edited module lists, a vmlinux
// that is not the capture's kernel, a directory where a file belongs; and
// what a lone listing can still say (kallsyms alone places modules, System.map
// alone does not stretch the image over per-cpu offsets).
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "kaddr/error.h"
#include "kaddr/resolver.h"
#include "support.h"

using namespace kaddr;
namespace fs = std::filesystem;

namespace {

const std::string kCap = kt::testdata("captures/deb12-6.1.0-56-cloud/");

std::string load_error(const SnapshotInputs& in) {
    try {
        load_snapshot(in);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

// capture-1's /proc/modules with its first line changed by `edit`.
std::string edited_modules(const std::string& name, const std::string& extra_line, bool drop_first = false) {
    const std::string path = (fs::temp_directory_path() / ("kaddr-mods-" + name + "-" + std::to_string(::getpid()))).string();
    std::ifstream in(kCap + "capture-1/proc_modules.txt");
    std::ofstream out(path);
    std::string line;
    bool first = true;
    while (std::getline(in, line)) {
        if (!(first && drop_first)) out << line << "\n";
        first = false;
    }
    out << extra_line;
    return path;
}

}  // namespace

TEST_CASE("a /proc/modules from another boot than the kallsyms capture is refused by name") {
    SnapshotInputs in;
    in.kallsyms = kCap + "capture-1/kallsyms.txt";
    in.proc_modules = kCap + "capture-2/proc_modules.txt";
    const std::string msg = load_error(in);
    CHECK(msg.find(in.proc_modules + ": module ") != std::string::npos);
    CHECK(msg.find("different boots") != std::string::npos);
}

TEST_CASE("edited module lists: a duplicate, a base in user space, overlapping modules") {
    SnapshotInputs in;
    in.proc_modules = edited_modules("dup", "ktoops 16384 0 - Live 0xffffffffc0569000 (OE)\n");
    CHECK(load_error(in).find("module ktoops is listed twice") != std::string::npos);
    fs::remove(in.proc_modules);

    in.proc_modules = edited_modules("user", "ktoops 16384 0 - Live 0x0000000000400000 (OE)\n", true);
    in.arch = "x86_64";
    CHECK(load_error(in).find("has base 0x400000, which is not a kernel address (user)") != std::string::npos);
    fs::remove(in.proc_modules);

    // Before 6.4 the size is the core allocation's span: an overlap is an
    // edited list (the release says the era)...
    in.proc_modules = edited_modules("overlap", "fake 16384 0 - Live 0xffffffffc056a000\n");
    in.version = kCap + "capture-1/version.txt";
    CHECK(load_error(in).find("overlap") != std::string::npos);
    // ...with no release it is what only a 6.4+ kernel prints, and read so.
    in.version.clear();
    auto snap = load_snapshot(in);
    CHECK(snap->module_memory.era == ModuleMemoryEra::PerType);
    CHECK(snap->module_memory.how.find("starts inside") != std::string::npos);
    fs::remove(in.proc_modules);
}

TEST_CASE("a small unrelated ELF given as vmlinux does not replace kallsyms") {
    SnapshotInputs in;
    in.kallsyms = kCap + "capture-1/kallsyms.txt";
    in.vmlinux = kt::fixture("fxvmlinux");
    const std::string msg = load_error(in);
    CHECK(msg.find(in.vmlinux + ": shares only") != std::string::npos);
    CHECK(msg.find("not this kernel's image") != std::string::npos);
}

TEST_CASE("a vmlinux with no symbol table: the core's symbols come from kallsyms") {
    // The loader keeps only kallsyms' anchors and sample while a vmlinux
    // promises a symbol table; this one has none, so kallsyms is read again.
    SnapshotInputs in;
    in.kallsyms = kCap + "capture-1/kallsyms.txt";
    in.vmlinux = kt::fixture("stripped/fxvmlinux");
    auto snap = load_snapshot(in);
    CHECK(snap->core.symbols_from == "kallsyms");
    CHECK(std::any_of(snap->notes.begin(), snap->notes.end(),
                      [&](const std::string& n) { return n == in.vmlinux + ": no symbol table (stripped?)"; }));
    // The expected answer is the capture's own line: the 5,000th text symbol.
    std::ifstream k(in.kallsyms);
    std::string addr, type, name;
    for (int text = 0; text < 5000 && k >> addr >> type >> name;)
        if (type == "T") ++text;
    Resolution r = Resolver(*snap).resolve_address(std::stoull(addr, nullptr, 16));
    REQUIRE_MESSAGE(!r.error, *r.error);
    CHECK(r.symbol == name);
    CHECK(r.offset == 0);
}

TEST_CASE("a directory where a captured file belongs is one clear error") {
    SnapshotInputs in;
    in.proc_modules = kCap + "capture-1";
    CHECK(load_error(in).find(in.proc_modules + ": is a directory") != std::string::npos);
}

TEST_CASE("kallsyms alone places module addresses by their symbols") {
    SnapshotInputs in;
    in.kallsyms = kCap + "capture-1/kallsyms.txt";
    auto snap = load_snapshot(in);
    Resolution r = Resolver(*snap).resolve_address(0xffffffffc0569046);  // ktoops_deref+6, the capture's RIP
    REQUIRE_MESSAGE(!r.error, *r.error);
    CHECK(r.module == "ktoops");
    CHECK(r.symbol == "ktoops_deref");
    CHECK(r.offset == 6);
    // A module's absolute symbols are no addresses: zsmalloc lists
    // `0000000000034000 a zs_map_area`, which once stretched zsmalloc over
    // the whole core kernel. The answer is kallsyms' own line 10145.
    Resolution core = Resolver(*snap).resolve_address(0xffffffff993f1440);
    REQUIRE_MESSAGE(!core.error, *core.error);
    CHECK(!core.module);
    CHECK(core.symbol == "__traceiter_xdp_cpumap_kthread");
    CHECK(core.offset == 0);
}

TEST_CASE("System.map alone: per-cpu offsets are not image addresses" * doctest::test_suite("vmlinux-x86_64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE(!root.empty());
    SnapshotInputs in;
    in.system_map = root + "/usr/lib/debug/boot/System.map-6.1.0-56-cloud-amd64";
    auto snap = load_snapshot(in);
    Resolution r = Resolver(*snap).resolve_address(0x4);
    CHECK(r.symbol.empty());
    CHECK(r.region == "NULL page");
    // A data address resolves to its symbol, and without a source line is never exact.
    SnapshotInputs dbg;
    dbg.debug_root = root;
    auto full = load_snapshot(dbg);
    Resolution d = Resolver(*full).resolve_text("jiffies");
    CHECK(d.symbol == "jiffies");
    CHECK(d.locations.empty());
    CHECK(d.confidence == "symbol-only");
}
