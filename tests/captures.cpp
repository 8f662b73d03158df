#include "captures.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <tuple>

#include "kaddr/lexemes.h"
#include "kaddr/oops_explain.h"
#include "kaddr/report_facts.h"
#include "kaddr/resolver.h"
#include "kaddr/snapshot_pool.h"
#include "support.h"

using namespace kaddr;
namespace fs = std::filesystem;

namespace kt {

std::string capture_set_dir(const std::string& set) {
    for (const std::string& d : {testdata("captures/" + set), testdata("../../shared/captures/" + set)})
        if (fs::is_directory(d)) return fs::path(d).lexically_normal().string() + "/";
    MESSAGE("SKIPPED LOUDLY: the capture set " << set << " is in neither testdata/captures nor ../shared/captures");
    return "";
}

std::vector<Capture> captures_of(const std::string& set) {
    const std::string root = capture_set_dir(set);
    REQUIRE_MESSAGE(!root.empty(), "capture set " << set << " not found");
    std::vector<std::string> files, dirs;
    for (const auto& e : fs::directory_iterator(root)) {
        // The test modules: ktoops/ktoops.ko, ktkinds/ktkinds.ko, or a .ko beside a kdump.
        if (e.is_directory() && !e.path().filename().string().starts_with("capture-")) {
            bool has = false;
            for (const auto& f : fs::directory_iterator(e.path()))
                if (f.path().extension() == ".ko") files.push_back(f.path().string()), has = true;
            if (has) dirs.push_back(e.path().string());
        } else if (e.path().extension() == ".ko") {
            files.push_back(e.path().string());
        }
    }
    std::sort(files.begin(), files.end());
    std::vector<Capture> out;
    for (const auto& e : fs::directory_iterator(root))
        if (e.is_directory() && e.path().filename().string().starts_with("capture-"))
            out.push_back({set, e.path().filename().string(), e.path().string() + "/", files, dirs});
    if (out.empty() && fs::exists(root + "proc_modules.txt")) out.push_back({set, set, root, files, dirs});
    std::sort(out.begin(), out.end(), [](const Capture& a, const Capture& b) { return a.name < b.name; });
    REQUIRE_MESSAGE(!out.empty(), root << " holds no capture");
    return out;
}

Capture capture_named(const std::string& set, const std::string& name) {
    for (auto& c : captures_of(set))
        if (c.name == name) return c;
    FAIL("no " << name << " in " << set);
    return {};
}

SnapshotInputs inputs_of(const Capture& c, Given given, const std::string& debug_root) {
    SnapshotInputs si;
    si.kallsyms = c.file("kallsyms.txt");
    if (given != Given::Kallsyms) si.proc_modules = c.file("proc_modules.txt");
    if (given == Given::KallsymsModulesDebugRoot) {
        si.debug_root = debug_root;
        si.module_dirs = c.module_dirs;
    }
    if (given == Given::WholeCapture) {
        si.version = c.file("version.txt");
        si.sections = c.file("sys_module_sections.txt");
        si.ko_files = c.module_files;
        si.debug_root = debug_root;
    }
    return si;
}

std::unique_ptr<Snapshot> load_capture(const Capture& c, const std::string& debug_root) {
    return load_snapshot(inputs_of(c, Given::WholeCapture, debug_root));
}

std::unique_ptr<Snapshot> load_capture(const std::string& set, const std::string& name, const std::string& debug_root) {
    return load_capture(capture_named(set, name), debug_root);
}

namespace {

bool is_arm(const Capture& c) { return c.set.find("arm") != std::string::npos; }

// x86 prints a return address with %pB: the function of address - 1, the
// offset from the address. ARM and arm64 print every frame with %pS.
AddressKind printed_as(const Capture& c, const std::string& kind) {
    return !is_arm(c) && (kind == "return-addr" || kind == "unreliable(?)") ? AddressKind::Return : AddressKind::Precise;
}

bool is_test_module(const Capture& c, const std::string& module) {
    return std::any_of(c.module_files.begin(), c.module_files.end(),
                       [&](const std::string& f) { return fs::path(f).stem() == module; });
}

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

bool same_locations(const std::vector<SourceLocation>& a, const std::vector<SourceLocation>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].function != b[i].function || a[i].file != b[i].file || a[i].line != b[i].line || a[i].column != b[i].column)
            return false;
    return true;
}

}  // namespace

