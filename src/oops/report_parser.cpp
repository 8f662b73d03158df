// Splits console text into reports. A report starts at a headline (BUG:,
// WARNING:, Oops, ...; a preceding "cut here" line belongs to it) and ends
// at its end marker, at the next headline, or when the log has gone on for
// a while with nothing report-like. How single lines are read is in
// report_lines, the fields in report_fields, damage in report_damage.
#include <algorithm>
#include <sstream>
#include <utility>

#include "kaddr/inputs.h"
#include "kaddr/oops.h"
#include "kaddr/oops_blame.h"
#include "kaddr/time_budget.h"
#include "line_order.h"
#include "report_damage.h"
#include "report_fields.h"
#include "report_lines.h"
#include "unwrap_lines.h"

namespace kaddr {

namespace {

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
        ReportKind kind = headline_kind(tv, strong);
        if (tv.starts_with("------------[ cut here ]------------")) {
            close_context(line);
            cut_here_ = line;
            has_cut_ = true;
            return;
        }
        OpenReport* o = context(line);
        if (!o && !line.caller.empty() && line.caller[0] == 'C') o = route(line);
        if (kind != ReportKind::None && (!o || strong) && !(o && continues(*o, kind))) {
            if (kind == ReportKind::Panic && !o && reopen(line)) {
                o = &open_.back();  // "Kernel panic - not syncing: Fatal exception" closes the oops above
            } else {
                start(kind, line);
                return;
            }
        }
        // A dump_stack() or show_stack() printed on purpose has no
        // headline: its task header or its stack heading starts it.
        // (The panic a report ends in prints a stack the same way: one right
        // after a report's end is that panic's, no new report.)
        const bool ends_last = last_closed_ && quiet_since_close_ <= 3;
        // Qualcomm 4.x kernels print an oops's call trace after its
        // `---[ end trace` line: a stack heading right after the end of a
        // report that printed none continues it.
        if (!o && open_.empty() && announces_stack(tv) && reopen_for_stack(line)) o = &open_.back();
        if (!o && open_.empty() && starts_dump_stack(tv) && !ends_last) {
            start(ReportKind::DumpStack, line);
            return;
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
        if (r.kind == ReportKind::Lockdep && tv.starts_with("-----") && r.lines.size() <= 3) o->lockdep_splat = true;
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
        bool lock_history = false;  // inside lockdep's dependency chain or state history
        bool skip_frame = false;    // the next frame line is no frame (s390's last breaking-event address)
        std::size_t headline_line = 0;  // index of the headline in the report's lines
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

    bool continues(const OpenReport& o, ReportKind kind) const {
        // Body lines that look like headlines: the oops line after BUG:,
        // per-CPU backtraces inside sysrq/stall reports.
        const OopsReport& r = reports[o.index];
        if (kind == ReportKind::Oops || kind == ReportKind::Panic) return true;
        // "BUG: memory leak" heads the first "unreferenced object" it lists.
        if (kind == ReportKind::MemoryLeak && r.kind == ReportKind::MemoryLeak) return r.frames.empty();
        if (kind == ReportKind::Backtrace) return true;
        // SPL prints the assertion, then "PANIC at file:line:func()".
        if (r.kind == ReportKind::SplPanic && kind == ReportKind::SplPanic) return true;
        // Old kernels print a WARNING's message after it, before its module
        // list and task ("WARNING: at kernel/watchdog.c:245 ...",
        // "Watchdog detected hard LOCKUP on cpu 0").
        if (r.kind == ReportKind::Warning && r.modules.empty() && r.comm.empty() && r.frames.size() <= 1) return true;
        // SLUB's report goes on with the object's allocation and free stacks.
        if (r.kind == ReportKind::SlabDebug && kind == ReportKind::SlabDebug && slub_headline(r.headline)) return true;
        return r.kind == ReportKind::Sysrq && kind == ReportKind::Sysrq;
    }

    void start(ReportKind kind, const LogLine& line) {
        drop_lone_headline(kind, line);
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
        open_.back().headline_line = reports.back().lines.size();
        add(open_.back(), line, trim(line.text), /*headline=*/true);
        if (!open_.empty() && open_.back().index == reports.size() - 1) kept(open_.back());
    }

    // A headline of the same kind right after one that printed nothing of
    // its own (4.x arm64 printed `Unable to handle kernel paging request`
    // for two faults, then one report): the lone one is no report.
    void drop_lone_headline(ReportKind kind, const LogLine& line) {
        if (open_.empty()) return;
        const OpenReport& o = open_.back();
        const OopsReport& prev = reports[o.index];
        if (o.caller != line.caller || o.index != reports.size() - 1 || prev.kind != kind || !prev.frames.empty() ||
            prev.lines.size() != o.headline_line + 1)
            return;
        reports.pop_back();
        open_.pop_back();
    }

    // The panic that ends a report continues it when nothing but report
    // lines (x86 prints the registers again) came between.
    bool reopen(const LogLine& line) {
        if (!last_closed_ || last_closed_->caller != line.caller || quiet_since_close_ > 3) return false;
        open_.push_back(*last_closed_);
        open_.back().quiet = 0;
        // A stack without headline that its panic ends is the panic's report
        // (the oops above it was cut off).
        if (OopsReport& r = reports[open_.back().index]; r.kind == ReportKind::DumpStack) {
            r.kind = ReportKind::Panic;
            r.headline = std::string(trim(line.text));
        }
        last_closed_.reset();
        return true;
    }

    bool reopen_for_stack(const LogLine& line) {
        if (!last_closed_ || last_closed_->caller != line.caller || quiet_since_close_ > 3 ||
            last_closed_->stack_printed || !prints_stack(reports[last_closed_->index].kind))
            return false;
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
        if (headline && r.kind == ReportKind::Warning) read_warning(r, t);
        if (headline && r.kind == ReportKind::HungTask) read_hung_task(r, tv);
        bool marker = false;
        const char* stack = stack_marker(tv, marker);
        if (marker) {
            o.stack = stack;
            kept(o);
            return;
        }
        // RHEL 6 and 3.x glue the marker to the frame: ` <IRQ>  [<ffffffff81656735>] dump_stack+0x19/0x1b`.
        if (tv.starts_with("<") && tv.find(">  ") != std::string_view::npos) {
            std::size_t gt = tv.find(">  ") + 1;
            if (const char* glued = stack_marker(tv.substr(0, gt), marker); marker) {
                o.stack = glued;
                tv = trim(tv.substr(gt));
            }
        }
        const std::string t_frame(tv);
        if (starts_lock_history(tv)) o.lock_history = true;
        else if (ends_lock_history(tv)) o.lock_history = false;
        // s390: the address after this heading is the last branch taken, not a frame.
        if (tv.starts_with("Last Breaking-Event-Address:")) {
            o.skip_frame = true;
            kept(o);
            return;
        }
        if (tv.starts_with("Call Trace:") || tv.starts_with("Call trace:") || tv.starts_with("Backtrace:")) {
            o.first_in_trace = o.in_stack = o.awaiting_frames = true;
            kept(o);
            return;
        }
        bool pc = false;
        if (!headline || r.kind == ReportKind::Backtrace) {
            if (auto f = parse_frame_text(t_frame, &pc)) {
                f->line = r.lines.size() - 1;
                f->stack = o.stack;
                f->lock_history = o.lock_history;
                if (std::exchange(o.skip_frame, false)) {
                    kept(o);
                    return;
                }
                // 32-bit ARM: a line's callee is the previous line's caller,
                // except on the first line of a backtrace (the innermost frame).
                if (auto callee = arm_callee_frame(t_frame);
                    callee && (r.frames.empty() || !r.frames.back().symbol ||
                               r.frames.back().symbol->name != callee->symbol->name)) {
                    callee->line = f->line;
                    callee->stack = o.stack;
                    callee->lock_history = o.lock_history;
                    classify(o, r, *callee, false);
                    r.frames.push_back(*callee);
                }
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
        if (prev && prev->symbol && is_exception_entry(prev->symbol->name)) f.kind = FrameKind::Pc;
    }

    // Lines outside any report: bare address lists and systemtap backtraces
    // form an implicit "backtrace" report.
    void stray(const LogLine& line) {
        std::string_view tv = trim(line.text);
        std::optional<OopsFrame> f;
        if (auto a = parse_address_text(tv); a && tv.size() >= 8) {
            f = OopsFrame{};
            f->address = a;
        } else if (tv.starts_with("0x") && line_has(tv, " : ")) {
            f = parse_frame_text(std::string(tv));
        }
        if (!f) {
            if (!pending_.lines.empty() && ++pending_quiet_ > 3) flush_addresses();
            return;
        }
        if (pending_.lines.empty()) {
            pending_.kind = ReportKind::Backtrace;
            pending_.headline = std::string(tv);
        }
        pending_quiet_ = 0;
        pending_.lines.push_back(line);
        f->line = pending_.lines.size() - 1;
        if (pending_.frames.empty()) f->kind = FrameKind::Pc;  // a backtrace starts at the pc
        pending_.frames.push_back(*f);
    }

    // One bare address is not a backtrace: a file holding just an address
    // (a sys/module section file, a pointer someone saved) is no report.
    // A systemtap line names its symbol, and is one alone.
    bool is_backtrace(const OopsReport& r) const {
        return r.frames.size() >= 2 || (r.frames.size() == 1 && r.frames[0].symbol.has_value());
    }

    void flush_addresses() {
        if (is_backtrace(pending_)) {
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

// The panic a report ends in (panic_on_warn, "Fatal exception") is printed
// by the same task; when other output came in between, the segmenter saw
// two reports. The panic's lines and frames continue the report.
void join_panics(std::vector<OopsReport>& reports) {
    for (std::size_t i = 1; i < reports.size();) {
        OopsReport& prev = reports[i - 1];
        OopsReport& panic = reports[i];
        if (panic.kind != ReportKind::Panic || prev.kind == ReportKind::Panic || !panic.pid || panic.pid != prev.pid) {
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

std::vector<OopsReport> parse_reports(const std::vector<LogLine>& given) {
    const std::vector<LogLine> lines = unwrap_lines(oldest_first(given));
    Segmenter seg;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i % 1024 == 0) check_time_budget();
        seg.feed(lines[i]);
    }
    seg.finish();
    // "WARNING: something" without any frame is a plain message (fbcon,
    // mount options, even user space), not a lockdep/debug splat. A splat
    // prints the kernel release under its headline.
    std::erase_if(seg.reports, [](const OopsReport& r) {
        const bool release_line = r.lines.size() > 1 && (line_has(r.lines[1].text, " Not tainted") || line_has(r.lines[1].text, " Tainted: "));
        if (r.kind == ReportKind::DumpStack) return r.frames.empty();  // a task header, no stack
        return r.kind == ReportKind::Lockdep && r.frames.empty() && r.headline.rfind("[ ", 0) != 0 && !release_line;
    });
    join_panics(seg.reports);
    // A dump_stack() printed on purpose comes after the crash reports of the
    // same text: in a crash log it is most often fault injection's or a
    // driver's debugging print, not the crash.
    std::stable_partition(seg.reports.begin(), seg.reports.end(),
                          [](const OopsReport& r) { return r.kind != ReportKind::DumpStack; });
    for (auto& r : seg.reports) {
        // Only reports that print an end marker can be cut off.
        if (!kind_info(r.kind).end_marker && !r.complete) r.complete = !r.frames.empty();
        if (std::string why = damage(r); !why.empty()) r.mark_corrupted(why);
        if (r.frames.empty() || r.corrupted || stackless(r)) continue;
        // A report in which the kind's blame rule finds no frame is incomplete.
        // (Blaming may add lockdep's printed at: site to the frames.)
        const Blame b = blame(r);
        if (b.fell_back) r.mark_corrupted("no frame the " + std::string(kind_name(r.kind)) + " blame rule accepts: the stack is incomplete");
        else if (b.frame && injected_failure_before(r, *b.frame))
            r.mark_corrupted("a fault-injection stack (should_fail) of another task printed before the blamed frame");
    }
    return seg.reports;
}

std::vector<OopsReport> parse_report_file(const std::string& path) { return parse_report_text(read_text_file(path).text); }

std::vector<OopsReport> parse_report_text(std::string_view text) {
    std::vector<LogLine> lines;
    std::size_t n = 0;
    for (std::string_view rest = text; !rest.empty();) {
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
