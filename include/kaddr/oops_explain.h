// Explains a parsed report with the resolver: every frame resolved (return
// addresses at the call site), the guilty frame (the first that is not
// error-reporting or fault-handling machinery), a title in the usual
// `KIND in FUNCTION` form, and the fault address resolved like `resolve`.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "kaddr/code_check.h"
#include "kaddr/code_disasm.h"
#include "kaddr/oops.h"
#include "kaddr/oops_blame.h"
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
    bool guilty_low_confidence = false;     // chosen among `?` frames or from the link register
    std::optional<Resolution> fault;        // the fault address, resolved
    std::size_t kernel_frames = 0;          // frames not in user space
    std::size_t resolved_frames = 0;        // of those, resolved to a symbol or a source line
    std::optional<CodeCheck> code_check;    // the Code: bytes against the debug file (when printed)
    std::optional<CodeListing> code_listing;  // the Code: bytes disassembled
};

ExplainedReport explain(OopsReport report, const Resolver& resolver);

}  // namespace kaddr
