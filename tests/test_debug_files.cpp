// Finding and checking debug files with no capture: the distributions'
// layouts, .gnu_debuglink, build-id paths, debuginfod (a real server on
// 127.0.0.1), and debug files that are not the crashed kernel's. Every file
// is built at test time from tests/fixtures; the expected lines come from
// the C source's MARK: comments.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "kaddr/error.h"
#include "kaddr/oops_explain.h"
#include "kaddr/report_facts.h"
#include "kaddr/resolver.h"
#include "support.h"

using namespace kaddr;
namespace fs = std::filesystem;

namespace {

const std::string kRelease = "6.1.0-99-fixture-amd64";

std::string temp_dir(const std::string& name) {
    auto d = fs::temp_directory_path() / ("kaddr-dbg-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d.string();
}

void copy(const std::string& from, const fs::path& to) {
    fs::create_directories(to.parent_path());
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

// An x86_64 oops as the kernel prints it, naming `frame` and the release.
OopsReport report(const std::string& frame, const std::string& release = kRelease) {
    std::istringstream in("BUG: kernel NULL pointer dereference, address: 0000000000000004\n"
                          "Oops: 0000 [#1] PREEMPT SMP NOPTI\n"
                          "CPU: 1 PID: 643 Comm: init Tainted: G           OE      " + release + " #1  Debian 6.1.0-99\n"
                          "RIP: 0010:" + frame + "\n"
                          "Call Trace:\n <TASK>\n " + frame + "\n </TASK>\n---[ end trace 0000000000000000 ]---\n");
    auto reports = parse_reports(in);
    REQUIRE(reports.size() == 1);
    return reports[0];
}

// The pc frame of `r` resolved with `in` plus the report's own facts.
Resolution resolve_pc(SnapshotInputs in, const OopsReport& r, std::unique_ptr<Snapshot>* keep = nullptr) {
    auto snap = load_snapshot(with_report_facts(std::move(in), r, "test-report"));
    ExplainedReport e = explain(r, Resolver(*snap));
    REQUIRE(!e.frames.empty());
    Resolution res = e.frames[0].resolution;
    if (keep) *keep = std::move(snap);
    return res;
}

bool has(const std::vector<std::string>& v, const std::string& part) {
    for (const auto& s : v)
        if (s.find(part) != std::string::npos) return true;
    return false;
}

void check_fxmod_work(const Resolution& r) {
    INFO(r.input << (r.error ? " error: " + *r.error : std::string()));
    REQUIRE(!r.locations.empty());
    CHECK(r.locations.back().function == "fxmod_work");
    CHECK(kt::same_path(r.locations.back().file, "tests/fixtures/fxmod.c"));
}

std::string build_id_of(const std::string& path) { return ElfFile::open(path)->build_id(); }

// `fxmod_work+0x0/SIZE [mod]` with the size the kernel would print.
std::string work_frame(const std::string& mod_tag) {
    std::uint64_t size = 0;
    const auto ko = ElfFile::open(kt::fixture("fxmod.ko"));  // symbol names point into it
    for (const auto& s : ko->symbols())
        if (s.name == "fxmod_work") size = s.size;
    REQUIRE(size > 0);
    return "fxmod_work+0x0/" + hex(size) + " [" + mod_tag + "]";
}

}  // namespace

TEST_CASE("a stripped module's .gnu_debuglink file gives DWARF when its CRC matches, and is refused when not") {
    SnapshotInputs in;
    in.ko_files = {kt::fixture("stripped/fxmod.ko")};
    std::unique_ptr<Snapshot> snap;
    Resolution r = resolve_pc(in, report(work_frame("fxmod")), &snap);
    check_fxmod_work(r);
    CHECK(r.confidence == "module-relative");
    CHECK(has(snap->notes, "DWARF from " + kt::fixture("stripped/fxmod.ko.debug") + " (.gnu_debuglink, CRC matches)"));

    const std::string dir = temp_dir("debuglink");
    copy(kt::fixture("stripped/fxmod.ko"), fs::path(dir) / "fxmod.ko");
    copy(kt::fixture("served/fxbid.ko"), fs::path(dir) / "fxmod.ko.debug");  // same name, other contents
    in.ko_files = {dir + "/fxmod.ko"};
    r = resolve_pc(in, report(work_frame("fxmod")), &snap);
    CHECK(r.locations.empty());
    CHECK(r.confidence == "symbol-only");
    CHECK(has(snap->notes, "WARNING: " + dir + "/fxmod.ko.debug is named by"));
    fs::remove_all(dir);
}

TEST_CASE("a Fedora/RHEL debuginfo tree: lib/modules/REL/vmlinux and NAME.ko.debug") {
    const std::string dir = temp_dir("fedora");
    const fs::path mods = fs::path(dir) / "usr/lib/debug/lib/modules" / kRelease;
    copy(kt::fixture("fxvmlinux"), mods / "vmlinux");
    copy(kt::fixture("fxmod.ko"), mods / "extra/fxmod.ko.debug");
    SnapshotInputs in;
    in.debug_root = dir;
    std::unique_ptr<Snapshot> snap;
    Resolution r = resolve_pc(in, report(work_frame("fxmod")), &snap);
    check_fxmod_work(r);
    REQUIRE(snap->core.vmlinux);
    CHECK(snap->core.vmlinux->path() == (mods / "vmlinux").string());
    CHECK(has(snap->notes, "release " + kRelease + " from the report"));
    fs::remove_all(dir);
}

TEST_CASE("a debug root holding several kernels: the report's release chooses, and says so") {
    const std::string dir = temp_dir("several");
    const fs::path boot = fs::path(dir) / "usr/lib/debug/boot";
    copy(kt::fixture("fxvmlinux"), boot / ("vmlinux-" + kRelease));
    copy(kt::fixture("fxvmlinux"), boot / "vmlinux-6.1.0-98-other-amd64");
    SnapshotInputs in;
    in.debug_root = dir;
    std::unique_ptr<Snapshot> snap;
    Resolution r = resolve_pc(in, report("fx_outer+0x0/0x10"), &snap);
    CHECK(snap->core.vmlinux->path() == (boot / ("vmlinux-" + kRelease)).string());
    CHECK(has(snap->notes, "chose " + kRelease));
    CHECK(r.confidence == "exact");

    // No release to choose by: one clear error naming the root and the way out.
    try {
        load_snapshot(in);
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("holds several kernels") != std::string::npos);
        CHECK(std::string(e.what()).find("--version") != std::string::npos);
    }
    fs::remove_all(dir);
}

TEST_CASE("debug files of another release than the report's: a loud warning, and never exact") {
    const std::string dir = temp_dir("otherrel");
    copy(kt::fixture("fxvmlinux"), fs::path(dir) / "usr/lib/debug/boot/vmlinux-6.1.0-98-other-amd64");
    SnapshotInputs in;
    in.debug_root = dir;
    std::unique_ptr<Snapshot> snap;
    Resolution r = resolve_pc(in, report("fx_outer+0x0/0x10"), &snap);
    REQUIRE(!r.locations.empty());
    CHECK(r.confidence == "guess");
    CHECK(has(r.notes, "WARNING"));
    CHECK(has(snap->notes, "WARNING: " + dir + " has no debug files for " + kRelease));
    fs::remove_all(dir);
}

TEST_CASE("a module found by the build-id the report prints, in the tree's .build-id directory") {
    const std::string id = build_id_of(kt::fixture("served/fxbid.ko"));
    REQUIRE(id.size() == 40);
    const std::string dir = temp_dir("buildid");
    copy(kt::fixture("served/fxbid.ko"), fs::path(dir) / "usr/lib/debug/.build-id" / id.substr(0, 2) / (id.substr(2) + ".debug"));
    SnapshotInputs in;
    in.debug_root = dir;
    in.arch = "x86_64";
    in.use_debuginfod = false;
    Resolution r = resolve_pc(in, report(work_frame("fxbid " + id)));
    check_fxmod_work(r);
    CHECK(has(r.found_by, "module file from build-id path"));

    // The report's build-id is another build's: that module's frames are errors.
    const std::string other = temp_dir("buildid-wrong");
    copy(kt::fixture("served/fxbid.ko"), fs::path(other) / "fxbid.ko");
    SnapshotInputs in2;
    in2.module_dirs = {other};
    in2.use_debuginfod = false;
    r = resolve_pc(in2, report(work_frame("fxbid 0123456789abcdef0123456789abcdef01234567")));
    REQUIRE(r.error);
    CHECK(r.error->find("BUILD-ID MISMATCH") != std::string::npos);
    fs::remove_all(dir);
    fs::remove_all(other);
}

TEST_CASE("a stripped --ko is matched to its debug file in the tree's .build-id directory by its build-id") {
    const std::string id = build_id_of(kt::fixture("served/fxbid.ko"));
    REQUIRE(id.size() == 40);
    const std::string dir = temp_dir("stripped-ko");
    copy(kt::fixture("served/fxbid.ko"), fs::path(dir) / "usr/lib/debug/.build-id" / id.substr(0, 2) / (id.substr(2) + ".debug"));
    const std::string stripped = dir + "/fxbid.ko";
    REQUIRE(std::system(("objcopy --strip-debug " + kt::fixture("served/fxbid.ko") + " " + stripped).c_str()) == 0);
    SnapshotInputs in;
    in.ko_files = {stripped};
    in.arch = "x86_64";
    in.use_debuginfod = false;
    // Without the tree: the stripped file answers symbol-only.
    Resolution r = resolve_pc(in, report(work_frame("fxbid")));
    CHECK(r.locations.empty());
    // With it: the debug file of the same build-id gives the source.
    in.debug_root = dir;
    r = resolve_pc(in, report(work_frame("fxbid")));
    check_fxmod_work(r);
    CHECK(has(r.found_by, "module file from build-id path"));
    fs::remove_all(dir);
}

TEST_CASE("inputs of another architecture than the report's are refused by name") {
    // A vmlinux whose ELF machine says aarch64 (EM_AARCH64 = 183).
    const std::string dir = temp_dir("arch");
    const std::string vm = dir + "/vmlinux";
    copy(kt::fixture("fxvmlinux"), vm);
    {
        std::fstream f(vm, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(18);
        const char machine[2] = {char(183), 0};
        f.write(machine, 2);
    }
    SnapshotInputs in;
    in.vmlinux = vm;
    try {
        load_snapshot(with_report_facts(in, report("fx_outer+0x0/0x10", "6.1.0-56-cloud-amd64"), "r.txt"));
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find(vm + ": is an arm64 kernel, but the report (r.txt:1) is from x86_64") != std::string::npos);
    }
    SnapshotInputs ko;
    ko.ko_files = {kt::testdata("captures/deb12-6.1.0-56-arm64/ktoops/ktoops.ko")};
    try {
        load_snapshot(with_report_facts(ko, report("ktoops_deref+0x6/0x30 [ktoops]", "6.1.0-56-cloud-amd64"), "r.txt"));
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("is an arm64 module, but the kernel is x86_64") != std::string::npos);
    }
    fs::remove_all(dir);
}

