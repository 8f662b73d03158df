#include "kaddr/oops_kind.h"

namespace kaddr {

namespace {

// kind, name, title, prints_stack, multi_task, end_marker, sanitizer
constexpr ReportKindInfo kKinds[] = {
    {ReportKind::None, "", nullptr, false, false, false, false},
    {ReportKind::NullDeref, "null-deref", "BUG: kernel NULL pointer dereference", true, false, true, false},
    {ReportKind::PageFault, "page-fault", "BUG: unable to handle page fault", true, false, true, false},
    {ReportKind::Gpf, "gpf", "general protection fault", true, false, true, false},
    {ReportKind::Bug, "bug", "kernel BUG", true, false, true, false},
    {ReportKind::Warning, "warning", "WARNING", true, false, true, false},
    {ReportKind::Oops, "oops", "Oops", true, false, true, false},
    {ReportKind::DoubleFault, "double-fault", "PANIC: double fault", true, false, true, false},
    {ReportKind::SoftLockup, "soft-lockup", "BUG: soft lockup", false, true, false, false},
    {ReportKind::HardLockup, "hard-lockup", "hard LOCKUP", false, true, true, false},
    {ReportKind::HungTask, "hung-task", "INFO: task hung", false, true, false, false},
    {ReportKind::RcuStall, "rcu-stall", "INFO: rcu detected stall", false, true, false, false},
    {ReportKind::Kasan, "kasan", nullptr, false, false, true, true},
    {ReportKind::Kcsan, "kcsan", nullptr, false, false, true, true},
    {ReportKind::Kmsan, "kmsan", nullptr, false, false, true, true},
    {ReportKind::Kfence, "kfence", nullptr, false, false, true, true},
    {ReportKind::Ubsan, "ubsan", nullptr, false, false, true, true},
    {ReportKind::Lockdep, "lockdep", nullptr, false, false, false, false},
    {ReportKind::MemoryLeak, "memory-leak", "memory leak", false, false, false, false},
    {ReportKind::SlabDebug, "slab-debug", "slab debug report", false, false, false, false},
    {ReportKind::Panic, "panic", "kernel panic", false, true, true, false},
    {ReportKind::Sysrq, "sysrq", "sysrq backtrace", false, true, false, false},
    {ReportKind::Backtrace, "backtrace", "backtrace", false, true, false, false},
    {ReportKind::DumpStack, "dump-stack", "dump_stack() backtrace", false, false, false, false},
    {ReportKind::SplPanic, "spl-panic", "SPL PANIC", false, false, false, false},
    {ReportKind::AllocFailure, "alloc-failure", "page allocation failure", false, false, false, false},
};

}  // namespace

const ReportKindInfo& kind_info(ReportKind k) {
    for (const auto& i : kKinds)
        if (i.kind == k) return i;
    return kKinds[0];
}

ReportKind kind_named(std::string_view name) {
    for (const auto& i : kKinds)
        if (name == i.name) return i.kind;
    return ReportKind::None;
}

}  // namespace kaddr
