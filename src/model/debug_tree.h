// Where the debug files of a kernel release live inside a debug tree (an
// extracted -dbg/-dbgsym/debuginfo package, or /usr/lib/debug itself), by
// the distributions' conventions:
//   Debian/Ubuntu  boot/vmlinux-REL, boot/System.map-REL, lib/modules/REL/**/NAME.ko
//   Fedora/RHEL    lib/modules/REL/vmlinux, lib/modules/REL/**/NAME.ko.debug
//   any            .build-id/xx/yyyy.debug (by build-id)
// One tree may hold several kernels; the release chooses among them.
#pragma once
#include <string>
#include <vector>

namespace kaddr {

struct KernelDebugFiles {
    std::string release;
    std::string vmlinux, system_map;  // empty when the tree lacks them
    std::string modules_dir;          // lib/modules/REL, empty when absent
    std::string convention;           // "Debian/Ubuntu" or "Fedora/RHEL"
};

class DebugTree {
public:
    // `dir` is the package root (holding usr/lib/debug) or the debug
    // directory itself. Throws Error when it is neither.
    explicit DebugTree(const std::string& dir);

    const std::string& root() const { return root_; }  // the directory holding boot/, lib/, .build-id/
    const std::vector<std::string>& releases() const { return releases_; }
    // The files of one release (all empty when the tree does not hold it).
    KernelDebugFiles kernel(const std::string& release) const;
    // .build-id/xx/yyyy.debug for a lower-case hex build-id, or "".
    std::string by_build_id(const std::string& build_id) const;

private:
    std::string given_, root_;
    std::vector<std::string> releases_;
};

}  // namespace kaddr
