// Every frame of every captured report, under every partial capture a user
// may have: kallsyms alone, kallsyms with /proc/modules, the whole capture
// with the module file. The answer needs no debug file to be known: the
// kernel printed it (`func+0xoff/0xsize [mod]`), so each configuration must
// name the printed function, offset and module. (A module's absolute
// kallsyms symbol once stretched it over the core kernel in the first
// configuration only; the whole capture hid it.)
#include <doctest/doctest.h>

#include <regex>

#include "kaddr/lexemes.h"
#include "kaddr/resolver.h"
#include "support.h"

using namespace kaddr;

namespace {

struct Printed {
    std::string symbol, module;
    std::uint64_t offset = 0;
};

// The last `func+0xoff/0xsize [mod]` of a frame: ARM's "A from B+off/size"
// prints the frame's own address second.
std::optional<Printed> printed_frame(const std::string& text) {
    static const std::regex frame(R"(([A-Za-z0-9_.$]+)\+0x([0-9a-f]+)/0x[0-9a-f]+(?: \[([A-Za-z0-9_]+)\])?)");
    std::optional<Printed> last;
    for (std::sregex_iterator it(text.begin(), text.end(), frame), end; it != end; ++it)
        last = Printed{(*it)[1].str(), (*it)[3].str(), *parse_hex((*it)[2].str())};
    return last;
}

// The last: kallsyms and /proc/modules with the distribution's debug
// package, no sysfs (module layouts reconstructed from their bases).
enum class Given { Kallsyms, KallsymsAndModules, WholeCapture, KallsymsModulesDebugRoot };

SnapshotInputs inputs(const std::string& arch_dir, const std::string& cap, Given given, const std::string& debug_root) {
    const std::string d = kt::testdata("captures/" + arch_dir + "/" + cap + "/");
    SnapshotInputs si;
    si.kallsyms = d + "kallsyms.txt";
    if (given != Given::Kallsyms) si.proc_modules = d + "proc_modules.txt";
    if (given == Given::KallsymsModulesDebugRoot) si.debug_root = debug_root;
    if (given == Given::WholeCapture) {
        si.version = d + "version.txt";
        si.sections = d + "sys_module_sections.txt";
        si.ko_files = {kt::testdata("captures/" + arch_dir + "/ktoops/ktoops.ko")};
    }
    return si;
}

// x86 prints a return address with %pB: the function of address - 1, the
// offset from the address. ARM and arm64 print every frame with %pS.
AddressKind printed_as(const std::string& arch_dir, const std::string& kind) {
    const bool x86_return = arch_dir == "deb12-6.1.0-56-cloud" && (kind == "return-addr" || kind == "unreliable(?)");
    return x86_return ? AddressKind::Return : AddressKind::Precise;
}

int check_all(const std::string& arch_dir, const std::vector<std::string>& caps, std::vector<Given> configurations,
              const std::string& debug_root = "") {
    int checked = 0;
    for (const auto& cap : caps)
        for (Given given : configurations) {
            auto snap = load_snapshot(inputs(arch_dir, cap, given, debug_root));
            const Resolver res(*snap);
            for (auto& row : kt::read_tsv(kt::testdata("captures/" + arch_dir + "/" + cap + "/groundtruth/oops-frames.tsv"))) {
                const auto want = printed_frame(row["frame_text"]);
                if (!want) continue;
                INFO(arch_dir << " " << cap << " configuration " << static_cast<int>(given) << ": " << row["frame_text"]);
                Resolution r = res.resolve_address(*parse_hex(row["runtime_addr"]), printed_as(arch_dir, row["kind"]));
                REQUIRE_MESSAGE(!r.error, *r.error);
                bool named = r.symbol == want->symbol;
                for (const auto& a : r.aliases) named = named || a == want->symbol;
                CHECK_MESSAGE(named, "got " << r.symbol);
                CHECK(r.offset == want->offset);
                CHECK(r.module.value_or("") == want->module);
                ++checked;
            }
        }
    return checked;
}

const std::vector<Given> kCaptureOnly = {Given::Kallsyms, Given::KallsymsAndModules, Given::WholeCapture};

}  // namespace

TEST_CASE("every captured frame, from kallsyms alone up to the whole capture, names what the kernel printed") {
    CHECK(check_all("deb12-6.1.0-56-cloud", {"capture-1", "capture-2"}, kCaptureOnly) > 100);
    CHECK(check_all("deb12-6.1.0-56-arm64", {"capture-1", "capture-2", "capture-3"}, kCaptureOnly) > 100);
    CHECK(check_all("deb12-6.1.0-50-armmp", {"capture-1", "capture-2"}, kCaptureOnly) > 100);
}

TEST_CASE("x86_64: kallsyms and /proc/modules with the -dbg package name what the kernel printed" *
          doctest::test_suite("vmlinux-x86_64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE(!root.empty());
    CHECK(check_all("deb12-6.1.0-56-cloud", {"capture-1", "capture-2"}, {Given::KallsymsModulesDebugRoot}, root) > 50);
}

TEST_CASE("arm64: kallsyms and /proc/modules with the -dbg package name what the kernel printed" *
          doctest::test_suite("vmlinux-arm64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_ARM64");
    REQUIRE(!root.empty());
    CHECK(check_all("deb12-6.1.0-56-arm64", {"capture-1", "capture-2", "capture-3"}, {Given::KallsymsModulesDebugRoot}, root) > 50);
}

TEST_CASE("32-bit ARM: kallsyms and /proc/modules with the -dbg package name what the kernel printed" *
          doctest::test_suite("vmlinux-armhf")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_ARMHF");
    REQUIRE(!root.empty());
    CHECK(check_all("deb12-6.1.0-50-armmp", {"capture-1", "capture-2"}, {Given::KallsymsModulesDebugRoot}, root) > 50);
}
