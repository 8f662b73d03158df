// Debug files by build-id from debuginfod servers ($DEBUGINFOD_URLS, with
// libdebuginfod's own cache, timeouts and $DEBUGINFOD_CACHE_PATH), for the
// files a report needs and the local trees lack.
#pragma once
#include <string>

namespace kaddr {

struct Fetched {
    std::string path;  // the cached file; empty when not fetched
    std::string why;   // when not fetched: why (no servers configured, not found, ...)
};
// Thread-safe; one client per process.
Fetched fetch_debuginfo(const std::string& build_id);

}  // namespace kaddr
