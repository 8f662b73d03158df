// Splits console text into reports and reads each report's fields. A report
// starts at a headline (BUG:, WARNING:, Oops, ...; a preceding "cut here"
// line belongs to it) and ends at its end marker, at the next headline, or
// when the log has gone on for a while with nothing report-like.
#include <algorithm>
#include <cctype>
#include <sstream>

#include "kaddr/inputs.h"
#include "kaddr/oops.h"
#include "kaddr/oops_blame.h"

namespace kaddr {

namespace {

bool has(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

// The kind of report a headline starts; "" when the line is no headline.
// `strong` headlines start a new report even while one is open.
std::string headline_kind(std::string_view t, bool& strong) {
    strong = true;
    // Old lockdep splats bracket their headline: "[ BUG: bad unlock balance detected! ]".
    if (t.starts_with("[ BUG: ") || t.starts_with("[ INFO: ")) return "lockdep";
    if (t.starts_with("BUG: memory leak")) return "memory-leak";
    if (t.starts_with("segment-related general protection fault")) return "gpf";
    if (t.starts_with("divide_error: ")) return "oops";
    if (t.starts_with("INFO: trying to register non-static key")) return "lockdep";
    if (t.starts_with("INFO: Allocated in ") || t.starts_with("INFO: Freed in ")) return "slab-debug";
    if (t.starts_with("BUG: kernel NULL pointer dereference") || t.starts_with("BUG: unable to handle kernel NULL pointer") ||
        t.starts_with("Unable to handle kernel NULL pointer dereference"))
        return "null-deref";
    if (t.starts_with("BUG: unable to handle") || t.starts_with("Unable to handle kernel paging request") ||
        t.starts_with("Unable to handle kernel access") || t.starts_with("Unable to handle kernel execute") ||
        t.starts_with("Unhandled fault"))
        return "page-fault";
    if (t.starts_with("general protection fault")) return "gpf";
    if (t.starts_with("kernel BUG at ")) return "bug";
    if (t.starts_with("BUG: KASAN: ")) return "kasan";
    if (t.starts_with("BUG: KCSAN: ")) return "kcsan";
    if (t.starts_with("BUG: KFENCE: ")) return "kfence";
    if (t.starts_with("BUG: KMSAN: ") || t.starts_with("KMSAN: ")) return "kmsan";
    if (t.starts_with("UBSAN: ")) return "ubsan";
    if (t.starts_with("BUG: soft lockup") || has(t, "watchdog: BUG: soft lockup")) return "soft-lockup";
    if (has(t, "Watchdog detected hard LOCKUP")) return "hard-lockup";
    if (t.starts_with("INFO: task ") && has(t, "blocked for more than")) return "hung-task";
    if ((t.starts_with("INFO: rcu") || t.starts_with("rcu: INFO: rcu")) && has(t, "stall")) return "rcu-stall";
    if (t.starts_with("WARNING: CPU: ") || t.starts_with("WARNING: at ")) return "warning";
    // 6.x: "WARNING: fs/dcache.c:829 at fast_dput+0x334/0x430, CPU#1: comm/pid"
    if (t.starts_with("WARNING: ") && has(t, " at ") && has(t, ", CPU#")) return "warning";
    if (t.starts_with("WARNING: ")) return "lockdep";
    if (t.starts_with("BUG: ")) return "bug";
    if (t.starts_with("unreferenced object ")) return "memory-leak";
    if (t.starts_with("PANIC: double fault")) return "double-fault";
    if (t.starts_with("divide error: ") || t.starts_with("invalid opcode: ") || t.starts_with("stack segment: ") ||
        t.starts_with("Internal error: "))
        return "oops";
    strong = false;
    if (t.starts_with("Oops: ") || t.starts_with("Oops - ")) return "oops";
    if (t.starts_with("Kernel panic - not syncing")) return "panic";
    if (t.starts_with("sysrq: Show backtrace") || t.starts_with("sysrq: Show Blocked") || t.starts_with("sysrq: Show State") ||
        t.starts_with("SysRq : Show"))
        return "sysrq";
    if (t.starts_with("NMI backtrace for cpu")) return "backtrace";
    return "";
}

bool is_end_marker(std::string_view t) { return t.starts_with("---[ end trace") || t.starts_with("---[ end Kernel panic"); }

// Sanitizer reports are framed by "=====" rules; the one after the
// headline closes the report.
bool closes_sanitizer_report(const std::string& kind, std::string_view t) {
    if (!t.starts_with("=====")) return false;
    for (const char* k : {"kasan", "kmsan", "kcsan", "kfence", "ubsan"})
        if (kind == k) return true;
    return false;
}

const char* stack_marker(std::string_view t, bool& is_marker) {
    static const std::pair<const char*, const char*> kMarkers[] = {
        {"<TASK>", "task"}, {"</TASK>", ""},     {"<IRQ>", "irq"},       {"</IRQ>", "task"}, {"<EOI>", "task"},
        {"<NMI>", "nmi"},   {"</NMI>", "task"},  {"<SOFTIRQ>", "softirq"}, {"</SOFTIRQ>", "task"},
        {"<#DF>", "#DF"},   {"</#DF>", "task"},
    };
    for (const auto& [m, name] : kMarkers)
        if (t == m) {
            is_marker = true;
            return name;
        }
    is_marker = false;
    return nullptr;
}

// Lines a report is made of besides frames: fields, registers, dumps.
bool report_like(std::string_view t) {
    static const char* kPrefixes[] = {"CPU:", "Hardware name:", "Modules linked in:", "Call Trace:", "Call trace:",
                                      "Code:", "RSP:", "RAX:", "RDX:", "RBP:", "R10:", "R13:", "FS:", "CS:", "CR2:",
                                      "DR0:", "DR3:", "PKRU:", "sp :", "x2", "x1", "x0", "x9", "x8", "x7", "x6", "x5",
                                      "x4", "x3", "pstate:", "Kernel Offset:", "Exception stack", "Backtrace:",
                                      "#PF:", "PGD ", "Mem abort info:", "Data abort info:", "ESR =", "EC =",
                                      "SET =", "EA =", "FSC =", "ISV =", "CM =", "Dumping ftrace", "task:", "Stack:",
                                      "Read of size", "Write of size", "The buggy address", "Allocated by", "Freed by",
                                      "Memory state", "Not tainted", "Tainted:", "irq event stamp", "hardirqs",
                                      "softirqs", "other info", "stack backtrace:", "the existing dependency",
                                      "Possible unsafe", "*** DEADLOCK", "#0:", "#1:", "#2:", "#3:", "-> #",
                                      "CPU0", "----", "lock(", "rcu:", "NMI backtrace", "Sending NMI", "INFO: lockdep",
                                      "Showing", "showing", "psr:", "pc :", "lr :", "sp :", "ip :", "fp :", "r10",
                                      "r9 ", "r7 ", "r6 ", "r3 ", "Flags:", "Control:", "Process ", "Register ",
                                      "Internal error", "Oops", "PC is at", "LR is at", "echo 0 >", "watchdog:",
                                      "Kernel panic", "Shutting down", "Rebooting", "Dumping", "kasan:", "KASAN:",
                                      "page:", "raw:", "page dumped", "page_owner", "flags:", "Disabling lock",
                                      "Workqueue:", "Preemption disabled", "in_atomic()", "1 lock held", "no locks held",
                                      "INFO: ", "ODEBUG", "refcount_t", "list_", "Uninit was", "Local variable",
                                      "Bytes ", "ffff", "Memory", "index ", "shift exponent", "UBSAN", "=====", "-----"};
    for (const char* p : kPrefixes)
        if (t.starts_with(p)) return true;
    if (has(t, " Not tainted") || has(t, " Tainted: ")) return true;  // the release line under a lockdep headline
    // arm64's memory around registers: "d904  93407c00 a8c17bfd ...", its
    // "\x0aLR: 0xffffff90080ed904:" headings (an escaped newline).
    if (t.starts_with("\\x0a")) return true;
    if (t.size() > 14 && t.substr(4, 2) == "  " &&
        std::all_of(t.begin(), t.begin() + 4, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }) &&
        std::all_of(t.begin() + 6, t.begin() + 14, [](char c) { return c == '*' || std::isxdigit(static_cast<unsigned char>(c)); }))
        return true;
    // register dumps and hex dumps: "XYZ: 0123456789abcdef"
    std::size_t colon = t.find(": ");
    if (colon != std::string_view::npos && colon <= 12) {
        std::string_view v = t.substr(colon + 2, 8);
        if (v.size() == 8 && std::all_of(v.begin(), v.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
            return true;
    }
    return false;
}

// The pid of a dump_stack() header line ("CPU: 1 PID: 19 Comm: ...").
std::optional<int> dump_pid(std::string_view t) {
    if (!t.starts_with("CPU: ")) return std::nullopt;
    auto p = t.find(" PID: ");
    if (p == std::string_view::npos) return std::nullopt;
    return std::atoi(std::string(t.substr(p + 6, 12)).c_str());
}

void read_bug_location(OopsReport& r, std::string_view loc) {
    if (auto c = loc.rfind(':'); c != std::string_view::npos) {
        r.bug_file = std::string(loc.substr(0, c));
        r.bug_line = std::atoi(std::string(loc.substr(c + 1)).c_str());
    }
}

void read_fields(OopsReport& r, const std::string& t) {
    std::string_view v(t);
    // The first dump_stack() header names the report's task; later ones are
    // other CPUs' (a panic stopping them, NMI backtraces).
    const std::optional<int> dump = dump_pid(v);
    const bool own_header = !r.pid || (dump == r.pid && r.comm.empty());  // the WARNING line may name the pid first
    if (v.starts_with("CPU: ") && (dump || has(v, " Comm: ")) && own_header) {
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
               (r.kind == "null-deref" || r.kind == "page-fault" || r.kind == "oops")) {
        r.fault_address = parse_hex(v.substr(5, 16));
    } else if ((v.starts_with("Read of size") || v.starts_with("Write of size")) && !r.fault_address) {
        if (auto a = v.find(" at addr "); a != std::string_view::npos) {
            std::string_view h = v.substr(a + 9);
            r.fault_address = parse_hex(h.substr(0, h.find(' ')));
        }
    }
    // Fault addresses named by the headline.
    if (r.kind != "null-deref" && r.kind != "page-fault") return;
    for (std::string_view key : {", address: ", " for address: ", "at virtual address ", "paging request at ", ") at 0x"}) {
        auto a = v.find(key);
        if (a == std::string_view::npos || r.fault_address) continue;
        std::string_view h = v.substr(a + key.size());
        r.fault_address = parse_hex(h.substr(0, h.find_first_of(" ,")));
    }
}

// The function a WARNING headline names is the pc of its report.
void add_warning_pc(OopsReport& r, std::string_view text) {
    auto f = parse_frame_text(std::string(text));
    if (!f) return;
    r.warn_function = f->symbol ? f->symbol->name : "";
    f->kind = FrameKind::Pc;
    f->line = r.lines.size() - 1;
    r.frames.push_back(*f);
}

// WARNING: CPU: 0 PID: 1 at ktoops/ktoops.c:96 ktoops_do_warn+0x5/0x10 [ktoops]
// WARNING: fs/dcache.c:829 at fast_dput+0x334/0x430, CPU#1: syz-executor/600   (6.x)
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
    read_bug_location(r, rest.substr(0, sp));
    if (sp != std::string_view::npos) add_warning_pc(r, rest.substr(sp + 1));
}

// "INFO: task syz-executor.0:16519 blocked for more than 140 seconds.": the
// report is about that task, not the CPUs whose backtraces follow.
void read_hung_task(OopsReport& r, std::string_view t) {
    const std::string_view task = t.substr(11, t.find(" blocked for") - 11);
    const auto colon = task.rfind(':');
    if (colon == std::string_view::npos) return;
    r.comm = std::string(task.substr(0, colon));
    r.pid = std::atoi(std::string(task.substr(colon + 1)).c_str());
}

// Lines after which the stacks of other CPUs follow on purpose: all-CPU
// backtraces, and the CPUs a panic stops.
bool prints_other_cpus(std::string_view t) {
    return t.starts_with("Sending NMI from CPU") || t.starts_with("NMI backtrace for cpu") || t.ends_with(": stopping") ||
           t.starts_with("Kernel panic - not syncing: Fatal exception");
}

// Kinds that always print a stack after their registers.
bool prints_stack(const std::string& kind) {
    for (const char* k : {"oops", "bug", "gpf", "page-fault", "null-deref", "warning", "double-fault"})
        if (kind == k) return true;
    return false;
}

// Kinds that show several tasks by design.
bool multi_task(const std::string& kind) {
    for (const char* k : {"sysrq", "backtrace", "hung-task", "rcu-stall", "soft-lockup", "hard-lockup", "panic"})
        if (kind == k) return true;
    return false;
}

// Reads the log line by line. Several reports may be open at once when the
// console carries printk caller ids ([T123] a task, [C1] a CPU context):
// each line goes to the report of its caller, so reports printed into each
// other by different tasks come out whole and apart. Without caller ids
// there is one open report at a time.
class Segmenter {
public:
    std::vector<OopsReport> reports;

    void feed(const LogLine& line) {
        std::string_view tv = trim(line.text);
        bool strong = false;
        std::string kind = headline_kind(tv, strong);
        if (tv.starts_with("------------[ cut here ]------------")) {
            close_context(line);
            cut_here_ = line;
            has_cut_ = true;
            return;
        }
        OpenReport* o = context(line);
        if (!o && !line.caller.empty() && line.caller[0] == 'C') o = route(line);
        if (!kind.empty() && (!o || strong) && !(o && continues(*o, kind))) {
            if (kind == "panic" && !o && reopen(line)) {
                o = &open_.back();  // "Kernel panic - not syncing: Fatal exception" closes the oops above
            } else {
                start(kind, line);
                return;
            }
        }
        if (!o) {
            o = route(line);
            if (!o) {
                if (open_.empty()) stray(line);
                if (last_closed_ && last_closed_->caller == line.caller && !report_like(tv)) ++quiet_since_close_;
                return;
            }
        }
        // In a timestamped report, a line without a timestamp is another
        // writer's output interleaved on the console: not part of it.
        // (printk continuation lines carry no timestamp either: keep those
        // that read as frames or report lines.)
        if (o->timestamped && !line.timestamped && !parse_frame_text(line.text) && !report_like(tv)) return;
        if (prints_other_cpus(tv)) o->all_cpus = true;
        OopsReport& r = reports[o->index];
        // Another task's dump_stack() before the report's own stack: the two
        // were printed into each other. (After it, it is most often the next,
        // headline-less message; without caller ids it stays in the report.)
        if (tv == "stack backtrace:") o->backtrace_announced = true;
        if (r.kind == "lockdep" && tv.starts_with("-----") && r.lines.size() <= 3) o->lockdep_splat = true;
        if (auto pid = dump_pid(tv); pid && !o->all_cpus && !multi_task(r.kind)) {
            // A lockdep splat (headline, version, "-----" rule) prints its
            // task's header after "stack backtrace:".
            if (o->lockdep_splat && !o->backtrace_announced) {
                r.mark_corrupted("another task's dump_stack() (line " + std::to_string(line.number) +
                                 ") inside the lockdep splat, before its stack backtrace");
                return;
            }
            if (r.pid && *pid != *r.pid && !o->stack_printed)
                r.mark_corrupted("another task's dump_stack() (PID " + std::to_string(*pid) + ", line " +
                                 std::to_string(line.number) + ") before the report's own stack");
        }
        add(*o, line, tv);
    }

    void finish() {
        while (!open_.empty()) close(open_.front());
        flush_addresses();
    }

private:
    // A report being read, and what is known about it so far.
    struct OpenReport {
        std::size_t index = 0;  // into reports
        std::string caller;     // the headline's printk caller id
        bool timestamped = false, first_in_trace = false, all_cpus = false;
        bool in_stack = false, stack_printed = false;  // a stack heading seen; a frame printed under it
        bool awaiting_frames = false;                  // the last heading has no frame yet
        bool lockdep_splat = false, backtrace_announced = false;  // its "-----" rule; its "stack backtrace:"
        int quiet = 0;
        std::size_t last_kept = 0;
        std::string stack;
    };

    // The open report a line's own writer is printing: the one of its
    // caller id, else (no ids) the latest.
    OpenReport* context(const LogLine& line) {
        if (open_.empty()) return nullptr;
        if (line.caller.empty() || open_.back().caller.empty()) return &open_.back();
        for (auto it = open_.rbegin(); it != open_.rend(); ++it)
            if (it->caller == line.caller) return &*it;
        return nullptr;
    }

    // The report a line of another caller belongs to: a CPU context's line
    // (an interrupt, an NMI backtrace) goes to the report printing all CPUs,
    // else to the latest; another task's line to none.
    OpenReport* route(const LogLine& line) {
        for (auto it = open_.rbegin(); it != open_.rend(); ++it)
            if (it->all_cpus) return &*it;
        const bool cpu_context = !line.caller.empty() && line.caller[0] == 'C';
        return cpu_context && !open_.empty() ? &open_.back() : nullptr;
    }

    bool continues(const OpenReport& o, const std::string& kind) const {
        // Body lines that look like headlines: the oops line after BUG:,
        // per-CPU backtraces inside sysrq/stall reports.
        const OopsReport& r = reports[o.index];
        if (kind == "oops" || kind == "panic") return true;
        // "BUG: memory leak" heads the first "unreferenced object" it lists.
        if (kind == "memory-leak" && r.kind == "memory-leak") return r.frames.empty();
        if (kind == "backtrace") return true;
        return r.kind == "sysrq" && kind == "sysrq";
    }

    void start(const std::string& kind, const LogLine& line) {
        close_context(line);
        flush_addresses();
        OopsReport r;
        r.kind = kind;
        r.headline = std::string(trim(line.text));
        if (has_cut_ && cut_here_.caller == line.caller) r.lines.push_back(cut_here_);
        has_cut_ = false;
        reports.push_back(std::move(r));
        OpenReport o;
        o.index = reports.size() - 1;
        o.caller = line.caller;
        o.timestamped = line.timestamped;
        open_.push_back(std::move(o));
        add(open_.back(), line, trim(line.text), /*headline=*/true);
        if (!open_.empty() && open_.back().index == reports.size() - 1) kept(open_.back());
    }

    // The panic that ends a report continues it when nothing but report
    // lines (x86 prints the registers again) came between.
    bool reopen(const LogLine& line) {
        if (!last_closed_ || last_closed_->caller != line.caller || quiet_since_close_ > 3) return false;
        open_.push_back(*last_closed_);
        open_.back().quiet = 0;
        last_closed_.reset();
        return true;
    }

    // Closes the report of the line's context: with caller ids only the
    // caller's own, without them the one open report.
    void close_context(const LogLine& line) {
        if (OpenReport* o = context(line)) close(*o);
    }

    void close(OpenReport& o) {
        OopsReport& r = reports[o.index];
        // Trailing lines that were not report-like are not part of it.
        r.lines.resize(std::min(r.lines.size(), o.last_kept + 1));
        last_closed_ = o;
        quiet_since_close_ = 0;
        open_.erase(open_.begin() + (&o - open_.data()));
    }

    void add(OpenReport& o, const LogLine& line, std::string_view tv, bool headline = false) {
        OopsReport& r = reports[o.index];
        r.lines.push_back(line);
        const std::string t(tv);
        if (is_end_marker(tv) || (!headline && closes_sanitizer_report(r.kind, tv))) {
            r.complete = true;
            kept(o);
            close(o);
            return;
        }
        read_fields(r, t);
        if (headline && r.kind == "warning") read_warning(r, t);
        if (headline && r.kind == "hung-task") read_hung_task(r, tv);
        bool marker = false;
        const char* stack = stack_marker(tv, marker);
        if (marker) {
            o.stack = stack;
            kept(o);
            return;
        }
        if (tv.starts_with("Call Trace:") || tv.starts_with("Call trace:") || tv.starts_with("Backtrace:")) {
            o.first_in_trace = o.in_stack = o.awaiting_frames = true;
            kept(o);
            return;
        }
        bool pc = false;
        if (!headline || r.kind == "backtrace") {
            if (auto f = parse_frame_text(t, &pc)) {
                f->line = r.lines.size() - 1;
                f->stack = o.stack;
                classify(o, r, *f, pc);
                r.frames.push_back(*f);
                o.stack_printed = o.stack_printed || o.in_stack;
                o.awaiting_frames = false;
                kept(o);
                return;
            }
        }
        if (report_like(tv)) kept(o);
        // Other output may come between a stack heading and its frames;
        // the frames are waited for longer.
        else if (!tv.empty() && ++o.quiet > (o.awaiting_frames || (!o.stack_printed && prints_stack(r.kind)) ? 64 : 12))
            close(o);
    }

    // The current line belongs to the report for sure.
    void kept(OpenReport& o) {
        o.quiet = 0;
        o.last_kept = reports[o.index].lines.size() - 1;
    }

    // Which frames are the interrupted pc rather than a return address.
    void classify(OpenReport& o, const OopsReport& r, OopsFrame& f, bool pc_line) {
        if (pc_line) return;  // RIP:/pc :/PC is at: already Pc; lr : is Return
        const OopsFrame* prev = r.frames.empty() ? nullptr : &r.frames.back();
        if (o.first_in_trace) {
            o.first_in_trace = false;
            // arm64 repeats the pc as the first Call trace frame.
            for (auto it = r.frames.rbegin(); it != r.frames.rend(); ++it)
                if (it->kind == FrameKind::Pc && it->symbol && f.symbol && it->symbol->name == f.symbol->name &&
                    it->symbol->offset == f.symbol->offset) {
                    f.kind = FrameKind::Pc;
                    return;
                }
        }
        // The frame after an exception entry is the pc saved in pt_regs.
        if (prev && prev->symbol) {
            const std::string& n = prev->symbol->name;
            if (n == "el1h_64_irq" || n == "el1h_64_sync" || n == "el1h_64_fiq" || n == "el1h_64_error" ||
                n == "__irq_svc" || n == "__dabt_svc" || n == "__pabt_svc" || n == "__und_svc")
                f.kind = FrameKind::Pc;
        }
    }

    // Lines outside any report: bare address lists and systemtap backtraces
    // form an implicit "backtrace" report.
    void stray(const LogLine& line) {
        std::string_view tv = trim(line.text);
        std::optional<OopsFrame> f;
        if (auto a = parse_address_text(tv); a && tv.size() >= 8) {
            f = OopsFrame{};
            f->address = a;
        } else if (tv.starts_with("0x") && has(tv, " : ")) {
            f = parse_frame_text(std::string(tv));
        }
        if (!f) {
            if (!pending_.lines.empty() && ++pending_quiet_ > 3) flush_addresses();
            return;
        }
        if (pending_.lines.empty()) {
            pending_.kind = "backtrace";
            pending_.headline = std::string(tv);
        }
        pending_quiet_ = 0;
        pending_.lines.push_back(line);
        f->line = pending_.lines.size() - 1;
        if (pending_.frames.empty()) f->kind = FrameKind::Pc;  // a backtrace starts at the pc
        pending_.frames.push_back(*f);
    }

    void flush_addresses() {
        if (!pending_.frames.empty()) {
            pending_.complete = true;
            reports.push_back(std::move(pending_));
        }
        pending_ = OopsReport{};
        pending_quiet_ = 0;
    }

    std::vector<OpenReport> open_;
    std::optional<OpenReport> last_closed_;  // reopened by the panic that ends it
    int quiet_since_close_ = 0;              // its caller's non-report lines since
    bool has_cut_ = false;
    LogLine cut_here_;
    int pending_quiet_ = 0;
    OopsReport pending_;
};

// Lines after which a report prints a stack.
bool announces_stack(std::string_view t) {
    return t.starts_with("Call Trace:") || t.starts_with("Call trace:") || t.starts_with("Allocated by task") ||
           t.starts_with("Freed by task");
}

// Reports whose kernel prints no stack by design.
bool stackless(const OopsReport& r) {
    static const char* kStackless[] = {"BUG: KCSAN:", "Bad rss-counter", "workqueue lockup", "workqueue leaked",
                                       "still in use", "lock held when returning", "stack-protector", "non-zero nr_",
                                       "stack guard page", "Kernel panic - not syncing: Attempted to kill init",
                                       "Kernel panic - not syncing: Out of memory"};
    for (const char* k : kStackless)
        if (r.headline.find(k) != std::string::npos) return true;
    return false;
}

// A panic on its own that says it ends another report (an oops, a WARNING
// with panic_on_warn, a hung task): that report is missing from the log.
// (When it is there, the panic joined it.)
bool ends_missing_report(const OopsReport& r) {
    for (const char* m : {"Fatal exception", "panic_on_warn set", "hung_task: blocked tasks", "softlockup: hung tasks"})
        if (has(r.headline, m)) return true;
    return false;
}

// Damaged reports, recognisable from their structure: why, or "" when the
// report is whole.
std::string damage(const OopsReport& r) {
    if (stackless(r)) return "";
    if (r.kind == "panic" && ends_missing_report(r)) return "the report this panic ends is not in the log";
    if (r.frames.empty()) {
        // A panic may print no stack; when it announced one, it was lost.
        for (const auto& l : r.lines)
            if (announces_stack(trim(l.text))) return "the stack announced on line " + std::to_string(l.number) + " was not printed";
        return r.kind == "panic" ? "" : "no frames, though " + r.kind + " reports always print a stack";
    }
    // Old SLUB debug lines are fragments of a KASAN report printed in pieces.
    if (r.kind == "slab-debug") return "a fragment of a KASAN report printed in pieces";
    // A headline cut after its first words lost what the report is about.
    const std::string_view head = trim(r.headline);
    if (head == "BUG:" || head == "WARNING:" || head == "INFO:" || head == "BUG: unable to handle kernel" ||
        head == "Unable to handle kernel")
        return "the headline was cut after its first words";
    // A WARNING or fault whose trace shows only its pc and the reporting
    // machinery (dump_stack, panic, __warn, ...) lost its callers.
    if (r.kind == "warning" || r.kind == "page-fault" || r.kind == "null-deref" || r.kind == "gpf" ||
        r.kind == "oops") {
        bool callers = false;
        for (const auto& f : r.frames)
            callers = callers || (f.reliable && !f.user && f.kind == FrameKind::Return && f.symbol &&
                                  !is_reporting_machinery(f.symbol->name));
        if (!callers) return "only the pc and reporting machinery were printed: the callers are missing";
    }
    // Another line's timestamp inside the headline: two lines were merged.
    const std::string& h = r.headline;
    for (std::size_t b = h.find('['); b != std::string::npos; b = h.find('[', b + 1)) {
        std::size_t k = b + 1;
        while (k < h.size() && h[k] == ' ') ++k;
        std::size_t d = k;
        while (k < h.size() && std::isdigit(static_cast<unsigned char>(h[k]))) ++k;
        if (k > d && k < h.size() && h[k] == '.') return "another line's timestamp inside the headline: two lines were merged";
    }
    bool any_keyword = false;
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
        std::string_view t = trim(r.lines[i].text);
        any_keyword = any_keyword || has(t, "Call Trace") || has(t, "Call trace") || has(t, "backtrace") ||
                      has(t, "Backtrace") || t.starts_with("Allocated") || t.starts_with("Freed");
        if (!announces_stack(t) && t != "backtrace:") continue;
        std::size_t next = i + 1;  // the next stack heading, if any
        while (next < r.lines.size() && !announces_stack(trim(r.lines[next].text))) ++next;
        // The kernel says why no frames follow: it has no stack to print, or
        // the same stack was printed for another task.
        bool frame = i + 1 < r.lines.size() && (has(r.lines[i + 1].text, "(stack is not available)") ||
                                                has(r.lines[i + 1].text, "<Same stack as pid "));
        for (const auto& f : r.frames) frame = frame || (f.reliable && f.line > i && f.line < next);
        if (!frame) return "the stack announced on line " + std::to_string(r.lines[i].number) + " was not printed (or only as '?' frames)";
    }
    // Frames without any stack heading: the heading line was lost. (KFENCE,
    // KMSAN, KCSAN and systemtap print their stacks without one.)
    for (const char* k : {"kfence", "kmsan", "kcsan", "backtrace", "warning", "panic", "sysrq"})
        if (r.kind == k) return "";
    // 32-bit ARM's unwinder prints "callee from caller+off/size" lines under no heading.
    for (const auto& f : r.frames)
        if (has(r.lines[f.line].text, " from ")) return "";
    return any_keyword ? "" : "frames without a stack heading: the heading line was lost";
}

// Fault injection prints a stack with each failure it forces; when one
// comes before the frame blamed, another task's stack was taken for this
// report's.
bool injected_failure_before(const OopsReport& r, std::size_t guilty) {
    for (std::size_t i = 0; i < guilty && i < r.frames.size(); ++i) {
        const OopsFrame& f = r.frames[i];
        if (f.reliable && f.symbol && f.symbol->name.starts_with("should_fail")) return true;
    }
    return false;
}

// The panic a report ends in (panic_on_warn, "Fatal exception") is printed
// by the same task; when other output came in between, the segmenter saw
// two reports. The panic's lines and frames continue the report.
void join_panics(std::vector<OopsReport>& reports) {
    for (std::size_t i = 1; i < reports.size();) {
        OopsReport& prev = reports[i - 1];
        OopsReport& panic = reports[i];
        if (panic.kind != "panic" || prev.kind == "panic" || !panic.pid || panic.pid != prev.pid) {
            ++i;
            continue;
        }
        const std::size_t base = prev.lines.size();
        for (OopsFrame f : panic.frames) {
            f.line += base;
            prev.frames.push_back(f);
        }
        prev.lines.insert(prev.lines.end(), panic.lines.begin(), panic.lines.end());
        if (!prev.kernel_offset) prev.kernel_offset = panic.kernel_offset;
        if (prev.code.empty()) prev.code = panic.code;
        if (panic.corrupted) prev.mark_corrupted(panic.corrupted_reason);
        reports.erase(reports.begin() + static_cast<std::ptrdiff_t>(i));
    }
}

}  // namespace

std::vector<OopsReport> parse_reports(const std::vector<LogLine>& lines) {
    Segmenter seg;
    for (const auto& l : lines) seg.feed(l);
    seg.finish();
    // "WARNING: something" without any frame is a plain message (fbcon,
    // mount options, even user space), not a lockdep/debug splat. A splat
    // prints the kernel release under its headline.
    std::erase_if(seg.reports, [](const OopsReport& r) {
        const bool release_line = r.lines.size() > 1 && (has(r.lines[1].text, " Not tainted") || has(r.lines[1].text, " Tainted: "));
        return r.kind == "lockdep" && r.frames.empty() && r.headline.rfind("[ ", 0) != 0 && !release_line;
    });
    join_panics(seg.reports);
    for (auto& r : seg.reports) {
        // Only reports that print an end marker can be cut off.
        static const char* kNoEndMarker[] = {"sysrq", "backtrace", "hung-task", "rcu-stall", "memory-leak", "lockdep", "slab-debug",
                                             "soft-lockup"};
        for (const char* k : kNoEndMarker)
            if (r.kind == k && !r.complete) r.complete = !r.frames.empty();
        if (std::string why = damage(r); !why.empty()) r.mark_corrupted(why);
        if (r.frames.empty() || r.corrupted || stackless(r)) continue;
        // A report in which the kind's blame rule finds no frame is incomplete.
        // (Blaming may add lockdep's printed at: site to the frames.)
        const Blame b = blame(r);
        if (b.fell_back) r.mark_corrupted("no frame the " + r.kind + " blame rule accepts: the stack is incomplete");
        else if (b.frame && injected_failure_before(r, *b.frame))
            r.mark_corrupted("a fault-injection stack (should_fail) of another task printed before the blamed frame");
    }
    return seg.reports;
}

std::vector<OopsReport> parse_report_file(const std::string& path) {
    const TextFile file = read_text_file(path);
    std::vector<LogLine> lines;
    std::size_t n = 0;
    for (std::string_view rest = file.text; !rest.empty();) {
        const std::size_t eol = std::min(rest.find('\n'), rest.size());
        lines.push_back(normalize_line(std::string(rest.substr(0, eol)), ++n));
        rest.remove_prefix(std::min(eol + 1, rest.size()));
    }
    return parse_reports(lines);
}

std::vector<OopsReport> parse_reports(std::istream& in) {
    std::vector<LogLine> lines;
    std::string raw;
    std::size_t n = 0;
    while (std::getline(in, raw)) lines.push_back(normalize_line(std::move(raw), ++n));
    return parse_reports(lines);
}

}  // namespace kaddr
