#include "report_lines.h"

#include <algorithm>
#include <cctype>

namespace kaddr {

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
    if (t.starts_with("BUG: soft lockup") || line_has(t, "watchdog: BUG: soft lockup")) return "soft-lockup";
    if (line_has(t, "Watchdog detected hard LOCKUP")) return "hard-lockup";
    if (t.starts_with("INFO: task ") && line_has(t, "blocked for more than")) return "hung-task";
    if ((t.starts_with("INFO: rcu") || t.starts_with("rcu: INFO: rcu")) && line_has(t, "stall")) return "rcu-stall";
    if (t.starts_with("WARNING: CPU: ") || t.starts_with("WARNING: at ")) return "warning";
    // 6.x: "WARNING: fs/dcache.c:829 at fast_dput+0x334/0x430, CPU#1: comm/pid"
    if (t.starts_with("WARNING: ") && line_has(t, " at ") && line_has(t, ", CPU#")) return "warning";
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

bool prints_stack(const std::string& kind) {
    for (const char* k : {"oops", "bug", "gpf", "page-fault", "null-deref", "warning", "double-fault"})
        if (kind == k) return true;
    return false;
}

bool multi_task(const std::string& kind) {
    for (const char* k : {"sysrq", "backtrace", "hung-task", "rcu-stall", "soft-lockup", "hard-lockup", "panic"})
        if (kind == k) return true;
    return false;
}

bool announces_stack(std::string_view t) {
    return t.starts_with("Call Trace:") || t.starts_with("Call trace:") || t.starts_with("Allocated by task") ||
           t.starts_with("Freed by task");
}

}  // namespace kaddr
