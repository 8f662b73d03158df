// Every frame of every captured report, under every partial capture a user
// may have: kallsyms alone, kallsyms with /proc/modules, the whole capture
// with the module file. The answer needs no debug file to be known: the
// kernel printed it (`func+0xoff/0xsize [mod]`), so each configuration must
// name the printed function, offset and module. (A module's absolute
// kallsyms symbol once stretched it over the core kernel in the first
// configuration only; the whole capture hid it.)
#include <doctest/doctest.h>

#include "support.h"

using namespace kaddr;

namespace {

using kt::Given;

int check_all(const std::string& set, std::vector<Given> configurations, const std::string& debug_root = "") {
    int checked = 0;
    for (const auto& c : kt::captures_of(set))
        for (Given given : configurations) checked += kt::check_printed_frames(c, given, debug_root);
    return checked;
}

const std::vector<Given> kCaptureOnly = {Given::Kallsyms, Given::KallsymsAndModules, Given::WholeCapture};

}  // namespace

TEST_CASE("every captured frame, from kallsyms alone up to the whole capture, names what the kernel printed") {
    CHECK(check_all("deb12-6.1.0-56-cloud", kCaptureOnly) > 100);
    CHECK(check_all("deb12-6.1.0-56-arm64", kCaptureOnly) > 100);
    CHECK(check_all("deb12-6.1.0-50-armmp", kCaptureOnly) > 100);
}

TEST_CASE("x86_64: kallsyms and /proc/modules with the -dbg package name what the kernel printed" *
          doctest::test_suite("vmlinux-x86_64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE(!root.empty());
    CHECK(check_all("deb12-6.1.0-56-cloud", {Given::KallsymsModulesDebugRoot}, root) > 50);
}

TEST_CASE("arm64: kallsyms and /proc/modules with the -dbg package name what the kernel printed" *
          doctest::test_suite("vmlinux-arm64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_ARM64");
    REQUIRE(!root.empty());
    CHECK(check_all("deb12-6.1.0-56-arm64", {Given::KallsymsModulesDebugRoot}, root) > 50);
}

TEST_CASE("32-bit ARM: kallsyms and /proc/modules with the -dbg package name what the kernel printed" *
          doctest::test_suite("vmlinux-armhf")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_ARMHF");
    REQUIRE(!root.empty());
    CHECK(check_all("deb12-6.1.0-50-armmp", {Given::KallsymsModulesDebugRoot}, root) > 50);
}
