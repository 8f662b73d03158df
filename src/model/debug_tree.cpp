#include "debug_tree.h"

#include <algorithm>
#include <filesystem>

#include "kaddr/error.h"

namespace kaddr {

namespace fs = std::filesystem;

namespace {

bool is_dir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

bool is_file(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

}  // namespace

DebugTree::DebugTree(const std::string& dir) : given_(dir) {
    if (!is_dir(dir)) throw Error(dir, "not a directory", "--debug-root takes an extracted debug package or /usr/lib/debug");
    const fs::path d(dir);
    if (is_dir(d / "usr/lib/debug")) root_ = (d / "usr/lib/debug").string();
    else if (is_dir(d / "boot") || is_dir(d / "lib/modules") || is_dir(d / ".build-id")) root_ = d.string();
    else
        throw Error(dir, "holds no usr/lib/debug, boot/, lib/modules/ or .build-id/",
                    "is this an extracted -dbg (Debian/Ubuntu) or kernel-debuginfo (Fedora/RHEL) package?");
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fs::path(root_) / "boot", ec)) {
        const std::string name = e.path().filename().string();
        if (name.starts_with("vmlinux-")) releases_.push_back(name.substr(8));
    }
    for (const auto& e : fs::directory_iterator(fs::path(root_) / "lib/modules", ec))
        if (e.is_directory(ec)) releases_.push_back(e.path().filename().string());
    std::sort(releases_.begin(), releases_.end());
    releases_.erase(std::unique(releases_.begin(), releases_.end()), releases_.end());
}

KernelDebugFiles DebugTree::kernel(const std::string& release) const {
    KernelDebugFiles k;
    k.release = release;
    if (release.empty()) return k;
    const fs::path r(root_);
    const fs::path mods = r / "lib/modules" / release;
    if (is_file(r / "boot" / ("vmlinux-" + release))) {
        k.vmlinux = (r / "boot" / ("vmlinux-" + release)).string();
        k.convention = "Debian/Ubuntu";
    } else if (is_file(mods / "vmlinux")) {
        k.vmlinux = (mods / "vmlinux").string();
        k.convention = "Fedora/RHEL";
    }
    if (is_file(r / "boot" / ("System.map-" + release))) k.system_map = (r / "boot" / ("System.map-" + release)).string();
    if (is_dir(mods)) k.modules_dir = mods.string();
    return k;
}

std::string DebugTree::by_build_id(const std::string& build_id) const {
    if (build_id.size() < 3) return {};
    const fs::path p = fs::path(root_) / ".build-id" / build_id.substr(0, 2) / (build_id.substr(2) + ".debug");
    return is_file(p) ? p.string() : std::string();
}

}  // namespace kaddr
