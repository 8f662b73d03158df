// Explains a parsed report with the resolver: every frame resolved (return
// addresses at the call site), the guilty frame (the first that is not
// error-reporting or fault-handling machinery), a title in the usual
// `KIND in FUNCTION` form, and the fault address resolved like `resolve`.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "kaddr/oops.h"
#include "kaddr/resolver.h"

namespace kaddr {

struct ExplainedFrame {
    OopsFrame frame;
    Resolution resolution;
};

struct ExplainedReport {
    OopsReport report;
    std::vector<ExplainedFrame> frames;
    std::string title;
    std::optional<std::size_t> guilty;      // index into frames
    std::string guilty_function;            // the function blamed (DWARF's innermost when known)
    std::optional<Resolution> fault;        // the fault address, resolved
    std::size_t kernel_frames = 0;          // frames not in user space
    std::size_t resolved_frames = 0;        // of those, resolved to a symbol or a source line
};

// The function a frame is in, as printed (for guilty-frame matching).
std::string frame_function(const OopsFrame& f);
// True for frames of error reporting, fault handling, sanitizers, locking
// debug, and other generic paths a report passes through.
bool is_reporting_machinery(const std::string& function);
// The guilty frame by printed names, following each kind's rule: the pc
// and its callers for faults, the caller of a generic checker for WARNINGs,
// the site on lockdep's "at:" line, the frame before a dispatcher for
// stalls and lockups, the first non-waiting frame for hung tasks. May add
// the lockdep site to the report's frames.
struct Blame {
    std::optional<std::size_t> frame;  // index into the report's frames
    std::string function;              // as it goes into the title
    bool fell_back = false;            // the kind's rule found nothing; the first frame was taken
};
Blame blame(OopsReport& r);
std::string report_title(const OopsReport& r, const std::string& guilty_function);

ExplainedReport explain(OopsReport report, const Resolver& resolver);

}  // namespace kaddr
