// The panicking task's stack, taken from the dump itself: the crashing
// CPU's registers (its NT_PRSTATUS note, which on x86 holds the oops
// registers when oops_end() calls crash_kexec(regs)), unwound by libdwfl
// through the .debug_frame CFI of vmlinux and the modules with memory read
// from the dump. Where CFI ends at a kernel entry point (hand-written asm
// has none), the saved user registers (struct pt_regs) there give the
// interrupted user frame, as drgn shows it.
//
// Conventions: frame 0 is the interrupted pc itself (looked up as is);
// every later frame's pc is a return address, looked up one byte back (the
// call site: drgn's and gdb's convention). crash `bt -l` prints the line of
// the return address itself, so its lines can be one statement later.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "kaddr/resolution.h"
#include "kaddr/resolver.h"
#include "kaddr/vmcore.h"

namespace kaddr {

enum class StackFrameKind { Interrupted, Call, UserEntry };

struct StackFrame {
    std::uint64_t pc = 0, sp = 0;
    std::uint64_t bp = 0;  // the frame pointer register as unwound (where known)
    StackFrameKind kind = StackFrameKind::Call;
    Resolution where;  // symbol, inline chain (innermost first) and source line
};

// One CPU's stack at the time of the dump.
struct CpuStack {
    unsigned cpu = 0;
    std::int64_t pid = 0;
    bool crashed = false;
    std::string how_cpu;            // why this CPU is the crashing one (crashed only)
    std::vector<StackFrame> frames;
    std::string stopped;            // why the unwinding ended
    std::string how_unwound = "CFI"; // what unwound it
    // The task running there (the per-CPU current task): its task_struct's
    // address and name, or why they are unknown (a dump level that drops
    // slab pages drops task_structs).
    std::uint64_t task = 0;
    std::string comm, task_unread;
    std::size_t orc_from = 0;       // first frame unwound by ORC (0: none)
};

// The crashing CPU: the kernel's panic_cpu when set, else the one CPU whose
// note names a task (pid != 0). Throws Error naming the dump when neither
// decides it.
// Unwinds the crashing CPU's stack; symbols and lines from `resolver`,
// whose snapshot must come from the same dump (its vmcore facts).
CpuStack crashed_thread(const Resolver& resolver);
// Every CPU's stack (crash's `bt -a`), the crashing one marked.
std::vector<CpuStack> cpu_stacks(const Resolver& resolver);

void print_crashed_thread(std::ostream& out, const CpuStack& t);
nlohmann::json crashed_thread_json(const CpuStack& t);

}  // namespace kaddr