TEST_CASE("a captured /sys/kernel/notes that names another build than the vmlinux: its frames are errors") {
    const std::string dir = temp_dir("notes");
    // An ELF note: namesz 4, descsz 20, type 3 (NT_GNU_BUILD_ID), "GNU\0", 20 bytes.
    std::string note("\x04\0\0\0\x14\0\0\0\x03\0\0\0GNU\0", 16);
    note += std::string(20, '\x11');
    std::ofstream(dir + "/notes", std::ios::binary) << note;
    CHECK(read_build_id_notes(dir + "/notes") == std::string(40, '1').replace(0, 40, "1111111111111111111111111111111111111111"));
    SnapshotInputs in;
    in.vmlinux = kt::fixture("fxvmlinux");
    in.kernel_notes = dir + "/notes";
    std::unique_ptr<Snapshot> snap;
    Resolution r = resolve_pc(in, report("fx_outer+0x0/0x10"), &snap);
    REQUIRE(r.error);
    CHECK(r.error->find("BUILD-ID MISMATCH") != std::string::npos);
    fs::remove_all(dir);
}

namespace {

// A real debuginfod server on 127.0.0.1 serving `served` (symlinks
// followed), ready once it serves `build_id` (asked with a throwaway client
// cache, since a client caches a miss). Stopped by the destructor.
struct DebuginfodServer {
    pid_t pid = -1;
    std::string url;
    bool ready = false;

