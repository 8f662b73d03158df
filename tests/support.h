// Helpers shared by the tests: where test data lives, TSV ground truth,
// source markers, and comparing paths across build machines.
#pragma once
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "kaddr/error.h"
#include "kaddr/resolution.h"
#include "kaddr/snapshot.h"

namespace kt {

inline std::string testdata(const std::string& rel) { return std::string(KADDR_TESTDATA) + "/" + rel; }
inline std::string fixture(const std::string& rel) { return std::string(KADDR_FIXTURES) + "/" + rel; }

// syzkaller's report corpus beside the repository (../shared/corpora), or
// "" (said loudly) when this checkout has none.
inline std::string syzkaller_reports() {
    const std::string dir = std::string(KADDR_TESTDATA) + "/../../shared/corpora/syzkaller-linux/report";
    std::ifstream probe(dir + "/../LICENSE");
    if (!probe) MESSAGE("SKIPPED: " << dir << " is not present");
    return probe ? dir : "";
}

// A whole file's bytes ("" when it cannot be read).
inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

// Rows of a TSV file as column-name -> value maps.
inline std::vector<std::map<std::string, std::string>> read_tsv(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::map<std::string, std::string>> rows;
    std::string line;
    std::vector<std::string> header;
    auto split = [](const std::string& l) {
        std::vector<std::string> out;
        std::string cell;
        std::istringstream s(l);
        while (std::getline(s, cell, '\t')) out.push_back(cell);
        if (!l.empty() && l.back() == '\t') out.push_back("");
        return out;
    };
    while (std::getline(in, line)) {
        if (header.empty()) {
            header = split(line);
            continue;
        }
        auto cells = split(line);
        std::map<std::string, std::string> row;
        for (std::size_t i = 0; i < header.size(); ++i) row[header[i]] = i < cells.size() ? cells[i] : "";
        rows.push_back(std::move(row));
    }
    return rows;
}

// Line number of the "MARK:name" comment in a fixture source.
inline int marker_line(const std::string& source, const std::string& name) {
    std::ifstream in(std::string(KADDR_FIXTURE_SOURCES) + "/" + source);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
        if (line.find("MARK:" + name + " ") != std::string::npos || line.find("MARK:" + name + "*") != std::string::npos)
            return n;
    return -1;
}

// Build paths differ between machines: compare the shorter path as a suffix
// of the longer, on a path-component boundary.
inline bool same_path(const std::string& a, const std::string& b) {
    if (a.empty() || b.empty()) return false;
    const std::string& s = a.size() < b.size() ? a : b;
    const std::string& l = a.size() < b.size() ? b : a;
    if (l.compare(l.size() - s.size(), s.size(), s) != 0) return false;
    return l.size() == s.size() || l[l.size() - s.size() - 1] == '/';
}

// One frame of a symbolizer chain: "func@path:line[:col][ (discriminator N)]".
struct ChainEntry {
    std::string function, file;
    int line = 0;
};
inline std::vector<ChainEntry> parse_chain(const std::string& text) {
    std::vector<ChainEntry> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find(" <- ", pos);
        std::string part = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        pos = end == std::string::npos ? text.size() : end + 4;
        if (auto d = part.find(" (discriminator"); d != std::string::npos) part.resize(d);
        ChainEntry e;
        std::size_t at = part.find('@');
        e.function = part.substr(0, at);
        std::string loc = at == std::string::npos ? "" : part.substr(at + 1);
        // path:line or path:line:col
        std::vector<std::string> bits;
        std::size_t c;
        while ((c = loc.rfind(':')) != std::string::npos && bits.size() < 2 &&
               loc.find_first_not_of("0123456789?", c + 1) == std::string::npos) {
            bits.push_back(loc.substr(c + 1));
            loc.resize(c);
        }
        e.file = loc;
        if (!bits.empty()) e.line = std::atoi(bits.back().c_str());
        out.push_back(e);
    }
    return out;
}

// "file:line" -> (file, line)
inline std::pair<std::string, int> file_line(const std::string& s) {
    auto c = s.rfind(':');
    if (c == std::string::npos) return {s, 0};
    return {s.substr(0, c), std::atoi(s.c_str() + c + 1)};
}

// GCC clone suffixes: foo.constprop.0 / foo.isra.0 / foo.part.0 / foo.cold are foo.
inline std::string base_name(std::string n) {
    auto d = n.find('.');
    return d == std::string::npos ? n : n.substr(0, d);
}

// syzkaller's titles drop syscall wrapper prefixes: __x64_sys_foo is
// sys_foo, __se_sys_foo and __do_sys_foo are foo.
inline std::string syscall_name(std::string n) {
    for (const char* p : {"__x64_", "__ia32_", "__arm64_", "__se_sys_", "__do_sys_"})
        if (n.rfind(p, 0) == 0) n = n.substr(std::string(p).size());
    return n;
}

// Same inline chain: function names (modulo clone suffixes), files (as path
// suffixes) and lines. `inner_override` replaces the expected innermost
// file:line (gdb's answer where binutils misreads DWARF 5 file indexes).
inline void check_chain(const kaddr::Resolution& r, std::vector<ChainEntry> want, const std::string& what) {
    INFO(what);
    REQUIRE_MESSAGE(!r.locations.empty(), "no source location; notes: " << (r.notes.empty() ? "" : r.notes[0]));
    REQUIRE_MESSAGE(r.locations.size() == want.size(), "inline depth " << r.locations.size() << " want " << want.size()
                                                                      << " (innermost " << r.locations[0].function << ")");
    for (std::size_t i = 0; i < want.size(); ++i) {
        const auto& got = r.locations[i];
        // Without a DWARF subprogram the name comes from the symbol table,
        // where linker labels share addresses: any alias is the same answer.
        bool named = base_name(got.function) == base_name(want[i].function);
        for (const auto& a : r.aliases) named = named || (i + 1 == want.size() && a == want[i].function);
        CHECK_MESSAGE(named, "frame " << i << ": " << got.function << " want " << want[i].function);
        if (want[i].file == "??") {  // no line information; kaddr says so with an empty file
            CHECK(got.file.empty());
            continue;
        }
        CHECK_MESSAGE(same_path(got.file, want[i].file), "frame " << i << ": " << got.file << " want " << want[i].file);
        CHECK_MESSAGE(got.line == want[i].line, "frame " << i << ": line " << got.line << " want " << want[i].line);
    }
}

// The message of the kaddr::Error that `f` throws; empty when it throws none.
inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const kaddr::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace kt

#include "captures.h"
