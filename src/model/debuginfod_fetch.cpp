#include "debuginfod_fetch.h"

#include <elfutils/debuginfod.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <vector>

#include "kaddr/lazy_library.h"

namespace kaddr {

namespace {

// libdebuginfod is opened when a file is first fetched (see lazy_library.h).
struct Debuginfod {
    LazyLibrary lib{"libdebuginfod.so.1", "libdebuginfod1"};
    decltype(&debuginfod_begin) begin = lib.function<decltype(&debuginfod_begin)>("debuginfod_begin");
    decltype(&debuginfod_set_progressfn) set_progressfn =
        lib.function<decltype(&debuginfod_set_progressfn)>("debuginfod_set_progressfn");
    decltype(&debuginfod_find_debuginfo) find_debuginfo =
        lib.function<decltype(&debuginfod_find_debuginfo)>("debuginfod_find_debuginfo");
    bool usable() const { return begin && set_progressfn && find_debuginfo; }
};

// A long download on a terminal shows that it is moving.
int show_progress(debuginfod_client*, long done, long total) {
    if (total > 0) std::cerr << "\rkaddr: debuginfod: " << done * 100 / total << "%" << std::flush;
    return 0;
}

}  // namespace

Fetched fetch_debuginfo(const std::string& build_id) {
    Fetched out;
    const char* urls = std::getenv("DEBUGINFOD_URLS");
    if (!urls || !*urls) {
        out.why = "no debuginfod server configured (DEBUGINFOD_URLS is not set)";
        return out;
    }
    if (build_id.empty() || build_id.size() % 2) {
        out.why = "no build-id to ask debuginfod for";
        return out;
    }
    static std::mutex mu;  // a debuginfod_client is not thread-safe
    static debuginfod_client* client = nullptr;
    std::lock_guard lock(mu);
    static Debuginfod lib;
    if (!lib.usable()) {
        out.why = lib.lib.error();
        return out;
    }
    if (!client) {
        client = lib.begin();
        if (!client) {
            out.why = "libdebuginfod could not start a client";
            return out;
        }
        if (isatty(STDERR_FILENO)) lib.set_progressfn(client, show_progress);
    }
    std::vector<unsigned char> raw;
    for (std::size_t i = 0; i + 1 < build_id.size(); i += 2)
        raw.push_back(static_cast<unsigned char>(std::strtoul(build_id.substr(i, 2).c_str(), nullptr, 16)));
    char* path = nullptr;
    const int fd = lib.find_debuginfo(client, raw.data(), static_cast<int>(raw.size()), &path);
    if (isatty(STDERR_FILENO)) std::cerr << "\r\033[K" << std::flush;
    if (fd < 0) {
        out.why = "debuginfod (" + std::string(urls) + ") has no debug file for build-id " + build_id + ": " +
                  std::strerror(-fd);
        return out;
    }
    ::close(fd);
    out.path = path;
    std::free(path);
    return out;
}

}  // namespace kaddr
