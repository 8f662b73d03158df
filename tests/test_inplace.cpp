// `kaddr oops --format=inplace` on the bundled real captures: the log as
// given with decode_stacktrace.sh's `func+off/size (file:line ...) [mod]`
// layout. Three checks per file: (1) the layout, by a rule independent of
// kaddr's own (every line unchanged but for one ` (...)` right after the
// line's last sym+off/size token); (2) on x86_64 the source in the
// parentheses equals the addr2line -i answer recorded with the capture, at
// the call for return addresses; (3) the annotated lines are pinned in
// golden files, "LINE<TAB>text" per changed line since (1) already holds
// every other line to the input (KADDR_UPDATE_GOLDEN=1 rewrites them after
// a reviewed change).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "cli_run.h"
#include "support.h"

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> v;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
}

std::string slurp(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

// The expected parenthesis of decode_stacktrace.sh's layout from an
// addr2line chain "fn@file:line <- fn@file:line" (innermost first): the
// outermost file:line, then each inlined function with its file:line.
std::vector<std::string> expected_tokens(const std::string& chain) {
    auto c = kt::parse_chain(chain);
    std::vector<std::string> t;
    if (c.empty()) return t;
    t.push_back(c.back().file + ":" + std::to_string(c.back().line));
    for (std::size_t i = c.size() - 1; i-- > 0;) {
        t.push_back(c[i].function);
        t.push_back(c[i].file + ":" + std::to_string(c[i].line));
    }
    return t;
}

bool same_token(const std::string& got, const std::string& want) {
    if (want.find(':') == std::string::npos) return kt::base_name(got) == kt::base_name(want);
    auto [gf, gl] = kt::file_line(got);
    auto [wf, wl] = kt::file_line(want);
    return gl == wl && kt::same_path(gf, wf);
}

struct Tally {
    int files = 0, annotated = 0, compared = 0;
};

// Runs one capture directory's logs through --format=inplace and checks them.
void check_capture(const std::string& arch_dir, const std::string& cap, const std::string& debug_root,
                   const std::string& golden_root, Tally& t) {
    const std::string d = kt::testdata("captures/" + arch_dir + "/" + cap + "/");
    std::map<std::string, std::string> truth;  // raw frame line -> addr2line -i chain (x86_64 captures)
    for (auto& row : kt::read_tsv(d + "groundtruth/oops-frames.tsv"))
        if (row.count("addr2line -i (addr or addr-1 for return addrs)"))
            truth[row["frame_text"]] = row["addr2line -i (addr or addr-1 for return addrs)"];
    static const std::regex frame_token(R"([A-Za-z0-9_.$]+\+0x[0-9a-f]+/0x[0-9a-f]+)");
    const bool update = !kt::env("KADDR_UPDATE_GOLDEN").empty();
    for (const char* sub : {"oops", "console-oops"}) {
        if (!fs::is_directory(d + sub)) continue;
        for (const auto& e : fs::directory_iterator(d + sub)) {
            const std::string input = slurp(e.path());
            std::string args = "oops --format=inplace --snapshot " + d + "snapshot --modules " +
                               kt::testdata("captures/" + arch_dir + "/ktoops");
            if (!debug_root.empty()) args += " --debug-root " + debug_root;
            const std::string out = kt::run(args + " " + e.path().string()).out;
            const std::string where = cap + "/" + sub + "/" + e.path().filename().string();
            INFO(where);
            ++t.files;
            const auto in_lines = split_lines(input), out_lines = split_lines(out);
            REQUIRE(in_lines.size() == out_lines.size());
            std::string changed;
            for (std::size_t i = 0; i < in_lines.size(); ++i) {
                const std::string& l = in_lines[i];
                const std::string& o = out_lines[i];
                if (o == l) continue;
                changed += std::to_string(i + 1) + "\t" + o + "\n";
                INFO("line " << i + 1 << ": " << o);
                // (1) one " (...)" right after the last frame token, nothing else changed.
                std::size_t end = std::string::npos;
                for (std::sregex_iterator m(l.begin(), l.end(), frame_token), stop; m != stop; ++m)
                    end = static_cast<std::size_t>(m->position() + m->length());
                REQUIRE(end != std::string::npos);
                REQUIRE(o.size() > l.size() + 3);
                const std::size_t inserted = o.size() - l.size();
                CHECK(o.substr(0, end) == l.substr(0, end));
                CHECK(o.substr(end, 2) == " (");
                CHECK(o[end + inserted - 1] == ')');
                CHECK(o.substr(end + inserted) == l.substr(end));
                ++t.annotated;
                // (2) the source agrees with addr2line -i at the right address.
                auto want = truth.find(l);
                if (want == truth.end()) continue;
                std::istringstream words(o.substr(end + 2, inserted - 3));
                std::vector<std::string> got{std::istream_iterator<std::string>(words), {}};
                const auto expect = expected_tokens(want->second);
                REQUIRE_MESSAGE(got.size() == expect.size(), "addr2line: " << want->second);
                for (std::size_t k = 0; k < got.size(); ++k)
                    CHECK_MESSAGE(same_token(got[k], expect[k]), got[k] << " want " << expect[k]);
                ++t.compared;
            }
            // (3) pinned.
            const fs::path golden = kt::testdata(golden_root + "/" + arch_dir + "/" + where);
            if (update) {
                fs::create_directories(golden.parent_path());
                std::ofstream(golden, std::ios::binary) << changed;
            }
            CHECK_MESSAGE(slurp(golden) == changed, "differs from " << golden.string());
        }
    }
}

}  // namespace

TEST_CASE("oops --format=inplace: decode_stacktrace.sh's layout on every bundled capture (shipped ktoops.ko)") {
    Tally t;
    for (const char* cap : {"capture-1", "capture-2"}) check_capture("deb12-6.1.0-56-cloud", cap, "", "inplace", t);
    for (const char* cap : {"capture-1", "capture-2", "capture-3"}) check_capture("deb12-6.1.0-56-arm64", cap, "", "inplace", t);
    for (const char* cap : {"capture-1", "capture-2"}) check_capture("deb12-6.1.0-50-armmp", cap, "", "inplace", t);
    MESSAGE(t.files << " logs, " << t.annotated << " frame lines annotated, " << t.compared << " compared with addr2line");
    CHECK(t.files >= 20);
    CHECK(t.annotated >= 40);
    CHECK(t.compared >= 20);
}

TEST_CASE("oops --format=inplace with the Debian debug package: every x86_64 frame" * doctest::test_suite("vmlinux-x86_64")) {
    const std::string root = kt::env("KADDR_DEBUG_ROOT_X86_64");
    REQUIRE_MESSAGE(!root.empty(), "run through tests/run-vmlinux-tier.sh x86_64");
    Tally t;
    for (const char* cap : {"capture-1", "capture-2"}) check_capture("deb12-6.1.0-56-cloud", cap, root, "inplace-dbg", t);
    MESSAGE(t.files << " logs, " << t.annotated << " frame lines annotated, " << t.compared << " compared with addr2line");
    CHECK(t.compared >= 80);
}
