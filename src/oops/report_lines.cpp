#include "report_lines.h"

#include <algorithm>
#include <cctype>

namespace kaddr {

namespace {

// Prefix: the line starts with the text; Contains: it holds it anywhere;
// AfterTask: it starts with a task name and a colon, then the text
// (`autoreconf: page allocation failure. order:2`).
enum class Match { Prefix, Contains, AfterTask };

bool after_task(std::string_view t, std::string_view text) {
    std::size_t colon = t.find(": ");
    return colon != std::string_view::npos && colon > 0 && t.substr(0, colon).find(' ') == std::string_view::npos &&
           t.substr(colon + 2).starts_with(text);
}

// Headlines in the order they are tried (the first match wins, so narrower
// patterns come before the wider ones they share a prefix with). `strong`
// headlines start a new report even while one is open.
struct Headline {
    Match match;
    std::string_view text;
    ReportKind kind;
    bool strong;
};
constexpr Headline kHeadlines[] = {
    // Old lockdep splats bracket their headline: "[ BUG: bad unlock balance detected! ]".
    {Match::Prefix, "[ BUG: ", ReportKind::Lockdep, true},
    {Match::Prefix, "[ INFO: ", ReportKind::Lockdep, true},
    {Match::Prefix, "BUG: memory leak", ReportKind::MemoryLeak, true},
    {Match::Prefix, "segment-related general protection fault", ReportKind::Gpf, true},
    {Match::Prefix, "divide_error: ", ReportKind::Oops, true},
    {Match::Prefix, "INFO: trying to register non-static key", ReportKind::Lockdep, true},
    {Match::Prefix, "INFO: Allocated in ", ReportKind::SlabDebug, true},
    {Match::Prefix, "INFO: Freed in ", ReportKind::SlabDebug, true},
    {Match::Prefix, "BUG: kernel NULL pointer dereference", ReportKind::NullDeref, true},
    {Match::Prefix, "BUG: unable to handle kernel NULL pointer", ReportKind::NullDeref, true},
    {Match::Prefix, "Unable to handle kernel NULL pointer dereference", ReportKind::NullDeref, true},
    {Match::Prefix, "Kernel NULL pointer dereference", ReportKind::NullDeref, true},  // powerpc
    {Match::Prefix, "BUG: unable to handle", ReportKind::PageFault, true},
    // every arm64 __do_kernel_fault() message, powerpc's and 32-bit ARM's
    {Match::Prefix, "Unable to handle kernel ", ReportKind::PageFault, true},
    {Match::Prefix, "Kernel attempted to ", ReportKind::PageFault, true},  // powerpc: read/write/execute user page
    {Match::Prefix, "Unhandled fault", ReportKind::PageFault, true},
    {Match::Prefix, "general protection fault", ReportKind::Gpf, true},
    {Match::Prefix, "kernel BUG at ", ReportKind::Bug, true},
    {Match::Prefix, "Kernel BUG at ", ReportKind::Bug, true},  // arm64 3.x: `Kernel BUG at ffffffc000437680 [verbose debug info unavailable]`
    {Match::Prefix, "BUG: KASAN: ", ReportKind::Kasan, true},
    {Match::Prefix, "BUG: KCSAN: ", ReportKind::Kcsan, true},
    {Match::Prefix, "BUG: KFENCE: ", ReportKind::Kfence, true},
    {Match::Prefix, "BUG: KMSAN: ", ReportKind::Kmsan, true},
    {Match::Prefix, "KMSAN: ", ReportKind::Kmsan, true},
    {Match::Prefix, "UBSAN: ", ReportKind::Ubsan, true},
    {Match::Prefix, "BUG: soft lockup", ReportKind::SoftLockup, true},
    {Match::Contains, "watchdog: BUG: soft lockup", ReportKind::SoftLockup, true},
    {Match::Contains, "Watchdog detected hard LOCKUP", ReportKind::HardLockup, true},
    {Match::Prefix, "rcu: INFO: rcu", ReportKind::RcuStall, true},  // with " stall", checked below
    {Match::Prefix, "INFO: rcu", ReportKind::RcuStall, true},
    {Match::Prefix, "WARNING: CPU: ", ReportKind::Warning, true},
    {Match::Prefix, "WARNING: at ", ReportKind::Warning, true},
    {Match::Prefix, "BUG: ", ReportKind::Bug, true},
    {Match::Prefix, "unreferenced object ", ReportKind::MemoryLeak, true},
    {Match::Prefix, "PANIC: double fault", ReportKind::DoubleFault, true},
    {Match::Prefix, "divide error: ", ReportKind::Oops, true},
    {Match::Prefix, "invalid opcode: ", ReportKind::Oops, true},
    {Match::Prefix, "stack segment: ", ReportKind::Oops, true},
    {Match::Prefix, "Internal error: ", ReportKind::Oops, true},
    {Match::Prefix, "Bad mode in ", ReportKind::Oops, true},  // 32-bit ARM
    // OpenZFS's SPL: the failed assertion, then "PANIC at file:line:func()"
    // (older: "SPLError: pid:0:(file:line:func()) SPL PANIC").
    {Match::Prefix, "VERIFY(", ReportKind::SplPanic, true},
    {Match::Prefix, "VERIFY3(", ReportKind::SplPanic, true},
    {Match::Prefix, "VERIFY0(", ReportKind::SplPanic, true},
    {Match::Prefix, "VERIFY3U(", ReportKind::SplPanic, true},
    {Match::Prefix, "VERIFY3P(", ReportKind::SplPanic, true},
    {Match::Prefix, "VERIFY3S(", ReportKind::SplPanic, true},
    {Match::Prefix, "PANIC at ", ReportKind::SplPanic, true},
    {Match::Prefix, "SPLError: ", ReportKind::SplPanic, true},
    {Match::AfterTask, "page allocation failure: order:", ReportKind::AllocFailure, true},
    {Match::AfterTask, "page allocation failure. order:", ReportKind::AllocFailure, true},  // 2.6
    {Match::Prefix, "Oops: ", ReportKind::Oops, false},  // with "[#", checked below
    {Match::Prefix, "Oops - ", ReportKind::Oops, false},
    {Match::Prefix, "Oops[#", ReportKind::Oops, false},  // MIPS
    {Match::Prefix, "Oops [#", ReportKind::Oops, false},  // RISC-V
    {Match::Prefix, "Kernel panic - not syncing", ReportKind::Panic, false},
    {Match::Prefix, "sysrq: Show backtrace", ReportKind::Sysrq, false},
    {Match::Prefix, "sysrq: Show Blocked", ReportKind::Sysrq, false},
    {Match::Prefix, "sysrq: Show State", ReportKind::Sysrq, false},
    {Match::Prefix, "SysRq : Show", ReportKind::Sysrq, false},
    {Match::Prefix, "NMI backtrace for cpu", ReportKind::Backtrace, false},
};

// MIPS prefixes its fault message with the CPU: "CPU 0 Unable to handle kernel paging request ...".
std::string_view without_cpu_prefix(std::string_view t) {
    if (!t.starts_with("CPU ")) return t;
    std::size_t k = 4;
    while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k]))) ++k;
    return k > 4 && k < t.size() && t[k] == ' ' ? t.substr(k + 1) : t;
}

}  // namespace

