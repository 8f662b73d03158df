// Input parsers on real captures, and every bad-input path: one clear error
// naming file:line, never a crash and never a silent skip.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "kaddr/error.h"
#include "kaddr/inputs.h"
#include "kaddr/resolver.h"
#include "support.h"

using namespace kaddr;
using kt::error_of;

namespace {
const std::string kX86 = "captures/deb12-6.1.0-56-cloud/capture-1/";

std::string write_temp(const std::string& name, const std::string& content) {
    auto p = std::filesystem::temp_directory_path() / ("kaddr-test-" + std::to_string(::getpid()) + "-" + name);
    std::ofstream(p) << content;
    return p.string();
}
}  // namespace

TEST_CASE("kallsyms capture: core and module symbols") {
    std::ifstream in(kt::testdata(kX86 + "kallsyms.txt"));
    const SymbolList list = parse_kallsyms(in, "kallsyms.txt");  // names are views into list.text
    const auto& syms = list.symbols;
    CHECK(syms.size() == 103809);
    bool found = false;
    for (const auto& s : syms)
        if (s.name == "ktoops_deref") {
            CHECK(s.module == "ktoops");
            CHECK(s.addr == 0xffffffffc0569040ULL);
            found = true;
        }
    CHECK(found);
}

TEST_CASE("/proc/modules, sysfs sections in both forms, /proc/version") {
    std::ifstream pm(kt::testdata(kX86 + "proc_modules.txt"));
    auto mods = parse_proc_modules(pm, "proc_modules.txt");
    REQUIRE(mods.size() == 19);
    CHECK(mods[0].name == "ktoops");
    CHECK(mods[0].base == 0xffffffffc0569000ULL);
    CHECK(mods[0].taint == "OE");

    std::ifstream flat(kt::testdata(kX86 + "sys_module_sections.txt"));
    auto a = parse_section_list(flat, "sys_module_sections.txt");
    auto b = read_sysfs_sections(kt::testdata(kX86 + "snapshot/sys/module"));
    CHECK(a == b);
    CHECK(a["ktoops"][".rodata"] == 0xffffffffc056a160ULL);

    std::ifstream v(kt::testdata(kX86 + "version.txt"));
    auto ver = parse_proc_version(v, "version.txt");
    CHECK(ver.release == "6.1.0-56-cloud-amd64");
    CHECK(ver.major == 6);
    CHECK(ver.minor == 1);
}

TEST_CASE("garbage kallsyms line: error names file:line") {
    std::istringstream in("ffffffff81000000 T _text\nthis is not kallsyms\n");
    auto msg = error_of([&] { parse_kallsyms(in, "k.txt"); });
    CHECK(msg.find("k.txt:2") != std::string::npos);
    CHECK(msg.find("not a kallsyms line") != std::string::npos);
}

TEST_CASE("all-zero kallsyms (kptr_restrict) is refused with the fix") {
    std::istringstream in("0000000000000000 T _text\n0000000000000000 t ktoops_deref\t[ktoops]\n");
    auto msg = error_of([&] { parse_kallsyms(in, "zeros.txt"); });
    CHECK(msg.find("zeros.txt") != std::string::npos);
    CHECK(msg.find("kptr_restrict") != std::string::npos);
}

TEST_CASE("Debian's one-line System.map stub is refused") {
    std::istringstream in("ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n");
    auto msg = error_of([&] { parse_system_map(in, "System.map"); });
    CHECK(msg.find("stub") != std::string::npos);
}

TEST_CASE("mangled /proc/modules and section lines name the line") {
    std::istringstream pm("ktoops 16384 0 - Live 0xffffffffc0569000 (OE)\nbroken line\n");
    CHECK(error_of([&] { parse_proc_modules(pm, "modules"); }).find("modules:2") != std::string::npos);
    std::istringstream zero("ktoops 16384 0 - Live 0x0000000000000000 (OE)\n");
    CHECK(error_of([&] { parse_proc_modules(zero, "modules"); }).find("kptr_restrict") != std::string::npos);
    std::istringstream sec("ktoops .text 0xffffffffc0569000\nktoops .data\n");
    CHECK(error_of([&] { parse_section_list(sec, "sections"); }).find("sections:2") != std::string::npos);
}

