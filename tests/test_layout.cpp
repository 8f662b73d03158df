// Reconstructed module layout == sysfs, for every module whose .ko we have:
// ktoops on all three architectures here, every Debian module in the
// vmlinux tiers. Plus the base + sh_offset trap of seed 004.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "kaddr/inputs.h"
#include "kaddr/lexemes.h"
#include "kaddr/module_layout.h"
#include "support.h"

using namespace kaddr;

namespace {

struct Capture {
    const char* dir;
    Arch arch;
    std::vector<const char*> captures;
};
const Capture kCaptures[] = {
    {"deb12-6.1.0-56-cloud", Arch::X86_64, {"capture-1", "capture-2"}},
    {"deb12-6.1.0-56-arm64", Arch::Arm64, {"capture-1", "capture-2"}},
    {"deb12-6.1.0-50-armmp", Arch::Arm, {"capture-1", "capture-2"}},
};

// Returns how many sections were compared; fails the test on any mismatch.
int check_module(const ElfFile& ko, const std::string& name, std::uint64_t base,
                 const std::map<std::string, std::uint64_t>& sysfs, Arch arch) {
    LayoutRules rules;
    rules.arch = arch;
    int compared = 0;
    for (const auto& s : reconstruct_layout(ko, base, rules)) {
        auto it = sysfs.find(s.name);
        if (s.init) {
            CHECK_MESSAGE(s.placement == Placement::Undetermined, name << " " << s.name);
            continue;
        }
        REQUIRE_MESSAGE(it != sysfs.end(), name << ": sysfs lacks " << s.name);
        CHECK_MESSAGE(s.addr == it->second, name << " " << s.name << " reconstructed " << hex(s.addr) << " sysfs "
                                                 << hex(it->second));
        ++compared;
    }
    // Every non-init section sysfs lists is reconstructed.
    for (const auto& entry : sysfs) {
        const std::string& sect = entry.first;  // not bound: clang 14 cannot capture a binding
        if (sect.rfind(".init", 0) == 0 || sect == ".symtab" || sect == ".strtab") continue;
        bool found = false;
        for (const auto& s : reconstruct_layout(ko, base, rules)) found = found || s.name == sect;
        CHECK_MESSAGE(found, name << ": " << sect << " is in sysfs but not reconstructed");
    }
    return compared;
}

}  // namespace

TEST_CASE("ktoops: reconstructed layout equals sysfs on x86_64, arm64 and 32-bit ARM") {
    for (const auto& c : kCaptures) {
        auto ko = ElfFile::open(kt::testdata(std::string("captures/") + c.dir + "/ktoops/ktoops.ko"));
        for (const char* cap : c.captures) {
            std::string dir = kt::testdata(std::string("captures/") + c.dir + "/" + cap + "/");
            std::ifstream pm(dir + "proc_modules.txt"), sec(dir + "sys_module_sections.txt");
            auto mods = parse_proc_modules(pm, "proc_modules.txt");
            auto sysfs = parse_section_list(sec, "sys_module_sections.txt");
            for (const auto& m : mods)
                if (m.name == "ktoops") CHECK(check_module(*ko, "ktoops", m.base, sysfs["ktoops"], c.arch) >= 15);
        }
    }
}

TEST_CASE("seed 004 trap: a section is not at base + sh_offset") {
    const std::string dir = kt::testdata("captures/deb12-6.1.0-56-cloud/");
    auto ko = ElfFile::open(dir + "ktoops/ktoops.ko");
    std::ifstream sec(dir + "capture-1/sys_module_sections.txt");
    auto sysfs = parse_section_list(sec, "sys_module_sections.txt")["ktoops"];
    const std::uint64_t base = 0xffffffffc0569000ULL;
    int trapped = 0;
    for (const auto& s : ko->sections()) {
        auto it = sysfs.find(s.name);
        if (it == sysfs.end() || s.name.rfind(".init", 0) == 0 || s.name == ".symtab" || s.name == ".strtab") continue;
        if (base + s.offset != it->second) ++trapped;
    }
    CHECK(trapped > 10);  // the naive rule is wrong for most sections...
    LayoutRules rules;
    rules.arch = Arch::X86_64;
    for (const auto& s : reconstruct_layout(*ko, base, rules))  // ...and the loader's rule is right
        if (s.placement == Placement::Reconstructed) CHECK(s.addr == sysfs.at(s.name));
}

TEST_CASE("6.4+ era: only the text allocation follows from the base") {
    auto ko = ElfFile::open(kt::testdata("captures/deb12-6.1.0-56-cloud/ktoops/ktoops.ko"));
    LayoutRules rules;
    rules.arch = Arch::X86_64;
    rules.era = ModuleMemoryEra::PerType;
    int text = 0, undetermined = 0;
    for (const auto& s : reconstruct_layout(*ko, 0xffffffffc0569000ULL, rules)) {
        if (s.placement == Placement::Reconstructed) {
            ++text;
            CHECK(s.addr >= 0xffffffffc0569000ULL);
        } else {
            ++undetermined;
            CHECK(!s.why.empty());
        }
    }
    CHECK(text == 2);  // .text and .exit.text
    CHECK(undetermined > 10);
}


namespace {

// Every loaded module of every capture of one architecture, with the
// module debug files of the Debian -dbg package.
void check_all_modules(const Capture& c, const std::string& root, const std::string& release) {
    REQUIRE_MESSAGE(!root.empty(), "run through tests/run-vmlinux-tier.sh");
    const std::string moddir = root + "/usr/lib/debug/lib/modules/" + release;
    for (const char* cap : c.captures) {
        std::string dir = kt::testdata(std::string("captures/") + c.dir + "/" + cap + "/");
        std::ifstream pm(dir + "proc_modules.txt"), sec(dir + "sys_module_sections.txt");
        auto sysfs = parse_section_list(sec, "sys_module_sections.txt");
        int modules = 0;
        for (const auto& m : parse_proc_modules(pm, "proc_modules.txt")) {
            std::string path;
            if (m.name == "ktoops") {
                path = kt::testdata(std::string("captures/") + c.dir + "/ktoops/ktoops.ko");
            } else {
                for (auto& e : std::filesystem::recursive_directory_iterator(moddir))
                    if (canonical_module_name(e.path().filename().string()) == m.name + ".ko") path = e.path().string();
            }
            REQUIRE_MESSAGE(!path.empty(), m.name << " not in " << moddir);
            auto ko = ElfFile::open(path);
            CHECK(check_module(*ko, m.name, m.base, sysfs[m.name], c.arch) > 0);
            ++modules;
        }
        MESSAGE(c.dir << " " << cap << ": " << modules << " module layouts equal sysfs");
    }
}

}  // namespace

TEST_CASE("x86_64: every module's reconstructed layout equals sysfs" * doctest::test_suite("vmlinux-x86_64")) {
    check_all_modules(kCaptures[0], kt::env("KADDR_DEBUG_ROOT_X86_64"), "6.1.0-56-cloud-amd64");
}

TEST_CASE("arm64: every module's reconstructed layout equals sysfs" * doctest::test_suite("vmlinux-arm64")) {
    Capture c = kCaptures[1];
    c.captures.push_back("capture-3");
    check_all_modules(c, kt::env("KADDR_DEBUG_ROOT_ARM64"), "6.1.0-56-arm64");
}

TEST_CASE("32-bit ARM: every module's reconstructed layout equals sysfs" * doctest::test_suite("vmlinux-armhf")) {
    check_all_modules(kCaptures[2], kt::env("KADDR_DEBUG_ROOT_ARMHF"), "6.1.0-50-armmp");
}