// SLUB's own reports: "BUG kmalloc-64 (Not tainted): Poison overwritten",
// "BUG sas_task: Objects remaining on kmem_cache_close()".
bool slub_headline(std::string_view t) {
    if (!t.starts_with("BUG ")) return false;
    std::size_t end = t.find_first_of(" :", 4);
    if (end == std::string_view::npos || end == 4 || (t[end] != ':' && !t.substr(end).starts_with(" ("))) return false;
    // old KASAN printed SLUB's object header inside its own report
    return !line_has(t, "): kasan: ");
}

ReportKind headline_kind(std::string_view t, bool& strong) {
    t = without_cpu_prefix(t);
    strong = true;
    if (slub_headline(t)) return ReportKind::SlabDebug;
    for (const Headline& h : kHeadlines) {
        const bool hit = h.match == Match::Prefix    ? t.starts_with(h.text)
                         : h.match == Match::Contains ? line_has(t, h.text)
                                                      : after_task(t, h.text);
        if (!hit) continue;
        if (h.kind == ReportKind::RcuStall && !line_has(t, "stall")) continue;
        if (h.kind == ReportKind::Oops && !h.strong && !line_has(t, "[#") && !t.starts_with("Oops - ")) continue;  // "Oops: efitime: can't read time!"
        if (h.kind == ReportKind::Bug && t.starts_with("BUG: ") && t.ends_with(" ]")) return ReportKind::Lockdep;  // a bracket lost
        strong = h.strong;
        return h.kind;
    }
    if (t.starts_with("INFO: task ") && line_has(t, "blocked for more than")) return ReportKind::HungTask;
    // 6.x: "WARNING: fs/dcache.c:829 at fast_dput+0x334/0x430, CPU#1: comm/pid"
    if (t.starts_with("WARNING: ") && line_has(t, " at ") && line_has(t, ", CPU#")) return ReportKind::Warning;
    if (t.starts_with("WARNING: ")) return ReportKind::Lockdep;
    if (t.starts_with("INFO: ") && t.ends_with(" ]")) return ReportKind::Lockdep;  // "[ " lost
    strong = false;
    return ReportKind::None;
}