    DebuginfodServer(const std::string& dir, const std::string& served, const std::string& build_id, int port) {
        url = "http://127.0.0.1:" + std::to_string(port);
        pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::setpgid(0, 0);
            const int null = ::open("/dev/null", O_WRONLY);
            ::dup2(null, 1);
            ::dup2(null, 2);
            ::unsetenv("DEBUGINFOD_URLS");  // no federation: it serves only what it scanned
            const std::string p = std::to_string(port), db = dir + "/db.sqlite";
            ::execlp("debuginfod", "debuginfod", "-L", "-F", "-p", p.c_str(), "-d", db.c_str(), "-t", "0", "-g", "0",
                     served.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        for (int i = 0; i < 150 && !ready; ++i) {
            const std::string probe = "DEBUGINFOD_URLS=" + url + " DEBUGINFOD_CACHE_PATH=" + dir + "/probe-" +
                                      std::to_string(i) + " debuginfod-find debuginfo " + build_id + " >/dev/null 2>&1";
            ready = std::system(probe.c_str()) == 0;
            if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }
    ~DebuginfodServer() {
        ::kill(-pid, SIGTERM);
        ::waitpid(pid, nullptr, 0);
    }
};

bool have_debuginfod() {
    if (std::system("command -v debuginfod >/dev/null 2>&1") == 0) return true;
    MESSAGE("SKIPPED LOUDLY: the debuginfod server is not installed (Debian package debuginfod)");
    return false;
}

}  // namespace

// The report's frame resolves only through the server.
TEST_CASE("a module fetched from a debuginfod server by the report's build-id") {
    if (!have_debuginfod()) return;
    const std::string dir = temp_dir("debuginfod");
    copy(kt::fixture("served/fxbid.ko"), fs::path(dir) / "served/fxbid.ko");
    const std::string id = build_id_of(kt::fixture("served/fxbid.ko"));
    {
        DebuginfodServer server(dir, dir + "/served", id, 18000 + ::getpid() % 2000);
        REQUIRE_MESSAGE(server.ready, "debuginfod on " << server.url << " did not serve " << id);
        ::setenv("DEBUGINFOD_URLS", server.url.c_str(), 1);
        ::setenv("DEBUGINFOD_CACHE_PATH", (dir + "/cache").c_str(), 1);
        SnapshotInputs in;
        in.arch = "x86_64";
        const OopsReport rep = report(work_frame("fxbid " + id));
        Resolution r = resolve_pc(in, rep);
        check_fxmod_work(r);
        CHECK(has(r.found_by, "module file from debuginfod"));
        // The same without debuginfod: nothing else has the file, so the
        // frame is only what the report printed.
        in.use_debuginfod = false;
        r = resolve_pc(in, rep);
        CHECK(r.locations.empty());
        CHECK(r.confidence == "as-printed");
        ::unsetenv("DEBUGINFOD_URLS");
    }
    fs::remove_all(dir);
}

// The x86_64 tier's debug vmlinux over debuginfod, found by the build-id a
// captured sys/kernel/notes gives: a core frame gets its source line with no
// vmlinux given.
TEST_CASE("the debug vmlinux fetched from a debuginfod server by the crashed kernel's build-id" *
          doctest::test_suite("vmlinux-x86_64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE(!root.empty());
    if (!have_debuginfod()) return;
    const std::string vmlinux = root + "/usr/lib/debug/boot/vmlinux-6.1.0-56-cloud-amd64";
    const std::string id = build_id_of(vmlinux);
    REQUIRE(id.size() == 40);
    const std::string dir = temp_dir("debuginfod-vmlinux");
    fs::create_directories(fs::path(dir) / "served");
    fs::create_symlink(vmlinux, fs::path(dir) / "served/vmlinux");
    std::string note("\x04\0\0\0\x14\0\0\0\x03\0\0\0GNU\0", 16);  // NT_GNU_BUILD_ID, as sys/kernel/notes holds it
    for (std::size_t i = 0; i < 40; i += 2) note += static_cast<char>(std::stoi(id.substr(i, 2), nullptr, 16));
    std::ofstream(dir + "/notes", std::ios::binary) << note;
    {
        DebuginfodServer server(dir, dir + "/served", id, 20000 + ::getpid() % 2000);
        REQUIRE_MESSAGE(server.ready, "debuginfod on " << server.url << " did not serve " << id);
        ::setenv("DEBUGINFOD_URLS", server.url.c_str(), 1);
        ::setenv("DEBUGINFOD_CACHE_PATH", (dir + "/cache").c_str(), 1);
        SnapshotInputs in;
        in.kernel_notes = dir + "/notes";
        std::unique_ptr<Snapshot> snap;
        Resolution r = resolve_pc(in, report("proc_reg_write+0x56/0xa0", "6.1.0-56-cloud-amd64"), &snap);
        ::unsetenv("DEBUGINFOD_URLS");
        REQUIRE(snap->core.vmlinux);
        CHECK(snap->core.vmlinux->build_id() == id);
        CHECK(has(snap->notes, "debug file from debuginfod"));
        REQUIRE(!r.locations.empty());
        CHECK(kt::same_path(r.locations.back().file, "fs/proc/inode.c"));
        CHECK(r.locations.back().function == "proc_reg_write");
    }
    fs::remove_all(dir);
}

TEST_CASE("compressed DWARF: zlib is read; zstd, which elfutils 0.188 cannot read, says plainly why it is symbol-only") {
    SnapshotInputs in;
    in.ko_files = {kt::fixture("zlib/fxmod.ko")};
    check_fxmod_work(resolve_pc(in, report(work_frame("fxmod"))));

    in.ko_files = {kt::fixture("zstd/fxmod.ko")};
    std::unique_ptr<Snapshot> snap;
    Resolution r = resolve_pc(in, report(work_frame("fxmod")), &snap);
    CHECK(r.symbol == "fxmod_work");
    if (r.locations.empty()) {  // elfutils < 0.189
        CHECK(r.confidence == "symbol-only");
        CHECK(has(r.notes, "zstd-compressed"));
        CHECK(has(snap->notes, "zstd-compressed"));
    } else {
        check_fxmod_work(r);
    }
}