TEST_CASE("truncated and garbage ELF files are one clear error") {
    const std::string ko = kt::testdata("captures/deb12-6.1.0-56-cloud/ktoops/ktoops.ko");
    std::ifstream in(ko, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    auto truncated = write_temp("trunc.ko", bytes.substr(0, bytes.size() / 2));
    auto msg = error_of([&] { ElfFile::open(truncated); });
    CHECK(msg.find(truncated) != std::string::npos);
    CHECK(msg.find("truncated") != std::string::npos);

    auto garbage = write_temp("garbage.ko", std::string(4096, '\x5a'));
    msg = error_of([&] { ElfFile::open(garbage); });
    CHECK(msg.find("not an ELF file") != std::string::npos);

    auto bad_xz = write_temp("bad.ko.xz", std::string("\xFD" "7zXZ\0", 6) + std::string(100, 'x'));
    msg = error_of([&] { ElfFile::open(bad_xz); });
    CHECK(msg.find("xz") != std::string::npos);

    CHECK(error_of([&] { ElfFile::open("/nonexistent/vmlinux"); }).find("cannot open") != std::string::npos);
}

TEST_CASE("a System.map from another build than the kallsyms is detected") {
    // Rebuild a System.map from the capture's kallsyms, then shift most
    // functions: the same-build check must refuse the pair.
    std::ifstream in(kt::testdata(kX86 + "kallsyms.txt"));
    std::ostringstream map;
    std::string line;
    const std::uint64_t kaslr = 0x18200000;
    int n = 0;
    while (std::getline(in, line)) {
        if (line.find('[') != std::string::npos) continue;
        std::uint64_t addr = std::stoull(line.substr(0, 16), nullptr, 16);
        std::uint64_t link = addr ? addr - kaslr : 0;
        if (line.find(" _text") == std::string::npos && ++n % 3 != 0) link += 0x40;
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(link));
        map << buf << line.substr(16) << "\n";
    }
    auto path = write_temp("System.map", map.str());
    SnapshotInputs si;
    si.kallsyms = kt::testdata(kX86 + "kallsyms.txt");
    si.system_map = path;
    auto msg = error_of([&] { load_snapshot(si); });
    CHECK(msg.find("another build") != std::string::npos);
    CHECK(msg.find(path) != std::string::npos);
}

TEST_CASE("an unknown module and an unknown symbol are results with reasons") {
    SnapshotInputs si;
    si.snapshot_dir = kt::testdata(kX86 + "snapshot");
    auto snap = load_snapshot(si);
    Resolver r(*snap);
    auto a = r.resolve_text("foo+0x1/0x10 [nosuchmod]");
    REQUIRE(a.error);
    CHECK(a.error->find("nosuchmod is not in this snapshot") != std::string::npos);
    auto b = r.resolve_text("no_such_function_anywhere+0x4");
    REQUIRE(b.error);
    CHECK(b.error->find("unknown symbol") != std::string::npos);
    auto c = r.resolve_text("0x47b7a0");
    REQUIRE(c.error);
    CHECK(c.region == "user");
}

TEST_CASE("System.map alone: per-cpu absolute symbols do not stretch the kernel image") {
    // The capture's kallsyms moved back to link time is this kernel's System.map.
    std::ifstream in(kt::testdata(kX86 + "kallsyms.txt"));
    std::ostringstream map;
    for (std::string line; std::getline(in, line);) {
        if (line.find('[') != std::string::npos) continue;
        std::uint64_t addr = std::stoull(line.substr(0, 16), nullptr, 16);
        const char type = line[17];
        if (type != 'A' && type != 'a') addr -= 0x18200000;
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(addr));
        map << buf << line.substr(16) << "\n";
    }
    SnapshotInputs si;
    si.system_map = write_temp("System.map-only", map.str());
    auto snap = load_snapshot(si);
    CHECK(snap->arch == Arch::X86_64);
    Resolver r(*snap);
    Resolution user = r.resolve_text("0x47b7a0");
    CHECK(user.region == "user");
    CHECK(user.error);
    Resolution core = r.resolve_text("0xffffffff813eacb6");
    CHECK(core.symbol == "proc_reg_write");
    CHECK(core.offset == 0x56);
    CHECK(core.found_by == std::vector<std::string>{"System.map"});
}

