// Formatters for explained crash reports: the report as given with each
// frame annotated (file:line and inline chain), then a short summary; or one
// JSON object per report.
#pragma once
#include <nlohmann/json.hpp>
#include <ostream>

#include "kaddr/oops_explain.h"

namespace kaddr {

void print_oops_text(std::ostream& out, const ExplainedReport& r);
// The log exactly as given (`log` is every line of the input, without line
// ends), except that each decoded frame line gets its source inserted after
// the frame, the layout of the kernel's scripts/decode_stacktrace.sh:
// `func+0x9c/0xbf (fs/file.c:120 inlined_fn fs/x.h:7) [mod]`: the line in
// the frame's function, then each inlined callee going inwards. Return
// addresses are looked up at the call, not at the instruction after it.
// Frames with no source line are left as they are.
void print_oops_inplace(std::ostream& out, const std::vector<std::string>& log,
                        const std::vector<ExplainedReport>& reports);
nlohmann::json oops_to_json(const ExplainedReport& r);
// The report's title the way syzkaller names it (its pkg/report rules: "BUG:
// unable to handle kernel paging request in f", "KASAN: use-after-free Read
// in f", "possible deadlock in f", ...), for matching kaddr's reports with
// syzbot's. Empty where syzkaller's rules give kaddr's own title.
std::string syzkaller_title(const ExplainedReport& r);

}  // namespace kaddr