TruthTally check_gdb_truth(const Capture& c, Given given, const std::string& debug_root) {
    TruthTally t;
    auto snap = load_snapshot(inputs_of(c, given, debug_root));
    Resolver res(*snap);
    const std::string gt = c.file("groundtruth/");
    for (auto& row : read_tsv(gt + "oops-frames.tsv")) {
        const bool core = row["module"] == "vmlinux";
        if (debug_root.empty() && !is_test_module(c, row["module"])) {
            ++t.skipped;
            continue;
        }
        const bool ret = row["kind"] != "RIP";
        Resolution r = res.resolve_address(*parse_hex(row["runtime_addr"]), ret ? AddressKind::Return : AddressKind::Precise);
        CHECK(r.module.has_value() == !core);
        if (row[ret ? "gdb_line(addr-1)" : "gdb_line(addr)"] == "?") {
            // Padding (6.12's __pfx_ before a function): gdb has no line,
            // addr2line names a file of another compile unit; kaddr must
            // give no line either.
            for (const auto& l : r.locations) CHECK_MESSAGE(l.line == 0, row["frame_text"] << ": " << l.file << ":" << l.line);
            ++t.checked;
            continue;
        }
        auto chain = parse_chain(row["addr2line -i (addr or addr-1 for return addrs)"]);
        // gdb's line for the innermost location is the reference (binutils
        // 2.40 misreads some DWARF 5 file indexes) where gdb names the same
        // function as addr2line: where it does not, gdb read another
        // function's line (the harness gave it no .init.text address, so on
        // 6.12 it reads the init code at the same offset) or a label
        // (`is at`), and addr2line's whole answer stands.
        auto [gfile, gline] = file_line(row[ret ? "gdb_line(addr-1)" : "gdb_line(addr)"]);
        static const std::regex gdb_in(R"( is in ([A-Za-z0-9_.]+) \()");
        std::smatch in;
        const std::string listed = row[ret ? "gdb_list(addr-1)" : "gdb_list(addr)"];
        if (!chain.empty() && !gfile.empty() && std::regex_search(listed, in, gdb_in) &&
            base_name(in[1]) == base_name(chain[0].function)) {
            chain[0].file = gfile;
            chain[0].line = gline;
        }
        check_chain(r, chain, c.set + " " + c.name + " " + row["frame_text"]);
        // The size the kernel printed after the slash is the symbol's span.
        std::smatch m;
        static const std::regex printed(R"(([A-Za-z0-9_.]+)\+0x[0-9a-f]+/0x([0-9a-f]+))");
        if (std::regex_search(row["frame_text"], m, printed) && m[1] == r.symbol) {
            CHECK_MESSAGE(r.span == *parse_hex(m[2].str()), row["frame_text"]);
            ++t.spans;
        }
        ++t.checked;
    }
    for (auto& row : read_tsv(gt + "symbols.tsv")) {
        Resolution r = res.resolve_address(*parse_hex(row["runtime_addr"]));
        INFO(c.set << " " << c.name << " " << row["symbol"] << " [" << row["module"] << "]");
        REQUIRE(r.module);
        CHECK(*r.module == row["module"]);
        bool named = r.symbol == row["symbol"];
        for (const auto& a : r.aliases) named = named || a == row["symbol"];
        CHECK_MESSAGE(named, "got " << r.symbol);
        CHECK(r.offset == 0);
        if (debug_root.empty() && !is_test_module(c, row["module"])) {
            CHECK(r.confidence == "symbol-only");
            ++t.skipped;
            continue;
        }
        // gdb has no line (`?`) to compare with; a __pfx_ symbol is the
        // padding before a function (6.1x), which has no line of its own
        // (gdb reads the previous row, addr2line none).
        if (row["gdb_info_line"] == "?" || row["symbol"].starts_with("__pfx_")) {
            ++t.checked;
            continue;
        }
        // Plain variables, not a structured binding: clang 14 cannot capture
        // one in the lambdas doctest's CHECK macros make.
        auto [file_text, line_number] = file_line(row["gdb_info_line"]);
        auto file = file_text;
        auto line = line_number;
        // Rows where gdb disagrees with llvm-symbolizer, eu-addr2line and
        // binutils alike; each is explained in testdata/groundtruth-exceptions.tsv.
        for (auto& ex : read_tsv(testdata("groundtruth-exceptions.tsv")))
            if (ex["arch_dir"] == c.set && ex["symbol"] == row["symbol"] && ex["module"] == row["module"])
                std::tie(file, line) = file_line(ex["expected"]);
        REQUIRE_MESSAGE(!r.locations.empty(), (r.notes.empty() ? "" : r.notes[0]));
        CHECK_MESSAGE(same_path(r.locations[0].file, file), r.locations[0].file << " want " << file);
        CHECK(r.locations[0].line == line);
        CHECK(r.confidence == (given == Given::WholeCapture ? "exact" : r.module ? "reconstructed-layout" : "exact"));
        ++t.checked;
    }
    return t;
}

