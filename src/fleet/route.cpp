// kaddr route: the kernel a report or dump is from, read at a small
// fraction of a parse. Lines are scanned for a few fixed strings; only
// lines that may be a headline are normalised (their transport prefixes
// removed) and classified, and only until the first headline is found.
#include <cctype>
#include <filesystem>

#include "../oops/report_lines.h"
#include "kaddr/arch.h"
#include "kaddr/error.h"
#include "kaddr/fleet.h"
#include "kaddr/inputs.h"
#include "kaddr/json_schema.h"
#include "kaddr/vmcore.h"
#include "kaddr/vmcore_explain.h"

namespace kaddr {

namespace {

// The word after `key` in `line`, up to a space.
std::string_view word_after(std::string_view line, std::size_t at) {
    while (at < line.size() && line[at] == ' ') ++at;
    const std::size_t end = std::min(line.find(' ', at), line.size());
    return line.substr(at, end - at);
}

// The release in `CPU: 0 PID: 1 Comm: x Tainted: G   W  O  6.1.0-1-amd64 #1`
// (or `Not tainted 6.1.0 #1`): the first word after the taint letters.
std::string release_after_taint(std::string_view line) {
    std::size_t at;
    bool letters = false;
    if ((at = line.find(" Tainted: ")) != std::string_view::npos) at += 10, letters = true;
    else if ((at = line.find(" Not tainted ")) != std::string_view::npos) at += 13;
    else return {};
    for (;;) {
        const std::string_view w = word_after(line, at);
        if (w.empty()) return {};
        at = static_cast<std::size_t>(w.data() - line.data()) + w.size();
        const bool flags = w.size() <= 20 && std::all_of(w.begin(), w.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); });
        if (letters && flags) continue;
        if (w.front() == '#') return {};
        return std::string(w);
    }
}

// Register and frame shapes of each architecture (when the release does
// not name it).
std::string arch_from_line(std::string_view l) {
    if (line_has(l, "RIP: 0010:") || line_has(l, "RIP: 0033:") || line_has(l, " RIP: ")) return "x86_64";
    if (line_has(l, "EIP: ")) return "i386";
    if (line_has(l, "pc : ") && (line_has(l, "[<") || line_has(l, "+0x"))) return "arm64";
    if (line_has(l, "PC is at ") || line_has(l, ") from [<")) return "arm";
    if (line_has(l, "NIP:  ") || line_has(l, "NIP [")) return "powerpc";
    if (line_has(l, "epc : ")) return "riscv";
    if (line_has(l, "Krnl PSW : ")) return "s390";
    return {};
}

bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// `func+0x10/0x20 [mod 0123...ef]`: module -> build-id.
void module_build_ids(std::string_view l, std::map<std::string, std::string>& out) {
    for (std::size_t at = l.find(" ["); at != std::string_view::npos; at = l.find(" [", at + 2)) {
        const std::size_t close = l.find(']', at);
        if (close == std::string_view::npos) return;
        const std::string_view in = l.substr(at + 2, close - at - 2);
        const std::size_t sp = in.find(' ');
        if (sp == std::string_view::npos || sp == 0) continue;
        const std::string_view id = in.substr(sp + 1);
        if (id.size() >= 16 && id.size() <= 64 && is_hex(id)) out.emplace(std::string(in.substr(0, sp)), std::string(id));
    }
}

// Lines that may start a report: the words every headline kind begins
// or ends with (see headline_kind), as a cheap filter before normalising.
bool may_be_headline(std::string_view l) {
    for (std::string_view k : {"BUG", "WARNING", "Oops", "general protection", "Unable to handle", "KASAN", "KCSAN",
                               "KMSAN", "KFENCE", "UBSAN", "INFO:", "watchdog", "panic", "deadlock", "locking",
                               "blocked for more than", "rcu", "NMI", "Call Trace", "Call trace", "Backtrace", "double fault",
                               "memory leak", "allocation failure", "VERIFY", "PANIC", "SysRq", "lockup", "stall",
                               "Internal error", "unreferenced object", "kernel NULL", "Stack:", "dump_stack"})
        if (line_has(l, k)) return true;
    return false;
}

}  // namespace

Route route_text(std::string_view text) {
    Route r;
    for (std::string_view rest = text; !rest.empty();) {
        const std::size_t eol = std::min(rest.find('\n'), rest.size());
        const std::string_view l = rest.substr(0, eol);
        rest.remove_prefix(std::min(eol + 1, rest.size()));
        ++r.lines;
        if (r.release.empty()) {
            if (std::string rel = release_after_taint(l); !rel.empty()) r.release = std::move(rel);
            else if (const auto v = l.find("Linux version "); v != std::string_view::npos)
                r.release = std::string(word_after(l, v + 14));
        }
        if (r.arch.empty()) r.arch = arch_from_line(l);
        if (line_has(l, " [")) module_build_ids(l, r.module_build_ids);
        if (r.headline.empty() && may_be_headline(l)) {
            const LogLine n = normalize_line(std::string(l), r.lines);
            bool strong = false;
            if (const ReportKind k = headline_kind(n.text, strong); k != ReportKind::None && k != ReportKind::DumpStack) {
                r.kind = kind_name(k);
                r.headline = std::string(trim(n.text));
            }
        }
    }
    if (const Arch a = arch_from_name(r.release); a != Arch::Unknown) r.arch = std::string(arch_name(a));
    return r;
}

Route route_file(const std::string& path) {
    std::string dump;
    if (std::error_code ec; std::filesystem::is_directory(path, ec)) {
        const auto k = kdump_dir(path);
        if (!k) throw Error(path, "a directory that is no kdump-tools crash directory");
        if (k->dump.empty()) return route_file(k->dmesg);
        dump = k->dump;
    } else if (is_kdump_file_name(std::filesystem::path(path).filename().string())) {
        dump = path;
    }
    if (dump.empty()) {
        const TextFile f = read_text_file(path);
        Route r = route_text(f.text);
        r.input_hash = content_hash(f.text);
        return r;
    }
    const auto v = Vmcore::open(dump);  // VMCOREINFO only: no page is read
    Route r;
    r.release = v->info().osrelease();
    r.build_id = v->info().build_id();
    r.arch = v->arch() == "aarch64" ? "arm64" : v->arch();
    r.kind = "vmcore";
    return r;
}

nlohmann::json to_json(const Route& r, const std::string& source) {
    auto opt = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
    return {{"schema_version", kJsonSchemaVersion},
            {"record", "route"},
            {"source_file", source},
            {"input_hash", opt(r.input_hash)},
            {"release", opt(r.release)},
            {"arch", opt(r.arch)},
            {"build_id", opt(r.build_id)},
            {"module_build_ids", r.module_build_ids},
            {"kind", opt(r.kind)},
            {"headline", opt(r.headline)},
            {"lines", r.lines}};
}

}  // namespace kaddr
