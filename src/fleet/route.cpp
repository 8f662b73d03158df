// kaddr route: the kernel a report or dump is from, read at a small
// fraction of a parse. Lines are scanned for a few fixed strings; only
// lines that may be a headline are normalised (their transport prefixes
// removed) and classified, and only until the first headline is found.
#include <string.h>

#include <cctype>
#include <filesystem>
#include <fstream>

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

// text.find(key, from) through memmem: string_view::find looks for the
// key's first byte with memchr, and a key that starts with a space stops
// it at every word.
std::size_t find(std::string_view text, std::string_view key, std::size_t from = 0) {
    if (from >= text.size()) return std::string_view::npos;
    const void* at = memmem(text.data() + from, text.size() - from, key.data(), key.size());
    return at ? static_cast<std::size_t>(static_cast<const char*>(at) - text.data()) : std::string_view::npos;
}

// Words that every headline headline_kind() knows holds (src/oops/
// report_lines.cpp): a line with none of them is no headline.
constexpr std::string_view kHeadlineWords[] = {
    "BUG", "WARNING: ", "INFO: ", "Oops", "PANIC", "Unable to handle", "Internal error", "Kernel NULL",
    "Kernel attempted", "Kernel panic", "NMI backtrace", "SPLError", "SysRq : Show", "sysrq: Show", "UBSAN: ",
    "KMSAN: ", "Unhandled fault", "VERIFY", "Watchdog detected", "Bad mode in ", "divide error", "divide_error",
    "general protection", "invalid opcode", "stack segment", "unreferenced object", " page allocation failure"};

// The earliest occurrence at or after `from` of any of `words` (each at
// most 64 bytes), and which: searched window by window, so that words
// absent from a long log do not cost a scan of all of it each.
template <std::size_t N>
std::pair<std::size_t, std::size_t> earliest(std::string_view text, const std::string_view (&words)[N], std::size_t from) {
    constexpr std::size_t kWindow = 2048, kOverlap = 64;
    for (std::size_t lo = from; lo < text.size(); lo += kWindow) {
        const std::string_view part = text.substr(0, std::min(text.size(), lo + kWindow + kOverlap));
        std::pair<std::size_t, std::size_t> best{std::string_view::npos, 0};
        for (std::size_t i = 0; i < N; ++i)
            if (const std::size_t at = find(part, words[i], lo); at < best.first) best = {at, i};
        if (best.first != std::string_view::npos) return best;
    }
    return {std::string_view::npos, 0};
}

// Register line shapes, for the architecture when the release does not say it.
constexpr std::string_view kArchShapes[] = {"RIP: 00", " RIP: ", "EIP: ", "pc : ", "PC is at ", ") from [<",
                                            "NIP:  ", "NIP [", "epc : ", "Krnl PSW : "};
constexpr std::string_view kShapeArch[] = {"x86_64", "x86_64", "i386", "arm64", "arm", "arm",
                                           "powerpc", "powerpc", "riscv", "s390"};
constexpr std::string_view kReleaseWords[] = {" Tainted: ", " Not tainted ", "Linux version "};

// The line around position `at`.
std::string_view line_at(std::string_view text, std::size_t at) {
    const std::size_t b = text.rfind('\n', at);
    const std::size_t from = b == std::string_view::npos ? 0 : b + 1;
    const std::size_t e = std::min(text.find('\n', at), text.size());
    return text.substr(from, e - from);
}

// A kdump-compressed dump ("KDUMP   "), an ELF core, or makedumpfile's
// flattened stream, by the file's first bytes (names vary: dump.STAMP,
// vmcore, vmcore.kdump-zlib, ...).
bool looks_like_dump(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char head[16] = {};
    in.read(head, sizeof head);
    const std::string_view h(head, static_cast<std::size_t>(in.gcount()));
    return h.starts_with("KDUMP   ") || h.starts_with("\x7f" "ELF") || h.starts_with("makedumpfile");
}

}  // namespace

// Whole-text searches (memmem runs far faster over one buffer than over
// many short lines), then only the lines they hit are looked at.
Route route_text(std::string_view text) {
    Route r;
    r.lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + (!text.empty() && text.back() != '\n');
    // The release: the first `Tainted:`/`Not tainted`/`Linux version` line that names one.
    for (std::size_t from = 0; r.release.empty();) {
        const std::size_t at = earliest(text, kReleaseWords, from).first;
        if (at == std::string_view::npos) break;
        const std::string_view l = line_at(text, at);
        if (std::string rel = release_after_taint(l); !rel.empty()) r.release = std::move(rel);
        else if (const auto v = l.find("Linux version "); v != std::string_view::npos) r.release = std::string(word_after(l, v + 14));
        from = static_cast<std::size_t>(l.data() - text.data()) + l.size();
    }
    if (const Arch a = arch_from_name(r.release); a != Arch::Unknown) {
        r.arch = std::string(arch_name(a));
    } else {
        if (const auto [at, i] = earliest(text, kArchShapes, 0); at != std::string_view::npos) r.arch = std::string(kShapeArch[i]);
    }
    for (std::size_t at = find(text, " ["); at != std::string_view::npos; at = find(text, " [", at + 2)) {
        const std::string_view l = line_at(text, at);
        module_build_ids(l, r.module_build_ids);
        at = static_cast<std::size_t>(l.data() - text.data()) + l.size();
        if (at >= text.size()) break;
    }
    // The first headline: the earliest line holding a headline word that
    // headline_kind() takes for one, once its transport prefix is removed.
    for (std::size_t cursor = 0;;) {
        const std::size_t at = earliest(text, kHeadlineWords, cursor).first;
        if (at == std::string_view::npos) break;
        const std::string_view l = line_at(text, at);
        const LogLine n = normalize_line(std::string(l), 0);
        bool strong = false;
        if (const ReportKind k = headline_kind(n.text, strong); k != ReportKind::None && k != ReportKind::DumpStack) {
            r.kind = kind_name(k);
            r.headline = std::string(trim(n.text));
            break;
        }
        cursor = static_cast<std::size_t>(l.data() - text.data()) + l.size() + 1;
    }
    return r;
}

Route route_file(const std::string& path) {
    std::string dump;
    if (std::error_code ec; std::filesystem::is_directory(path, ec)) {
        const auto k = kdump_dir(path);
        if (!k) throw Error(path, "a directory that is no kdump-tools crash directory");
        if (k->dump.empty()) return route_file(k->dmesg);
        dump = k->dump;
    } else if (looks_like_dump(path)) {
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
