#include "report_damage.h"

#include <cctype>

#include "kaddr/inputs.h"
#include "kaddr/oops_blame.h"
#include "report_lines.h"

namespace kaddr {

namespace {

// A panic on its own that says it ends another report (an oops, a WARNING
// with panic_on_warn, a hung task): that report is missing from the log.
// (When it is there, the panic joined it.)
bool ends_missing_report(const OopsReport& r) {
    for (const char* m : {"Fatal exception", "panic_on_warn set", "hung_task: blocked tasks", "softlockup: hung tasks"})
        if (line_has(r.headline, m)) return true;
    return false;
}

}  // namespace

bool stackless(const OopsReport& r) {
    static const char* kStackless[] = {"BUG: KCSAN:", "Bad rss-counter", "workqueue lockup", "workqueue leaked",
                                       "still in use", "lock held when returning", "stack-protector", "non-zero nr_",
                                       "stack guard page", "Kernel panic - not syncing: Attempted to kill init",
                                       "Kernel panic - not syncing: Out of memory"};
    for (const char* k : kStackless)
        if (r.headline.find(k) != std::string::npos) return true;
    return false;
}

std::string damage(const OopsReport& r) {
    if (stackless(r)) return "";
    if (r.kind == ReportKind::Panic && ends_missing_report(r)) return "the report this panic ends is not in the log";
    if (r.frames.empty()) {
        // A panic may print no stack; when it announced one, it was lost.
        for (const auto& l : r.lines)
            if (announces_stack(trim(l.text))) return "the stack announced on line " + std::to_string(l.number) + " was not printed";
        return r.kind == ReportKind::Panic ? "" : "no frames, though " + std::string(kind_name(r.kind)) + " reports always print a stack";
    }
    // Old SLUB debug lines are fragments of a KASAN report printed in pieces.
    if (r.kind == ReportKind::SlabDebug) return "a fragment of a KASAN report printed in pieces";
    // A headline cut after its first words lost what the report is about.
    const std::string_view head = trim(r.headline);
    if (head == "BUG:" || head == "WARNING:" || head == "INFO:" || head == "BUG: unable to handle kernel" ||
        head == "Unable to handle kernel")
        return "the headline was cut after its first words";
    // A WARNING or fault whose trace shows only its pc and the reporting
    // machinery (dump_stack, panic, __warn, ...) lost its callers. (A
    // link-register line names a caller too.)
    if (r.kind == ReportKind::Warning || r.kind == ReportKind::PageFault || r.kind == ReportKind::NullDeref || r.kind == ReportKind::Gpf ||
        r.kind == ReportKind::Oops) {
        bool callers = false;
        for (const auto& f : r.frames)
            callers = callers || (f.reliable && !f.user && f.kind != FrameKind::Pc && f.symbol &&
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
        any_keyword = any_keyword || line_has(t, "Call Trace") || line_has(t, "Call trace") || line_has(t, "backtrace") ||
                      line_has(t, "Backtrace") || t.starts_with("Allocated") || t.starts_with("Freed");
        if (!announces_stack(t) && t != "backtrace:") continue;
        std::size_t next = i + 1;  // the next stack heading, if any
        while (next < r.lines.size() && !announces_stack(trim(r.lines[next].text))) ++next;
        // The kernel says why no frames follow: it has no stack to print, or
        // the same stack was printed for another task.
        bool frame = i + 1 < r.lines.size() && (line_has(r.lines[i + 1].text, "(stack is not available)") ||
                                                line_has(r.lines[i + 1].text, "<Same stack as pid "));
        for (const auto& f : r.frames) frame = frame || (f.reliable && f.line > i && f.line < next);
        if (!frame) return "the stack announced on line " + std::to_string(r.lines[i].number) + " was not printed (or only as '?' frames)";
    }
    // Frames without any stack heading: the heading line was lost. (KFENCE,
    // KMSAN, KCSAN and systemtap print their stacks without one.)
    for (ReportKind k : {ReportKind::Kfence, ReportKind::Kmsan, ReportKind::Kcsan, ReportKind::Backtrace, ReportKind::Warning,
                         ReportKind::Panic, ReportKind::Sysrq, ReportKind::DumpStack, ReportKind::SplPanic, ReportKind::AllocFailure})
        if (r.kind == k) return "";
    // 32-bit ARM's unwinder prints "callee from caller+off/size" lines under no heading.
    for (const auto& f : r.frames)
        if (line_has(r.lines[f.line].text, " from ")) return "";
    return any_keyword ? "" : "frames without a stack heading: the heading line was lost";
}

bool injected_failure_before(const OopsReport& r, std::size_t guilty) {
    for (std::size_t i = 0; i < guilty && i < r.frames.size(); ++i) {
        const OopsFrame& f = r.frames[i];
        if (f.reliable && f.symbol && f.symbol->name.starts_with("should_fail")) return true;
    }
    return false;
}

}  // namespace kaddr
