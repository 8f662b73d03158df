// The kinds of crash report kaddr knows, and what each kind is like, in
// one table (src/oops/report_kind.cpp) instead of string comparisons spread
// over the parser, the blame rules and the formatters.
#pragma once
#include <string_view>

namespace kaddr {

enum class ReportKind {
    None,
    NullDeref,
    PageFault,
    Gpf,
    Bug,
    Warning,
    Oops,
    DoubleFault,
    SoftLockup,
    HardLockup,
    HungTask,
    RcuStall,
    Kasan,
    Kcsan,
    Kmsan,
    Kfence,
    Ubsan,
    Lockdep,
    MemoryLeak,
    SlabDebug,
    Panic,
    Sysrq,
    Backtrace,    // NMI backtraces, bare address lists, systemtap's print_backtrace
    DumpStack,    // a dump_stack()/show_stack() printed with no headline
    SplPanic,     // OpenZFS's SPL: VERIFY()/ASSERT() failed, PANIC at file:line:func()
    AllocFailure, // "page allocation failure: order:N"
};

struct ReportKindInfo {
    ReportKind kind;
    const char* name;       // in JSON and test data
    const char* title;      // nullptr: the title is the headline's own words
    bool prints_stack;      // always prints a stack after its registers
    bool multi_task;        // shows several tasks or CPUs by design
    bool end_marker;        // prints "---[ end trace" (so it can be cut off)
    bool sanitizer;         // framed by "=====" rules; the headline names the accessing function
};

const ReportKindInfo& kind_info(ReportKind k);
inline const char* kind_name(ReportKind k) { return kind_info(k).name; }
// The kind of a name as kind_name() writes it; None for an unknown name.
ReportKind kind_named(std::string_view name);

}  // namespace kaddr
