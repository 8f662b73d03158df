// Shared pieces of the libFuzzer targets: the fuzz input as a file (the
// loaders take paths), and a snapshot to resolve against, loaded once from
// the committed capture.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include "kaddr/input_limit.h"
#include "kaddr/snapshot.h"

namespace kfuzz {

// An in-memory file holding the input, reachable by path
// (/proc/self/fd/N): a regular file to every check, no disk I/O.
class MemFile {
public:
    MemFile() : fd_(memfd_create("kaddr-fuzz", MFD_CLOEXEC)) {}
    ~MemFile() { close(fd_); }
    std::string hold(const std::uint8_t* data, std::size_t size) {
        ftruncate(fd_, 0);
        pwrite(fd_, data, size, 0);
        return "/proc/self/fd/" + std::to_string(fd_);
    }

private:
    int fd_;
};

// Inputs stay small under the fuzzer: a 4 MiB cap keeps a bomb from
// costing seconds per run while still exercising the limit.
inline void small_limit() { kaddr::set_input_size_limit(std::uint64_t{4} << 20); }

// capture-1 of the x86_64 cloud kernel: kallsyms, /proc/modules, sysfs
// sections and the ktoops module with DWARF.
inline const kaddr::Snapshot& capture() {
    static const std::unique_ptr<kaddr::Snapshot> snap = [] {
        const std::string d = std::string(KADDR_TESTDATA) + "/captures/deb12-6.1.0-56-cloud/";
        kaddr::SnapshotInputs in;
        in.snapshot_dir = d + "capture-1/snapshot";
        in.ko_files = {d + "ktoops/ktoops.ko"};
        in.use_index = false;
        return kaddr::load_snapshot(in);
    }();
    return *snap;
}

}  // namespace kfuzz
