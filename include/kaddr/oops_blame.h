// Which frame of a report is to blame, from the printed names alone (no
// kernel files needed): used by the parser to judge a report complete and by
// explain() for the guilty frame and title.
#pragma once
#include <optional>
#include <string>

#include "kaddr/oops.h"

namespace kaddr {

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
    bool low_confidence = false;       // only `?` frames or the link register were there to choose from
};
Blame blame(OopsReport& r);
std::string report_title(const OopsReport& r, const std::string& guilty_function);


}  // namespace kaddr