int check_printed_frames(const Capture& c, Given given, const std::string& debug_root) {
    int checked = 0;
    auto snap = load_snapshot(inputs_of(c, given, debug_root));
    const Resolver res(*snap);
    for (auto& row : read_tsv(c.file("groundtruth/oops-frames.tsv"))) {
        const auto want = printed_frame(row["frame_text"]);
        if (!want) continue;
        INFO(c.set << " " << c.name << " configuration " << static_cast<int>(given) << ": " << row["frame_text"]);
        Resolution r = res.resolve_address(*parse_hex(row["runtime_addr"]), printed_as(c, row["kind"]));
        REQUIRE_MESSAGE(!r.error, *r.error);
        bool named = r.symbol == want->symbol;
        for (const auto& a : r.aliases) named = named || a == want->symbol;
        CHECK_MESSAGE(named, "got " << r.symbol);
        CHECK(r.offset == want->offset);
        CHECK(r.module.value_or("") == want->module);
        ++checked;
    }
    return checked;
}

ZeroTally compare_zero_setup(const std::string& set, const std::string& debug_root) {
    ZeroTally t;
    SnapshotPool pool;
    for (const Capture& c : captures_of(set)) {
        SnapshotInputs bare;  // what a user has: the report, the module files, the -dbg package
        bare.module_dirs = c.module_dirs;
        bare.debug_root = debug_root;
        auto with_capture = load_capture(c, debug_root);
        const Resolver full(*with_capture);
        for (const char* dir : {"oops", "console-oops"}) {
            std::error_code ec;
            for (const auto& file : fs::directory_iterator(c.dir + dir, ec)) {
                for (auto& report : parse_report_file(file.path().string())) {
                    ++t.reports;
                    auto snap = pool.get(with_report_facts(bare, report, file.path().string()));
                    const Resolver zero(*snap);
                    ExplainedReport a = explain(report, full), b = explain(report, zero);
                    REQUIRE(a.frames.size() == b.frames.size());
                    for (std::size_t i = 0; i < a.frames.size(); ++i) {
                        const Resolution &ra = a.frames[i].resolution, &rb = b.frames[i].resolution;
                        if (ra.locations.empty()) continue;  // not a code frame with source (user space, ...)
                        const bool module = ra.module.has_value();
                        if (!module && debug_root.empty()) continue;
                        if (module && debug_root.empty() && !is_test_module(c, *ra.module)) continue;
                        INFO(file.path().string() << ": " << ra.input);
                        CHECK_MESSAGE(same_locations(ra.locations, rb.locations),
                                      "with capture " << ra.locations[0].function << " " << ra.locations[0].file << ":"
                                                      << ra.locations[0].line << "; without: "
                                                      << (rb.locations.empty() ? (rb.error ? *rb.error : std::string("nothing"))
                                                                               : rb.locations[0].file + ":" +
                                                                                     std::to_string(rb.locations[0].line)));
                        CHECK(rb.module == ra.module);
                        CHECK(rb.symbol == ra.symbol);
                        CHECK(rb.section == ra.section);
                        if (module) {
                            // No load address: said, and never claimed exact.
                            if (!rb.address) CHECK(rb.confidence == "module-relative");
                            ++t.module_frames;
                        } else {
                            CHECK_MESSAGE(rb.confidence == "exact", (rb.notes.empty() ? std::string() : rb.notes.back()));
                            ++t.core_frames;
                        }
                    }
                    // The guilty frame is the same one, named the same way.
                    CHECK(a.guilty_function == b.guilty_function);
                    // A data address either resolves or says why not.
                    if (b.fault) CHECK((b.fault->resolved() || b.fault->error.has_value()));
                }
            }
        }
    }
    return t;
}

}  // namespace kt
