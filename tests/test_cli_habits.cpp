// The habits users bring from addr2line, faddr2line, decode_stacktrace.sh
// and crash: --version everywhere, -e FILE, -f/-i/-a/-p, --kaslr-offset,
// `sym+off [mod]` as two words, and resolve as a streaming coprocess.
// Expected source lines come from the fixtures' MARK comments.
#include <doctest/doctest.h>

#include "cli_run.h"
#include "kaddr/version.h"
#include "support.h"

using kt::run;

namespace {

const std::string kFx = kt::fixture("fxvmlinux");
const std::string kCap = kt::testdata("captures/deb12-6.1.0-56-cloud/");

std::string fx_line(const char* mark) { return std::to_string(kt::marker_line("core_main.c", mark)); }

}  // namespace

TEST_CASE("--version and -V on the command and on every subcommand") {
    const std::string want = std::string("kaddr ") + kaddr::kVersion + "\n";
    for (const char* cmd : {"--version", "-V", "version", "resolve --version", "resolve -V", "oops --version",
                            "oops -V", "batch --version", "gdb-symbols -V"}) {
        INFO(cmd);
        auto r = run(cmd);
        CHECK(r.status == 0);
        CHECK(r.out == want);
    }
}

TEST_CASE("help lists what a user types, not internal option names") {
    for (const char* cmd : {"resolve", "oops", "batch", "gdb-symbols"}) {
        auto r = run(std::string(cmd) + " --help");
        INFO(cmd);
        CHECK(r.status == 0);
        CHECK(r.out.find("usage: kaddr ") == 0);
        CHECK(r.out.find("positional") == std::string::npos);
        CHECK(r.out.find("--input") == std::string::npos);
        CHECK(r.out.find("--file ") == std::string::npos);  // (batch's --files-from is a user's option)
        CHECK(r.out.find("--proc-version") != std::string::npos);
    }
}

TEST_CASE("resolve -e vmlinux with addr2line's -f -i -a -p") {
    auto plain = run("resolve -e " + kFx + " -f -i fx_in_leaf");
    CHECK(plain.status == 0);
    CHECK(plain.out.find("fx_leaf\n") == 0);
    CHECK(plain.out.find("core_main.c:" + fx_line("leaf") + "\nfx_middle\n") != std::string::npos);
    CHECK(plain.out.find("core_main.c:" + fx_line("outer") + "\n") != std::string::npos);

    auto innermost = run("resolve -e " + kFx + " fx_in_leaf -s");  // without -i: the innermost location only
    CHECK(innermost.out == "core_main.c:" + fx_line("leaf") + "\n");

    auto pretty = run("resolve -e " + kFx + " -afip fx_in_leaf");
    CHECK(pretty.out.rfind("0xffffffff", 0) == 0);
    CHECK(pretty.out.find(": fx_leaf at ") == 18);
    CHECK(pretty.out.find(" (inlined by) fx_middle at ") != std::string::npos);
    CHECK(pretty.out.find(" (inlined by) fx_outer at ") != std::string::npos);

    auto unknown = run("resolve -e " + kFx + " -f no_such_symbol");
    CHECK(unknown.status == 1);
    CHECK(unknown.out == "??\n??:0\n");
}

TEST_CASE("resolve -e FILE.ko reads a module that nothing says is loaded at its link-time addresses") {
    auto r = run("resolve --json -e " + kt::fixture("fxmod.ko") + " fxmod_work");
    auto recs = kt::json_lines(r.out);
    REQUIRE(recs.size() == 1);
    CHECK(recs[0]["module"] == "fxmod");
    CHECK(recs[0]["symbol"] == "fxmod_work");
    CHECK(recs[0]["address"] == "0x0");  // .text at 0, the first function in it
    // With source lines, as addr2line -e gives them for a module.
    REQUIRE(!recs[0]["locations"].empty());
    CHECK(recs[0]["locations"].back()["function"] == "fxmod_work");
    CHECK(kt::same_path(recs[0]["locations"].back()["file"].get<std::string>(), "tests/fixtures/fxmod.c"));
    CHECK(recs[0]["found_by"][0] == "link-time (-e) sections");
}

TEST_CASE("--kaslr-offset shifts the core kernel as crash's --kaslr does") {
    auto link = kt::json_lines(run("resolve --json -e " + kFx + " fx_in_leaf").out);
    REQUIRE(link.size() == 1);
    const std::uint64_t at = std::stoull(link[0]["address"].get<std::string>(), nullptr, 16);
    char shifted[32];
    std::snprintf(shifted, sizeof shifted, "0x%llx", static_cast<unsigned long long>(at + 0x3a00000));
    auto r = kt::json_lines(run("resolve --json --vmlinux " + kFx + " --kaslr-offset 0x3a00000 " + shifted).out);
    REQUIRE(r.size() == 1);
    CHECK(r[0]["symbol"] == "fx_outer");
    CHECK(r[0]["locations"][0]["line"] == kt::marker_line("core_main.c", "leaf"));
    CHECK(run("resolve --vmlinux " + kFx + " --kaslr-offset banana 0x1").status == 2);
}