// Kernel entries from an exception taken in kernel mode: the frame printed
// after one is the interrupted pc (arm64, 32-bit ARM).
bool is_exception_entry(std::string_view fn) {
    static constexpr std::string_view kEntries[] = {"el1h_64_irq", "el1h_64_sync", "el1h_64_fiq", "el1h_64_error",
                                                    "__irq_svc",   "__dabt_svc",   "__pabt_svc",  "__und_svc"};
    return std::find(std::begin(kEntries), std::end(kEntries), fn) != std::end(kEntries);
}

bool is_end_marker(std::string_view t) { return t.starts_with("---[ end trace") || t.starts_with("---[ end Kernel panic"); }

bool closes_sanitizer_report(ReportKind kind, std::string_view t) {
    return t.starts_with("=====") && kind_info(kind).sanitizer;
}

const char* stack_marker(std::string_view t, bool& is_marker) {
    static const std::pair<const char*, const char*> kMarkers[] = {
        {"<TASK>", "task"}, {"</TASK>", ""},     {"<IRQ>", "irq"},       {"</IRQ>", "task"}, {"<EOI>", "task"},
        {"<NMI>", "nmi"},   {"</NMI>", "task"},  {"<<EOE>>", "task"},    {"<SOFTIRQ>", "softirq"}, {"</SOFTIRQ>", "task"},
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

bool starts_lock_history(std::string_view t) {
    return (t.starts_with("-> #") && t.ends_with(":")) || t.ends_with(" state was registered at:");
}

bool ends_lock_history(std::string_view t) {
    static const char* kSections[] = {"stack backtrace:", "other info that might help", "irq event stamp:",
                                      "Call Trace:", "Call trace:", "Backtrace:", "*** DEADLOCK"};
    for (const char* p : kSections)
        if (t.starts_with(p)) return true;
    return false;
}

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
    if (line_has(t, " Not tainted") || line_has(t, " Tainted: ")) return true;  // the release line under a lockdep headline
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

std::optional<int> dump_pid(std::string_view t) {
    if (!t.starts_with("CPU: ")) return std::nullopt;
    auto p = t.find(" PID: ");
    if (p == std::string_view::npos) return std::nullopt;
    return std::atoi(std::string(t.substr(p + 6, 12)).c_str());
}

bool prints_other_cpus(std::string_view t) {
    return t.starts_with("Sending NMI from CPU") || t.starts_with("NMI backtrace for cpu") || t.ends_with(": stopping") ||
           t.starts_with("Kernel panic - not syncing: Fatal exception");
}


bool starts_dump_stack(std::string_view t) {
    return (dump_pid(t) && line_has(t, " Comm: ")) || (t.starts_with("Pid: ") && line_has(t, ", comm: ")) ||
           t == "Call Trace:" || t == "Call trace:";
}

bool announces_stack(std::string_view t) {
    return t.starts_with("Call Trace:") || t.starts_with("Call trace:") || t.starts_with("Allocated by task") ||
           t.starts_with("Freed by task");
}

}  // namespace kaddr
