// Undoes what mail clients and doubled consoles do to a log before it is
// segmented: lines wrapped in two, lines echoed twice.
#pragma once
#include <vector>

#include "kaddr/oops.h"

namespace kaddr {

std::vector<LogLine> unwrap_lines(const std::vector<LogLine>& lines);

}  // namespace kaddr
