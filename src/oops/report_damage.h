// Whether a report is damaged, judged from its own structure: a stack
// announced and not printed, another task's stack taken for its own, lines
// merged into the headline, a panic whose report is missing. Each rule says
// why, so the reader knows what not to trust.
#pragma once
#include <cstddef>
#include <string>

#include "kaddr/oops.h"

namespace kaddr {

// Reports whose kernel prints no stack by design.
bool stackless(const OopsReport& r);
// Why the report is damaged, or "" when it is whole.
std::string damage(const OopsReport& r);
// Fault injection prints a stack with each failure it forces; when one
// comes before the frame blamed, another task's stack was taken for this
// report's.
bool injected_failure_before(const OopsReport& r, std::size_t guilty);

}  // namespace kaddr
