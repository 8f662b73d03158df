// Bad input as an attacker or a careless user gives it (issue 11): every
// case is one clear Error naming the file, never a crash, a hang or an
// answer made up from garbage.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "cli/ordered_parallel.h"
#include "kaddr/decompress.h"
#include "kaddr/elf_file.h"
#include "kaddr/error.h"
#include "kaddr/image_index.h"
#include "kaddr/input_limit.h"
#include "kaddr/inputs.h"
#include "kaddr/lexemes.h"
#include "kaddr/mapped_file.h"
#include "kaddr/oops.h"
#include "compress_support.h"
#include "support.h"

namespace fs = std::filesystem;
using namespace kaddr;
using kt::error_of;

namespace {

// A scratch directory removed at the end of the test.
struct Scratch {
    fs::path dir;
    explicit Scratch(const std::string& name)
        : dir(fs::temp_directory_path() / ("kaddr-" + name + "-" + std::to_string(::getpid()))) {
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::string file(const std::string& name, const std::string& bytes) const {
        std::ofstream(dir / name, std::ios::binary) << bytes;
        return (dir / name).string();
    }
};

// The input size limit for one scope.
struct Limit {
    std::uint64_t saved = input_size_limit();
    explicit Limit(std::uint64_t bytes) { set_input_size_limit(bytes); }
    ~Limit() { set_input_size_limit(saved); }
};

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("a frame offset or size of more than 16 hex digits is no symbol reference, never garbage") {
    struct Case {
        const char* text;
        bool parses;
    } cases[] = {
        {"vfs_write+0x11111111111111111", false},      // 17 digits: the input
        {"vfs_write+0x1d/0x11111111111111111", false},  // in the size
        {"vfs_write+0xffffffffffffffff/0x40", true},    // 16 digits fit
        {"vfs_write+0x", false},
        {"vfs_write+0x1d/", false},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        auto ref = parse_symbol_ref(c.text);
        CHECK(ref.has_value() == c.parses);
    }
    CHECK(parse_symbol_ref("vfs_write+0xffffffffffffffff/0x40")->offset == 0xffffffffffffffffULL);
}

TEST_CASE("a two-byte terminal escape costs no character of the line") {
    const std::string line = "[    1.000000] BUG: kernel NULL pointer dereference";
    for (const char* esc : {"\x1b" "c", "\x1b" "7", "\x1b" "8", "\x1b" "M", "\x1b[0m", "\x1b[1;31m", "\x1b[2J\x1b[H"}) {
        INFO(std::string(esc + 1));
        CHECK(normalize_line(esc + line, 1).text == "BUG: kernel NULL pointer dereference");
        CHECK(normalize_line(line + esc, 1).text == "BUG: kernel NULL pointer dereference");
    }
    CHECK(normalize_line("\x1b", 1).text.empty());  // a lone ESC at the end of a line
}

TEST_CASE("input sizes: K/M/G/T are powers of 1024; zero, junk and overflow are refused") {
    struct Case {
        const char* text;
        std::optional<std::uint64_t> bytes;
    } cases[] = {
        {"1000", 1000},        {"64k", 64 << 10},      {"512M", 512ull << 20},
        {"2G", 2ull << 30},    {"2GiB", 2ull << 30},   {"1T", 1ull << 40},
        {"0", std::nullopt},   {"", std::nullopt},     {"G", std::nullopt},
        {"12Q", std::nullopt}, {"-1", std::nullopt},   {"99999999999999999999", std::nullopt},
        {"16777216T", std::nullopt},  // 2^64
    };
    for (const auto& c : cases) {
        INFO(c.text);
        CHECK(parse_size(c.text) == c.bytes);
    }
    CHECK(format_size(2ull << 30) == "2 GiB");
    CHECK(format_size(1000) == "1000 bytes");
}

TEST_CASE("decompression: gzip, xz and zstd round-trip, concatenated members too, within the limit") {
    const std::string text = "Call Trace:\n vfs_write+0xc7/0x3f0\n";
    const std::pair<std::string, std::string> cases[] = {
        {kt::gzip(text), text}, {kt::xz(text), text}, {kt::zstd(text), text},
        {kt::gzip(text) + kt::gzip(text), text + text},  // `cat a.gz b.gz`
        {kt::zstd(text) + kt::zstd(text), text + text},  // two frames
    };
    for (const auto& [packed, want] : cases) {
        std::vector<char> out;
        REQUIRE(decompress(packed.data(), packed.size(), out, "t"));
        CHECK(std::string(out.begin(), out.end()) == want);
    }
    std::vector<char> out;
    CHECK(!decompress(text.data(), text.size(), out, "t"));  // not compressed: left alone
    const std::string cut = kt::gzip(text).substr(0, 12);
    CHECK(error_of([&] { decompress(cut.data(), cut.size(), out, "cut.gz"); }) ==
          "cut.gz: corrupt or truncated gzip data (re-fetch the file)");
}

TEST_CASE("a decompression bomb is refused at the limit, naming the file") {
    const std::string zeros(64 << 20, '\0');  // 64 MiB that packs into a few KiB
    const Limit limit(16 << 20);
    const std::pair<std::string, std::string> bombs[] = {
        {"bomb.ko.gz", kt::gzip(zeros)}, {"bomb.ko.xz", kt::xz(zeros)}, {"bomb.ko.zst", kt::zstd(zeros)}};
    for (const auto& bomb : bombs) {  // not a structured binding: clang 14 cannot capture one in INFO
        const std::string& name = bomb.first;
        const std::string& packed = bomb.second;
        INFO(name);
        CHECK(packed.size() < 100000);
        std::vector<char> out;
        CHECK(error_of([&] { decompress(packed.data(), packed.size(), out, name); }) ==
              name + ": decompresses to more than the 16 MiB input size limit (raise it with --max-input-size or "
                  "KADDR_MAX_INPUT_SIZE if the file is genuine)");
    }
}

TEST_CASE("text inputs: directories, binary data, /dev/zero and oversized files are refused, compressed logs read") {
    Scratch s("text");
    const std::string text = "ffffffff81000000 T _stext\n";
    CHECK(std::string(read_text_file(s.file("plain", text)).text) == text);
    CHECK(std::string(read_text_file(s.file("log.gz", kt::gzip(text))).text) == text);
    CHECK(std::string(read_text_file(s.file("log.xz", kt::xz(text))).text) == text);
    CHECK(std::string(read_text_file(s.file("log.zst", kt::zstd(text))).text) == text);
    CHECK(read_text_file(s.file("empty", "")).text.empty());
    // Large files are read into huge pages: sizes below, at and across the 2 MiB page.
    for (std::size_t size : {std::size_t{2} << 20, (std::size_t{2} << 20) - 1, std::size_t{3} << 20, std::size_t{4} << 20}) {
        std::string big;
        for (std::size_t i = 0; big.size() < size; ++i) big += text.substr(0, 17) + std::to_string(i) + "\n";
        big.resize(size);
        CHECK(read_text_file(s.file("big", big)).text == big);
    }

    CHECK(error_of([&] { read_text_file(s.dir.string()); }) ==
          s.dir.string() + ": is a directory, not a text file (give the file itself)");
    const std::string binary_why =
        ": binary data, not text (NUL and control bytes) (expected a text log, report or capture; a UTF-16 export "
        "needs 'iconv -f UTF-16 -t UTF-8')";
    CHECK(error_of([&] { read_text_file("/dev/zero"); }) == "/dev/zero" + binary_why);
    CHECK(error_of([&] { read_text_file(kt::fixture("fxmod.ko")); }) == kt::fixture("fxmod.ko") + binary_why);
    const std::string utf16 = s.file("utf16.log", std::string("B\0U\0G\0:\0 \0", 10));
    CHECK(error_of([&] { read_text_file(utf16); }) == utf16 + binary_why);
    const std::string gz_binary = s.file("elf.gz", kt::gzip(slurp(kt::fixture("fxmod.ko"))));
    CHECK(error_of([&] { read_text_file(gz_binary); }) == gz_binary + binary_why);  // judged once expanded

    const Limit limit(1024);
    const std::string big = s.file("big", std::string(4096, 'x'));
    CHECK(error_of([&] { read_text_file(big); }) ==
          big + ": is larger than the 1 KiB input size limit (raise it with --max-input-size or KADDR_MAX_INPUT_SIZE "
                "if the file is genuine)");
    const std::string big_gz = s.file("big.gz", kt::gzip(std::string(4096, 'x')));
    CHECK(error_of([&] { read_text_file(big_gz); }).find(big_gz + ": decompresses to more than the 1 KiB") == 0);
}

TEST_CASE("text inputs: a FIFO is read like a pipe, opened without waiting") {
    Scratch s("fifo");
    const std::string fifo = (s.dir / "log").string();
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    std::thread writer([&] { std::ofstream(fifo) << "[    1.0] BUG: x\n"; });
    CHECK(std::string(read_text_file(fifo).text) == "[    1.0] BUG: x\n");
    writer.join();
}

TEST_CASE("ELF inputs must be regular files: a directory, FIFO or device is refused without blocking") {
    Scratch s("elf");
    const std::string fifo = (s.dir / "vmlinux").string();
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    struct Case {
        std::string path, message;
    } cases[] = {
        {s.dir.string(), s.dir.string() + ": is a directory, not a regular file"},
        {fifo, fifo + ": is a FIFO (named pipe), not a regular file"},
        {"/dev/zero", "/dev/zero: is a character device, not a regular file"},
        {"/nonexistent/vmlinux", "/nonexistent/vmlinux: cannot open: No such file or directory"},
    };
    for (const auto& c : cases) CHECK(error_of([&] { ElfFile::open(c.path); }) == c.message);
}

TEST_CASE("an ELF section whose sh_offset + sh_size wraps past 2^64 is truncation, not in bounds") {
    Scratch s("wrap");
    std::string ko = slurp(kt::fixture("fxmod.ko"));
    std::uint64_t shoff;
    std::uint16_t shentsize;
    std::memcpy(&shoff, ko.data() + 0x28, 8);  // Elf64_Ehdr.e_shoff
    std::memcpy(&shentsize, ko.data() + 0x3a, 2);
    // Section 1 (.text): offset near 2^64, size such that the sum wraps to 0x100.
    const std::uint64_t offset = 0xffffffffffffff00ULL, size = 0x200;
    std::memcpy(ko.data() + shoff + shentsize + 24, &offset, 8);  // sh_offset
    std::memcpy(ko.data() + shoff + shentsize + 32, &size, 8);    // sh_size
    const std::string path = s.file("wrap.ko", ko);
    CHECK(error_of([&] { ElfFile::open(path); }) ==
          path + ": truncated ELF file: section 1 ends beyond the end of the file (the file was cut short; copy it again)");
}

TEST_CASE("a mapped file truncated under kaddr is one message naming it and exit 2, not SIGBUS") {
    Scratch s("sigbus");
    const std::string path = s.file("vmlinux", std::string(1 << 20, 'x'));
    int err[2];
    REQUIRE(pipe(err) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        dup2(err[1], STDERR_FILENO);
        auto m = MappedFile::open(path);
        if (truncate(path.c_str(), 0) != 0) _exit(3);
        volatile char c = m->bytes()[512 * 1024];  // a page that no longer exists
        (void)c;
        _exit(0);
    }
    close(err[1]);
    std::string message;
    char buf[512];
    for (ssize_t n; (n = read(err[0], buf, sizeof buf)) > 0;) message.append(buf, static_cast<std::size_t>(n));
    close(err[0]);
    int status = 0;
    waitpid(child, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
    CHECK(message == "kaddr: " + path +
                         ": the file shrank while kaddr was reading it (truncated or rewritten in place); copy it "
                         "somewhere stable and run again\n");
}

TEST_CASE("a FIFO at the index path is skipped and replaced, never waited on") {
    Scratch s("index");
    auto image = ElfFile::open(kt::fixture("fxvmlinux"));
    REQUIRE(image_index(*image, s.dir.string()));
    fs::path idx;
    for (const auto& e : fs::directory_iterator(s.dir)) idx = e.path();
    REQUIRE(!idx.empty());
    fs::remove(idx);
    REQUIRE(mkfifo(idx.c_str(), 0600) == 0);
    auto rebuilt = image_index(*image, s.dir.string());  // hung for ever before
    REQUIRE(rebuilt);
    CHECK(fs::is_regular_file(idx));
    auto loaded = image_index(*image, s.dir.string());  // and the new file is a good index
    REQUIRE(loaded);
    CHECK(loaded->symbols.size() == rebuilt->symbols.size());
}

TEST_CASE("an exception in a worker thread reaches the caller in order, after the results before it") {
    std::vector<std::size_t> emitted;
    auto work = [](std::size_t i) -> std::size_t {
        if (i == 37) throw Error("input-37", "bad input");
        return i * 2;
    };
    for (unsigned jobs : {1u, 2u, 4u}) {
        INFO(jobs);
        emitted.clear();
        CHECK(error_of([&] {
                  cli::ordered_parallel<std::size_t>(100, jobs, work, [&](std::size_t, std::size_t r) { emitted.push_back(r); });
              }) == "input-37: bad input");
        REQUIRE(emitted.size() == 37);
        for (std::size_t i = 0; i < emitted.size(); ++i) CHECK(emitted[i] == i * 2);
    }
}
