// The kernel log of a dump, read from the lockless printk ring buffer
// (Linux 5.10+) with only the offsets VMCOREINFO exports, as makedumpfile
// --dump-dmesg does: no DWARF needed, so it works with no debug files.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "kaddr/vmcore.h"

namespace kaddr {

struct LogRecord {
    std::uint64_t seq = 0;
    std::uint64_t ts_nsec = 0;
    std::uint32_t caller_id = 0;  // thread id, or 0x80000000 | CPU in interrupt context
    std::string text;             // the message bytes, as stored (may hold '\n')
};

// Oldest first. Throws Error naming the dump when VMCOREINFO lacks the
// ring buffer offsets (a pre-5.10 kernel) or its memory is not in the dump.
std::vector<LogRecord> read_kernel_log(const Vmcore& dump);

// makedumpfile --dump-dmesg's (and crash `log`'s) text: "[%5llu.%06lu] "
// then the message, bytes neither printable nor white space as \xNN, the
// lines of a multi-line record indented under the first one's text.
void print_log(std::ostream& out, const std::vector<LogRecord>& log);
std::string format_log(const std::vector<LogRecord>& log);

}  // namespace kaddr
