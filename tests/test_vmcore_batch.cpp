// kaddr batch over a kdump-tools /var/crash tree made of the real dump: a
// good dump explains itself (its reports, all frames resolved, and the
// stack); a cut-short dump is an error record and its dmesg file is
// explained instead; a crash directory with only dmesg is explained; the
// broken one stops nothing.
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "vmcore_support.h"

namespace fs = std::filesystem;

TEST_CASE("kaddr batch explains kdump-tools crash directories, one broken dump stopping nothing" *
          doctest::test_suite("vmlinux-x86_64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE_MESSAGE(!root.empty(), "run through tests/run-vmlinux-tier.sh x86_64");
    kt::TempFile tree("var-crash"), out("batch.jsonl");
    const fs::path good = fs::path(tree.path) / "202612011933", cut = fs::path(tree.path) / "202612011934",
                   dmesg_only = fs::path(tree.path) / "202612011935";
    for (const auto& d : {good, cut, dmesg_only}) fs::create_directories(d);
    fs::create_symlink(kt::kdump_file("dump.flat"), good / "dump.202612011933");
    fs::create_symlink(kt::kdump_file("dmesg.txt"), good / "dmesg.202612011933");
    kt::write_prefix(kt::kdump_file("dump.flat"), (cut / "dump.202612011934").string(), 5000000);
    fs::create_symlink(kt::kdump_file("dmesg.txt"), cut / "dmesg.202612011934");
    fs::create_symlink(kt::kdump_file("dmesg.txt"), dmesg_only / "dmesg.202612011935");
    const std::string cmd = std::string(KADDR_BINARY) + " batch --debug-root '" + root + "' --ko '" +
                            kt::kdump_file("ktoops.ko") + "' '" + tree.path + "' > " + out.path + " 2>/dev/null";
    CHECK(std::system(cmd.c_str()) != 0);  // one input was unreadable: said in the exit status
    std::map<std::string, std::vector<nlohmann::json>> by_file;
    std::istringstream lines(kt::slurp(out.path));
    for (std::string l; std::getline(lines, l);) {
        auto j = nlohmann::json::parse(l);
        if (j.contains("batch")) {  // the completion record, written last
            CHECK(j["batch"] == "complete");
            continue;
        }
        by_file[fs::path(j["source_file"].get<std::string>()).filename().string()].push_back(j);
    }
    const auto& dump = by_file["dump.202612011933"];
    REQUIRE(dump.size() == 3);  // the WARN, the NULL dereference, the stack
    for (int i : {0, 1}) CHECK(dump[i]["resolved_frames"] == dump[i]["kernel_frames"]);
    CHECK(dump[1]["guilty"]["function"] == "ktoops_deref");
    CHECK(dump[2]["crashed_thread"]["pid"] == 660);
    CHECK(by_file.count("dmesg.202612011933") == 0);  // the dump was read; its dmesg copy is not needed
    const auto& broken = by_file["dump.202612011934"];
    REQUIRE(broken.size() == 1);
    CHECK(broken[0]["record"] == "input-error");
    CHECK(broken[0]["error"]["code"] == "unreadable-input");
    CHECK(broken[0]["error"]["message"].get<std::string>().find("truncated flattened stream") != std::string::npos);
    CHECK(broken[0]["fallback"].get<std::string>().find("dmesg.202612011934") != std::string::npos);
    CHECK(by_file["dmesg.202612011934"].size() == 2);
    CHECK(by_file["dmesg.202612011935"].size() == 2);
    CHECK(by_file["dmesg.202612011935"][1]["guilty"]["function"] == "ktoops_deref");  // named by the report itself
}
