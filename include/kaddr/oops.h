// Crash reports found in console text: oops, WARN, BUG, GPF, lockups, hung
// tasks, RCU stalls, KASAN/KCSAN/UBSAN/KMSAN, lockdep, sysrq and panic
// backtraces, in every format a kernel prints them (x86_64 old and new,
// arm64, 32-bit ARM, systemtap print_backtrace, bare address lists), however
// they arrived (dmesg, dmesg -T, syslog/journal, serial console, pastes).
// Parsing needs no kernel files; explaining frames is oops_explain.h.
#pragma once
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "kaddr/lexemes.h"
#include "kaddr/oops_kind.h"

namespace kaddr {

// One console line with its decorations (timestamps, syslog prefix) removed.
struct LogLine {
    std::string raw;      // as given (without the line end)
    std::string text;     // the kernel's message
    std::size_t number = 0;  // 1-based line number in the source
    bool timestamped = false;  // carried a printk timestamp (a kernel line for sure)
    std::string caller;        // printk caller id ("T123" task, "C1" CPU), when printed
};
LogLine normalize_line(std::string raw, std::size_t number);

// Pc: the faulting pc (RIP/EIP/NIP/pc/PSW lines); Return: a stack entry;
// Link: a link-register line (lr, LR is at, ra): a return address, not a frame.
enum class FrameKind { Pc, Return, Link };

// A source line a report printed for a frame (decode_stacktrace.sh's
// `func (mm/slub.c:3567)`), innermost first when several.
struct PrintedSource {
    std::string file;
    int line = 0, column = 0;
    bool operator==(const PrintedSource&) const = default;
};

struct OopsFrame {
    std::size_t line = 0;      // index into OopsReport::lines
    std::string stack;         // task, irq, softirq, nmi, #DF, ... as printed ("" before any marker)
    bool reliable = true;      // false for `?` frames and systemtap's (inexact)
    FrameKind kind = FrameKind::Return;
    std::optional<std::uint64_t> address;
    std::optional<SymbolRef> symbol;
    bool user = false;         // a user-space pc (RIP: 0033:0x47b7a0)
    bool outside_stack = false;  // named by a WARNING headline or lockdep's at: line, not a stack line
    // A frame of lockdep's history ("-> #1 (lock){...}:" dependency chains,
    // "{IN-SOFTIRQ-W} state was registered at:"): where a lock was once
    // taken, printed as a stack but not the stack of this report.
    bool lock_history = false;
    // Decoded by scripts/decode_stacktrace.sh: its source lines printed
    // instead of the offset (which is then unknown: symbol->offset is 0);
    // decoded_source is empty when the paste was cut before them.
    bool decoded = false;
    std::vector<PrintedSource> decoded_source;
    bool restated_pc = false;  // the pc printed again after the trace (old x86 `RIP  [<..>]`, i386 `EIP: [<..>] .. SS:ESP`)
};
// Parses one message as a frame; `pc_line` tells whether it was a RIP/pc line.
std::optional<OopsFrame> parse_frame_text(const std::string& text, bool* pc_line = nullptr);
// 32-bit ARM `[<c0014318>] (callee) from [<c001457c>] (caller+0x24/0x2c)`
// names the callee too: the innermost frame, on the backtrace's first line.
std::optional<OopsFrame> arm_callee_frame(const std::string& text);

struct TaintFlag {
    char letter;
    std::string meaning;
};
std::vector<TaintFlag> decode_taint(const std::string& letters);

struct OopsReport {
    ReportKind kind = ReportKind::None;
    std::string headline;      // the first line's message
    std::vector<LogLine> lines;  // the report's lines, as given
    std::optional<int> cpu, pid;
    std::string comm, taint, release, hardware;
    std::optional<std::uint64_t> fault_address;
    std::string code;          // Code: bytes, faulting byte as printed (<..> or (..))
    std::vector<std::string> modules;  // Modules linked in
    std::optional<std::int64_t> kernel_offset;
    std::string bug_file;      // kernel BUG at / WARNING ... at FILE:LINE
    int bug_line = 0;
    std::string warn_function; // the function a WARNING names
    std::vector<OopsFrame> frames;
    bool complete = false;     // saw the end marker
    bool corrupted = false;    // damaged: interleaved, cut, or missing what its kind prints
    std::string corrupted_reason;  // why, with the source line where one shows it

    // Marks the report damaged; the first reason found is kept.
    void mark_corrupted(std::string why) {
        if (!corrupted) corrupted_reason = std::move(why);
        corrupted = true;
    }

    std::size_t first_line() const { return lines.empty() ? 0 : lines.front().number; }
};

// Finds every report in the text. A file with no report yields none.
std::vector<OopsReport> parse_reports(std::istream& in);
std::vector<OopsReport> parse_reports(const std::vector<LogLine>& lines);
// The reports of one log file; an unreadable file is an Error naming it.
std::vector<OopsReport> parse_report_file(const std::string& path);
// The reports of a log's whole text (as read_text_file gives it).
std::vector<OopsReport> parse_report_text(std::string_view text);

}  // namespace kaddr
