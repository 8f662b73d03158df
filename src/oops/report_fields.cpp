#include "report_fields.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "kaddr/inputs.h"
#include "report_lines.h"

namespace kaddr {

namespace {

void read_bug_location(OopsReport& r, std::string_view loc) {
    if (auto c = loc.rfind(':'); c != std::string_view::npos) {
        r.bug_file = std::string(loc.substr(0, c));
        r.bug_line = std::atoi(std::string(loc.substr(c + 1)).c_str());
    }
}

// The function a WARNING headline names is the pc of its report.
void add_warning_pc(OopsReport& r, std::string_view text) {
    auto f = parse_frame_text(std::string(text));
    if (!f) return;
    r.warn_function = f->symbol ? f->symbol->name : "";
    f->kind = FrameKind::Pc;
    f->outside_stack = true;
    f->line = r.lines.size() - 1;
    r.frames.push_back(*f);
}

}  // namespace

void read_fields(OopsReport& r, const std::string& t) {
    std::string_view v(t);
    // The first dump_stack() header names the report's task; later ones are
    // other CPUs' (a panic stopping them, NMI backtraces).
    const std::optional<int> dump = dump_pid(v);
    const bool own_header = !r.pid || (dump == r.pid && r.comm.empty());  // the WARNING line may name the pid first
    if (v.starts_with("CPU: ") && (dump || line_has(v, " Comm: ")) && own_header) {
        std::istringstream w(t);
        std::string tok;
        while (w >> tok) {
            if (tok == "CPU:" && w >> tok) r.cpu = std::atoi(tok.c_str());
            else if (tok == "PID:" && w >> tok) r.pid = std::atoi(tok.c_str());
            else if (tok == "Comm:" && w >> tok) r.comm = tok;
            else if (tok == "Tainted:" || tok == "tainted") {
                std::string rest;
                std::getline(w, rest);
                // Taint letters sit in fixed columns; the release follows them.
                std::istringstream rw(rest);
                std::string word, letters;
                while (rw >> word) {
                    bool all_flags = std::all_of(word.begin(), word.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); }) &&
                                     word.size() <= 20;
                    if (tok == "Tainted:" && all_flags) {
                        for (char c : word)
                            if (c != 'G') letters += c;  // G only says "no proprietary module"
                        continue;
                    }
                    r.release = word;
                    break;
                }
                if (tok == "Tainted:") r.taint = letters;
                break;
            }
        }
    } else if (v.starts_with("Hardware name: ")) {
        r.hardware = t.substr(15);
    } else if (v.starts_with("Modules linked in:")) {
        std::istringstream w(t.substr(18));
        std::string m;
        while (w >> m) r.modules.push_back(m);
    } else if (v.starts_with("Code: ") && r.code.empty()) {
        r.code = std::string(trim(v.substr(6)));
    } else if (v.starts_with("Kernel Offset: ")) {
        std::string_view o = v.substr(15);
        if (auto off = parse_hex(o.substr(0, o.find(' ')))) r.kernel_offset = static_cast<std::int64_t>(*off);
        else if (o.starts_with("disabled")) r.kernel_offset = 0;
    } else if (v.starts_with("kernel BUG at ")) {
        std::string_view loc = v.substr(14);
        read_bug_location(r, loc.substr(0, loc.rfind('!')));
    } else if (v.starts_with("CR2: ") && !r.fault_address &&
               (r.kind == ReportKind::NullDeref || r.kind == ReportKind::PageFault || r.kind == ReportKind::Oops)) {
        r.fault_address = parse_hex(v.substr(5, 16));
    } else if ((v.starts_with("Read of size") || v.starts_with("Write of size")) && !r.fault_address) {
        if (auto a = v.find(" at addr "); a != std::string_view::npos) {
            std::string_view h = v.substr(a + 9);
            r.fault_address = parse_hex(h.substr(0, h.find(' ')));
        }
    }
    // Fault addresses named by the headline.
    if (r.kind != ReportKind::NullDeref && r.kind != ReportKind::PageFault) return;
    for (std::string_view key : {", address: ", " for address: ", "at virtual address ", "paging request at ", ") at 0x",
                                 " dereference at ", " data at address ", " on read at ", " on write at ", " on execute at "}) {
        auto a = v.find(key);
        if (a == std::string_view::npos || r.fault_address) continue;
        std::string_view h = v.substr(a + key.size());
        r.fault_address = parse_hex(h.substr(0, h.find_first_of(" ,")));
    }
}

void read_warning(OopsReport& r, std::string_view t) {
    auto at = t.find(" at ");
    if (at == std::string_view::npos) return;
    if (auto cpu = t.find(", CPU#"); cpu != std::string_view::npos && !t.starts_with("WARNING: CPU:")) {
        read_bug_location(r, t.substr(9, at - 9));
        add_warning_pc(r, t.substr(at + 4, cpu - at - 4));
        return;
    }
    if (auto pid = dump_pid(t.substr(9))) {  // WARNING: CPU: 1 PID: 19 at ...
        r.pid = pid;
        r.cpu = std::atoi(std::string(t.substr(14, 4)).c_str());
    }
    std::string_view rest = t.substr(at + 4);
    auto sp = rest.find(' ');
    // Without a file: `WARNING: CPU: 3 PID: 4356 at cfg80211_probe_status+0x54c/0x750 [cfg80211]`.
    if (rest.substr(0, sp).find(':') == std::string_view::npos) {
        add_warning_pc(r, rest);
        return;
    }
    read_bug_location(r, rest.substr(0, sp));
    if (sp != std::string_view::npos) add_warning_pc(r, rest.substr(sp + 1));
}

void read_hung_task(OopsReport& r, std::string_view t) {
    const std::string_view task = t.substr(11, t.find(" blocked for") - 11);
    const auto colon = task.rfind(':');
    if (colon == std::string_view::npos) return;
    r.comm = std::string(task.substr(0, colon));
    r.pid = std::atoi(std::string(task.substr(colon + 1)).c_str());
}

}  // namespace kaddr