TEST_CASE("sym+off/size and [mod] given as two arguments are one frame") {
    const std::string in = "--json --snapshot " + kCap + "capture-1/snapshot --modules " + kCap + "ktoops ";
    auto one = kt::json_lines(run("resolve " + in + "'ktoops_deref+0x6/0x30 [ktoops]'").out);
    auto two = kt::json_lines(run("resolve " + in + "ktoops_deref+0x6/0x30 '[ktoops]'").out);
    REQUIRE(one.size() == 1);
    REQUIRE(two.size() == 1);
    CHECK(two[0]["module"] == "ktoops");
    CHECK(two[0]["address"] == one[0]["address"]);
    CHECK(two[0]["locations"] == one[0]["locations"]);
}

TEST_CASE("a frame-shaped input looked up as a pc says so; --return-address and --pc do not") {
    auto has_hint = [](const std::string& args) {
        auto recs = kt::json_lines(run("resolve --json -e " + kFx + " " + args).out);
        REQUIRE(recs.size() == 1);
        for (const auto& n : recs[0]["notes"])
            if (n.get<std::string>().find("--return-address") != std::string::npos) return true;
        return false;
    };
    CHECK(has_hint("fx_outer+0x4/0x20"));
    CHECK(!has_hint("fx_outer+0x4"));  // addr2line/faddr2line style: a precise address on purpose
    CHECK(!has_hint("--pc fx_outer+0x4/0x20"));
    CHECK(!has_hint("--return-address fx_outer+0x4/0x20"));
    CHECK(run("resolve -e " + kFx + " --pc --return-address fx_outer").status == 2);
}

TEST_CASE("resolve on a pipe answers each line before the next one is written") {
    kt::Coprocess k({"resolve", "--json", "--vmlinux", kFx});
    for (const char* input : {"fx_in_leaf", "fx_outer+0x1", "nonsense+zz", "fx_in_leaf"}) {
        INFO(input);
        k.send(input);
        const std::string got = k.receive(1);
        REQUIRE_MESSAGE(!got.empty(), "no answer while kaddr waits for the next line");
        auto recs = kt::json_lines(got);
        REQUIRE(recs.size() == 1);
        CHECK(recs[0]["input"] == input);
    }
    CHECK(k.wait_exit() == 1);  // one input failed
}

TEST_CASE("resolve on a pipe finds the modules its lines name, as the command line does" *
          doctest::test_suite("vmlinux-x86_64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE_MESSAGE(!root.empty(), "run through tests/run-vmlinux-tier.sh x86_64");
    // No capture: what a user has is the -dbg package and the module's own
    // build. Each module is named first by a line that arrives after the
    // snapshot was loaded.
    const std::vector<std::string> opts = {"resolve", "--json", "--return-address", "--debug-root", root,
                                           "--modules", kCap + "ktoops"};
    kt::Coprocess k(opts);
    const char* inputs[] = {"vfs_write+0x10/0x3f0", "xfs_file_write_iter+0x10/0x120 [xfs]",
                            "ktoops_write+0x59/0xb0 [ktoops]", "no_such_fn+0x1/0x2 [no_such_mod]",
                            "btrfs_sync_file+0x20/0x4c0 [btrfs]"};
    for (const char* input : inputs) {
        INFO(input);
        k.send(input);
        auto streamed = kt::json_lines(k.receive(20));
        REQUIRE(streamed.size() == 1);
        std::string args;
        for (const auto& o : opts) args += "'" + o + "' ";
        auto given = kt::json_lines(run(args + "'" + input + "'").out);
        REQUIRE(given.size() == 1);
        CHECK(streamed[0] == given[0]);
        if (std::string(input).find("no_such") != std::string::npos) {
            CHECK(!streamed[0]["error"].is_null());
        } else {
            CHECK(streamed[0]["error"].is_null());
            CHECK(!streamed[0]["locations"].empty());
        }
    }
    CHECK(k.wait_exit() == 1);  // the module that does not exist
    // gdb's answer for ktoops_write+0x59 (the capture's ground truth).
    auto g = kt::json_lines(run("resolve --json --return-address --modules " + kCap + "ktoops 'ktoops_write+0x59/0xb0 [ktoops]'").out);
    REQUIRE(g.size() == 1);
    CHECK(g[0]["locations"].back()["file"] == "ktoops/ktoops.c");
    CHECK(g[0]["locations"].back()["line"] == 138);
}
