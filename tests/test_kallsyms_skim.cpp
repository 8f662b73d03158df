// The kallsyms skim (the core's lines sampled, not all read, when a vmlinux
// gives the core's symbols) against the full parse of every line, on every
// real capture and on captures reordered and reformatted as people do.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "kaddr/error.h"
#include "kaddr/inputs.h"
#include "model/listed_symbols.h"
#include "support.h"

using namespace kaddr;
using kt::error_of;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// What the full parse says: every module's lines, the anchors, every core line.
struct Full {
    std::map<std::string, std::vector<std::string>> modules;
    std::vector<std::string> anchors, core;
};

std::string key(const ListedSymbol& s) { return std::to_string(s.addr) + " " + s.type + " " + std::string(s.name); }

Full full_parse(const std::string& text) {
    Full f;
    scan_kallsyms(text, "k", [&](const ListedSymbol& s) {
        if (!s.module.empty()) f.modules[canonical_module_name(std::string(s.module))].push_back(key(s));
        else {
            f.core.push_back(key(s));
            if (s.name == "_text" || s.name == "_stext") f.anchors.push_back(key(s));
        }
    });
    std::sort(f.core.begin(), f.core.end());
    return f;
}

// The loader's reading of it with a vmlinux at hand (the skim), compared
// to the full parse: the same modules and anchors, a sample of real core
// text lines of a useful size.
void check_skim_equals_full(const std::string& text, const std::string& what) {
    CAPTURE(what);
    const Full f = full_parse(text);
    Listed listed;
    read_kallsyms(listed, text, "k", false);
    CHECK(listed.has_core == !f.core.empty());
    std::map<std::string, std::vector<std::string>> modules;
    for (const auto& [name, syms] : listed.modules)
        for (const auto& s : syms) modules[name].push_back(key(s));
    CHECK(modules == f.modules);
    std::vector<std::string> anchors;
    for (const auto& s : listed.core_anchors) anchors.push_back(key(s));
    CHECK(anchors == f.anchors);
    for (const auto& s : listed.core_sample) {
        CHECK((s.type == 'T' || s.type == 't'));
        CHECK(std::binary_search(f.core.begin(), f.core.end(), key(s)));
    }
    // Enough for check_same_build to judge a whole kernel's capture (it
    // wants 20), and not so many that looking them up costs (a skim gives
    // about 130, a capture read whole one text line in 97, about 500).
    if (f.core.size() > 10000) {
        MESSAGE(what << ": " << listed.core_sample.size() << " sampled");
        CHECK(listed.core_sample.size() >= 40);
        CHECK(listed.core_sample.size() <= 600);
    }
    CHECK(listed.core.empty());  // not kept: the vmlinux is the core's symbol table
}

const std::vector<std::string> kCaptures = {
    "captures/deb12-6.1.0-56-cloud/capture-1/", "captures/deb12-6.1.0-56-cloud/capture-2/",
    "captures/deb12-6.1.0-56-arm64/capture-1/", "captures/deb12-6.1.0-56-arm64/capture-2/",
    "captures/deb12-6.1.0-56-arm64/capture-3/", "captures/deb12-6.1.0-50-armmp/capture-1/",
    "captures/deb12-6.1.0-50-armmp/capture-2/"};

}  // namespace

TEST_CASE("kallsyms skim: every real capture gives the modules, anchors and a true sample") {
    for (const auto& c : kCaptures) check_skim_equals_full(slurp(kt::testdata(c + "kallsyms.txt")), c);
}

TEST_CASE("kallsyms skim: captures reordered or reformatted by hand") {
    const std::string text = slurp(kt::testdata(kCaptures[0] + "kallsyms.txt"));
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& l : v) s += l + "\n";
        return s;
    };
    SUBCASE("sorted by name: the anchors are far from the head, the modules interleaved") {
        auto sorted = lines;
        std::sort(sorted.begin(), sorted.end(), [](const std::string& a, const std::string& b) { return a.substr(19) < b.substr(19); });
        check_skim_equals_full(join(sorted), "sorted by name");
    }
    SUBCASE("sorted by address") {
        auto sorted = lines;
        std::sort(sorted.begin(), sorted.end());
        check_skim_equals_full(join(sorted), "sorted by address");
    }
    SUBCASE("tabs turned into spaces (pasted through a web page)") {
        std::string spaced = text;
        std::replace(spaced.begin(), spaced.end(), '\t', ' ');
        check_skim_equals_full(spaced, "spaces");
    }
    SUBCASE("CRLF line ends, blank lines") {
        std::string crlf;
        for (std::size_t i = 0; i < lines.size(); ++i) crlf += lines[i] + (i % 1000 == 0 ? "\r\n\r\n" : "\r\n");
        check_skim_equals_full(crlf, "crlf");
    }
    SUBCASE("no modules, and only the head") {
        std::vector<std::string> core;
        for (const auto& l : lines)
            if (l.find('[') == std::string::npos) core.push_back(l);
        check_skim_equals_full(join(core), "no modules");
        check_skim_equals_full(join({core.begin(), core.begin() + 400}), "400 lines");
    }
}

TEST_CASE("kallsyms skim: what it reads is checked, and named by its line") {
    const std::string text = slurp(kt::testdata(kCaptures[0] + "kallsyms.txt"));
    Listed listed;
    // A bad line in the head (line 3) and in the module lines (the last).
    std::string head = text;
    head.insert(head.find('\n', head.find('\n') + 1) + 1, "garbage\n");
    CHECK(error_of([&] { read_kallsyms(listed, head, "k.txt", false); }).find("k.txt:3: not a kallsyms line") != std::string::npos);
    const std::string tail = text + "ffffffffc0569040 t\n";
    const auto n = std::count(text.begin(), text.end(), '\n') + 1;
    CHECK(error_of([&] { read_kallsyms(listed, tail, "k.txt", false); }).find("k.txt:" + std::to_string(n) + ":") != std::string::npos);
    // All zero (read without privilege) is still refused.
    std::string zeros = text;  // every line: 16 hex digits, then the rest
    for (std::size_t p = 0; p < zeros.size(); p = zeros.find('\n', p) + 1) zeros.replace(p, 16, 16, '0');
    CHECK(error_of([&] { read_kallsyms(listed, zeros, "k.txt", false); }).find("kptr_restrict") != std::string::npos);
    // ... but one real address, on a line the skim does not read, is enough (found by fuzzing).
    const std::size_t middle = zeros.find('\n', zeros.size() / 2) + 1;
    zeros.replace(middle, 16, text.substr(middle, 16));
    CHECK(error_of([&] { read_kallsyms(listed, zeros, "k.txt", false); }).empty());
}
