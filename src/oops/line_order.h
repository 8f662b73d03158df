// Undoes a log viewer that lists the newest line first (web UIs of routers
// and NAS boxes, `journalctl -r`): a report is read oldest line first.
#pragma once
#include <vector>

#include "kaddr/oops.h"

namespace kaddr {

// The lines oldest first: reversed when their printk timestamps run
// backwards, as given otherwise.
std::vector<LogLine> oldest_first(std::vector<LogLine> lines);

}  // namespace kaddr
