// Bad inputs on the command line (issue 11), run through the built binary
// as a user would: the exit status, the one message naming the file, and
// for batch the records and the completion record.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "compress_support.h"
#include "support.h"

namespace fs = std::filesystem;

namespace {

struct Outcome {
    int status = -1;
    std::string out, err;
};

const std::string kCap = kt::testdata("captures/deb12-6.1.0-56-cloud/");
const std::string kKallsyms = kCap + "capture-1/kallsyms.txt";

fs::path scratch(const std::string& name) {
    fs::path d = fs::temp_directory_path() / ("kaddr-cli-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// `stdin_from` is a shell redirection source; `binary` the command that
// runs kaddr (with a privilege drop, say).
Outcome run_kaddr(const std::string& args, const std::string& stdin_from = "/dev/null",
                  const std::string& binary = KADDR_BINARY) {
    const fs::path err = fs::temp_directory_path() / ("kaddr-cli-err-" + std::to_string(::getpid()));
    const std::string cmd = binary + " " + args + " <" + stdin_from + " 2>" + err.string();
    Outcome o;
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::array<char, 65536> buf;
    for (std::size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) o.out.append(buf.data(), n);
    const int st = pclose(p);
    o.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    o.err = slurp(err);
    fs::remove(err);
    return o;
}

std::vector<nlohmann::json> records(const std::string& out) {
    std::vector<nlohmann::json> v;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) v.push_back(nlohmann::json::parse(l));
    return v;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("cli: an offset of 17 hex digits is an error record, the same on every run") {
    const std::string args = "resolve --json --kallsyms " + kKallsyms + " 'vfs_write+0x11111111111111111' vfs_write+0x10";
    Outcome a = run_kaddr(args), b = run_kaddr(args);
    CHECK(a.status == 1);
    CHECK(a.out == b.out);  // no stack garbage
    auto recs = records(a.out);
    REQUIRE(recs.size() == 2);
    CHECK(!recs[0]["error"].is_null());
    CHECK(recs[0]["address"].is_null());
    CHECK(recs[1]["symbol"] == "vfs_write");
}

TEST_CASE("cli: unusable text inputs exit 2 with one message naming them") {
    const fs::path d = scratch("inputs");
    struct Case {
        std::string args, stdin_from, message;
    } cases[] = {
        {"oops", "/dev/zero", "kaddr: standard input: binary data, not text"},
        {"resolve", "/dev/zero", "kaddr: standard input: binary data, not text"},
        {"resolve --kallsyms /dev/zero 0xffffffff81000000", "/dev/null", "kaddr: /dev/zero: binary data, not text"},
        {"oops /dev/zero", "/dev/null", "kaddr: /dev/zero: binary data, not text"},
        {"resolve --proc-modules " + d.string() + " 0x1", "/dev/null",
         "kaddr: " + d.string() + ": is a directory, not a text file"},
        {"resolve --proc-version " + d.string() + " 0x1", "/dev/null",
         "kaddr: " + d.string() + ": is a directory, not a text file"},
        {"resolve --max-input-size 1K --kallsyms " + kKallsyms + " 0x1", "/dev/null",
         "kaddr: " + kKallsyms + ": is larger than the 1 KiB input size limit"},
        {"resolve --vmlinux " + d.string() + " 0x1", "/dev/null",
         "kaddr: " + d.string() + ": is a directory, not a regular file"},
        {"resolve --max-input-size lots 0x1", "/dev/null", "--max-input-size lots (expected e.g. 4G, 512M)"},
    };
    for (const auto& c : cases) {
        INFO(c.args);
        Outcome o = run_kaddr(c.args, c.stdin_from);
        CHECK(o.status == 2);
        CHECK_MESSAGE(has(o.err, c.message), o.err);
    }
    fs::remove_all(d);
}

TEST_CASE("cli: a zstd-compressed vmlinux is a clear error, with one thread or many, never an abort") {
    const fs::path d = scratch("zvmlinux");
    const std::string z = (d / "vmlinux.zst").string();
    REQUIRE(std::system(("zstd -q -f " + kt::fixture("fxvmlinux") + " -o " + z).c_str()) == 0);
    {
        std::ofstream a(d / "addrs");  // enough for both threads to take some
        for (int i = 0; i < 300; ++i) a << "0xffffffff81000060\n";
    }
    for (const char* jobs : {"1", "2"}) {
        INFO(jobs);
        Outcome o = run_kaddr(std::string("resolve --no-index --jobs ") + jobs + " --vmlinux " + z, (d / "addrs").string());
        CHECK(o.status == 2);  // was 134 (abort), or 'terminate called' with --jobs
        CHECK_MESSAGE(has(o.err, "kaddr: " + z + ": no usable DWARF: "), o.err);
    }
    fs::remove_all(d);
}

TEST_CASE("cli: a .ko.zst that expands past the limit is skipped with a note naming it") {
    const fs::path d = scratch("bomb");
    std::ofstream(d / "zeros", std::ios::binary) << std::string(32 << 20, '\0');
    const std::string bomb = (d / "ktoops.ko.zst").string();
    REQUIRE(std::system(("zstd -q -f " + (d / "zeros").string() + " -o " + bomb).c_str()) == 0);
    CHECK(fs::file_size(bomb) < 100000);
    Outcome o = run_kaddr("resolve --max-input-size 8M --snapshot " + kCap + "capture-1/snapshot --ko " + bomb +
                      " 'ktoops_deref+0x6/0x30 [ktoops]'");
    CHECK_MESSAGE(has(o.err, "module ktoops: skipped " + bomb + ": decompresses to more than the 8 MiB input size limit"),
                  o.err);
    CHECK(o.status == 0);  // the frame still resolves, from kallsyms: a symbol, no line
    CHECK(has(o.out, "confidence: symbol-only"));
    fs::remove_all(d);
}

TEST_CASE("cli: a sysfs section file unreadable to the user says so, not \"not a section address: ''\"") {
    const fs::path d = scratch("sysfs");
    fs::permissions(d, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                           fs::perms::others_exec);
    fs::create_directories(d / "module/ktoops/sections");
    const fs::path text = d / "module/ktoops/sections/.text";
    std::ofstream(text) << "0xffffffffc0569000\n";
    for (const auto& p : {d / "module", d / "module/ktoops", d / "module/ktoops/sections"})
        fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    fs::permissions(text, fs::perms::owner_read);  // 0400, as the kernel makes them
    // Root reads anything: drop to nobody for the run, with a copy of the
    // binary nobody can reach (the build tree may be under /root).
    std::string binary = KADDR_BINARY;
    if (::geteuid() == 0) {
        fs::copy_file(KADDR_BINARY, d / "kaddr");
        binary = "setpriv --reuid=65534 --regid=65534 --clear-groups " + (d / "kaddr").string();
    }
    Outcome o = run_kaddr("resolve --no-index --sections " + (d / "module").string() + " 0xffffffffc0569000", "/dev/null",
                          binary);
    CHECK(o.status == 2);
    CHECK_MESSAGE(has(o.err, "kaddr: " + text.string() + ": permission denied (sys/module/*/sections is readable by root only"),
                  o.err);
    fs::remove_all(d);
}

TEST_CASE("cli batch: compressed logs are read, binary files are error records, totals come last") {
    const fs::path d = scratch("batch-formats");
    const std::string oops = slurp(kCap + "capture-1/oops/02-bug-null.txt");
    std::ofstream(d / "a-plain.log") << oops;
    std::ofstream(d / "b-packed.log.gz", std::ios::binary) << kt::gzip(oops);
    fs::copy_file(kt::fixture("fxmod.ko"), d / "c-binary.bin");
    Outcome o = run_kaddr("batch --kallsyms " + kKallsyms + " " + d.string());
    auto recs = records(o.out);
    REQUIRE(recs.size() == 4);
    CHECK(recs[0]["source_file"] == (d / "a-plain.log").string());
    CHECK(recs[1]["source_file"] == (d / "b-packed.log.gz").string());
    CHECK(recs[1]["kind"] == recs[0]["kind"]);
    CHECK(recs[1]["frames"] == recs[0]["frames"]);
    CHECK(recs[2]["source_file"] == (d / "c-binary.bin").string());
    CHECK(recs[2]["error"]["code"] == "unreadable-input");
    CHECK(has(recs[2]["error"]["message"].get<std::string>(), "binary data, not text"));
    CHECK(recs[3]["batch"] == "complete");
    CHECK(recs[3]["files"] == 3);
    CHECK(recs[3]["reports"] == 2);
    CHECK(recs[3]["unreadable_files"] == 1);
    fs::remove_all(d);
}

TEST_CASE("cli batch: a killed batch has no completion record, and a re-run writes the same records") {
    const fs::path d = scratch("batch-kill");
    std::vector<std::string> logs;
    for (const auto& e : fs::directory_iterator(kCap + "capture-1/oops")) logs.push_back(e.path().string());
    std::sort(logs.begin(), logs.end());
    // The batch blocks on a FIFO no one writes, after the real logs: a
    // kill there is mid-batch on every machine, however fast.
    const std::string fifo = (d / "stuck.fifo").string();
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    std::string paths;
    for (const auto& l : logs) paths += " " + l;
    const std::string base = std::string(KADDR_BINARY) + " batch --jobs 1 --kallsyms " + kKallsyms;
    const fs::path out = d / "killed.jsonl";
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", ("exec " + base + paths + " " + fifo + " >" + out.string() + " 2>/dev/null").c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
    }
    // Wait until the last real log's records are out (flushed per file),
    // then a little more for the rest of its lines.
    auto complete_lines = [&] {
        std::string text = slurp(out);
        return text.substr(0, text.rfind('\n') + 1);
    };
    for (int tries = 0; tries < 600 && !has(complete_lines(), "\"source_file\":\"" + logs.back() + "\""); ++tries)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    const auto killed = records(complete_lines());
    REQUIRE(killed.size() >= logs.size());
    for (const auto& r : killed) CHECK(!r.contains("batch"));  // incomplete, and it shows

    Outcome redo = run_kaddr("batch --jobs 2 --kallsyms " + kKallsyms + paths);
    auto again = records(redo.out);
    REQUIRE(again.size() == killed.size() + 1);
    for (std::size_t i = 0; i < killed.size(); ++i) CHECK(again[i] == killed[i]);
    CHECK(again.back()["batch"] == "complete");
    CHECK(again.back()["files"] == logs.size());
    fs::remove_all(d);
}