TEST_CASE("snapshot inputs that cannot work are one error naming the input and the fix") {
    const auto load_error = [](const std::function<void(SnapshotInputs&)>& set) {
        SnapshotInputs si;
        set(si);
        return error_of([&] { load_snapshot(si); });
    };
    auto msg = load_error([](SnapshotInputs& si) { si.snapshot_dir = "/nonexistent/snap"; });
    CHECK(msg.find("/nonexistent/snap") != std::string::npos);
    CHECK(msg.find("not a directory") != std::string::npos);

    msg = load_error([](SnapshotInputs& si) { si.module_dirs = {"/nonexistent/mods"}; });
    CHECK(msg.find("/nonexistent/mods: not a directory") != std::string::npos);

    msg = load_error([](SnapshotInputs& si) { si.vmlinux = kt::fixture("fxmod.ko"); });
    CHECK(msg.find("is a module (ET_REL), not vmlinux") != std::string::npos);
    CHECK(msg.find("--ko") != std::string::npos);

    msg = load_error([](SnapshotInputs& si) { si.ko_files = {kt::fixture("fxvmlinux")}; });
    CHECK(msg.find("not a module file name") != std::string::npos);

    msg = load_error([](SnapshotInputs& si) { si.arch = "sparc"; });
    CHECK(msg.find("unknown architecture 'sparc'") != std::string::npos);

    const auto empty_dir = std::filesystem::temp_directory_path() / ("kaddr-test-" + std::to_string(::getpid()) + "-dbg");
    std::filesystem::create_directories(empty_dir);
    msg = load_error([&](SnapshotInputs& si) { si.debug_root = empty_dir.string(); });
    CHECK(msg.find("holds no usr/lib/debug, boot/, lib/modules/ or .build-id/") != std::string::npos);
    std::filesystem::create_directories(empty_dir / "usr/lib/debug/boot");
    std::ofstream(empty_dir / "usr/lib/debug/boot/vmlinux-6.1.0-1-amd64");
    std::ofstream(empty_dir / "usr/lib/debug/boot/vmlinux-6.1.0-2-amd64");
    msg = load_error([&](SnapshotInputs& si) { si.debug_root = empty_dir.string(); });
    CHECK(msg.find("holds several kernels") != std::string::npos);
    std::filesystem::remove_all(empty_dir);

    const auto kallsyms = write_temp("empty-kallsyms", "\n\n");
    msg = load_error([&](SnapshotInputs& si) { si.kallsyms = kallsyms; });
    CHECK(msg.find(kallsyms + ": no symbols in kallsyms") != std::string::npos);

    const auto version = write_temp("version", "\n");
    msg = load_error([&](SnapshotInputs& si) { si.version = version; });
    CHECK(msg.find(version + ": empty /proc/version") != std::string::npos);

    const auto sysfs = std::filesystem::temp_directory_path() / ("kaddr-test-" + std::to_string(::getpid()) + "-sys");
    std::filesystem::create_directories(sysfs / "ktoops/sections");
    std::ofstream(sysfs / "ktoops/sections/.text") << "(null)\n";
    msg = error_of([&] { read_sysfs_sections(sysfs.string()); });
    CHECK(msg.find("sections/.text:1") != std::string::npos);
    CHECK(msg.find("not a section address") != std::string::npos);
    // The tree is read on a second thread, its error said where it was read
    // before: after a bad kallsyms', and as the load's error otherwise.
    msg = load_error([&](SnapshotInputs& si) {
        si.sections = sysfs.string();
        si.kallsyms = kallsyms;
    });
    CHECK(msg.find(kallsyms + ": no symbols in kallsyms") != std::string::npos);
    msg = load_error([&](SnapshotInputs& si) { si.sections = sysfs.string(); });
    CHECK(msg.find("sections/.text:1") != std::string::npos);
    // A FIFO planted where a section file belongs is read without waiting
    // for a writer: an error naming it, never a hang.
    std::filesystem::remove(sysfs / "ktoops/sections/.text");
    REQUIRE(::mkfifo((sysfs / "ktoops/sections/.data").c_str(), 0600) == 0);
    msg = error_of([&] { read_sysfs_sections(sysfs.string()); });
    CHECK(msg.find("sections/.data:1: not a section address: ''") != std::string::npos);
    // A link to a device of zeros: said to be binary, without the bytes.
    std::filesystem::remove(sysfs / "ktoops/sections/.data");
    std::filesystem::create_symlink("/dev/zero", sysfs / "ktoops/sections/.bss");
    msg = error_of([&] { read_sysfs_sections(sysfs.string()); });
    CHECK(msg.find("sections/.bss: binary data, not a section address") != std::string::npos);
    CHECK(msg.find('\0') == std::string::npos);
    std::filesystem::remove_all(sysfs);
}
