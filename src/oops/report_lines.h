// How the report parser reads one console line: whether it starts a report
// (and of which kind), ends one, opens a stack section, or belongs to a
// report at all. Shared by the segmenter, the field readers and the damage
// rules.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "kaddr/oops_kind.h"

namespace kaddr {

inline bool line_has(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

// The kind of report a headline starts; None when the line is no headline.
// `strong` headlines start a new report even while one is open.
ReportKind headline_kind(std::string_view t, bool& strong);
bool is_exception_entry(std::string_view fn);
bool is_end_marker(std::string_view t);
// Sanitizer reports are framed by "=====" rules; the one after the
// headline closes the report.
bool closes_sanitizer_report(ReportKind kind, std::string_view t);
// "<IRQ>", "</TASK>", ...: the stack section that follows ("" after
// "</TASK>"), with is_marker false for any other line.
const char* stack_marker(std::string_view t, bool& is_marker);
// Lines a report is made of besides frames: fields, registers, dumps.
bool report_like(std::string_view t);
// Lockdep's history of a lock ("-> #1 (&conn->lock){+.+...}:", "{IN-SOFTIRQ-W}
// state was registered at:") starts here, and ends at its next section.
bool starts_lock_history(std::string_view t);
bool ends_lock_history(std::string_view t);
// The pid of a dump_stack() header line ("CPU: 1 PID: 19 Comm: ...").
std::optional<int> dump_pid(std::string_view t);
// Lines after which the stacks of other CPUs follow on purpose: all-CPU
// backtraces, and the CPUs a panic stops.
bool prints_other_cpus(std::string_view t);
// SLUB's own headline: "BUG kmalloc-64 (Not tainted): Poison overwritten".
bool slub_headline(std::string_view t);
// Lines that begin a dump_stack() printed with no headline: its task
// header ("CPU: 0 PID: 1 Comm: swapper/0 ...", 2.6's "Pid: 1, comm: ..."),
// or its stack heading.
bool starts_dump_stack(std::string_view t);
// Lines after which a report prints a stack.
bool announces_stack(std::string_view t);
inline bool prints_stack(ReportKind k) { return kind_info(k).prints_stack; }
inline bool multi_task(ReportKind k) { return kind_info(k).multi_task; }

}  // namespace kaddr
