#include "kaddr/mapped_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "kaddr/error.h"

namespace kaddr {

namespace {

// Mapped ranges and their paths, readable from a signal handler: fixed
// slots of atomics, no allocation, no locks. A mapping that finds no free
// slot is still guarded, only without its name in the message.
struct GuardSlot {
    std::atomic<std::uintptr_t> lo{0}, hi{0};
    std::atomic<const char*> path{nullptr};
};
constexpr int kGuardSlots = 4096;
GuardSlot g_slots[kGuardSlots];

void write_all(const char* s) {
    for (std::size_t n = std::strlen(s); n > 0;) {
        const ssize_t w = ::write(STDERR_FILENO, s, n);
        if (w <= 0) return;
        s += w;
        n -= static_cast<std::size_t>(w);
    }
}

void on_sigbus(int, siginfo_t* info, void*) {
    const auto at = reinterpret_cast<std::uintptr_t>(info->si_addr);
    const char* path = nullptr;
    for (auto& s : g_slots)
        if (s.lo.load() <= at && at < s.hi.load()) path = s.path.load();
    write_all("kaddr: ");
    write_all(path ? path : "a mapped input file (vmlinux, a module or the index)");
    write_all(": the file shrank while kaddr was reading it (truncated or rewritten in place); "
              "copy it somewhere stable and run again\n");
    _exit(2);
}

void install_guard() {
    static const bool installed = [] {
        struct sigaction sa {};
        sa.sa_sigaction = on_sigbus;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        return sigaction(SIGBUS, &sa, nullptr) == 0;
    }();
    (void)installed;
}

int claim_slot(const void* addr, std::size_t size, const char* path) {
    for (int i = 0; i < kGuardSlots; ++i) {
        const char* expected = nullptr;
        if (g_slots[i].path.compare_exchange_strong(expected, path)) {
            g_slots[i].lo = reinterpret_cast<std::uintptr_t>(addr);
            g_slots[i].hi = reinterpret_cast<std::uintptr_t>(addr) + size;
            return i;
        }
    }
    return -1;
}

}  // namespace

std::string file_type_words(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISREG(mode)) return "a regular file";
    return "not a regular file";
}

std::shared_ptr<const MappedFile> MappedFile::map(const std::string& path, bool populate, std::string* why) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        *why = std::string("cannot open: ") + std::strerror(errno);
        return nullptr;
    }
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        *why = "is " + file_type_words(st.st_mode) + ", not a regular file";
        ::close(fd);
        return nullptr;
    }
    std::shared_ptr<MappedFile> f(new MappedFile());
    f->path_ = path;
    f->size_ = static_cast<std::size_t>(st.st_size);
    f->mtime_ns_ = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (f->size_ > 0) {
        install_guard();
        void* a = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd, 0);
        if (a == MAP_FAILED) {
            *why = std::string("cannot map: ") + std::strerror(errno);
            ::close(fd);
            return nullptr;
        }
        f->addr_ = a;
        f->guard_slot_ = claim_slot(a, f->size_, f->path_.c_str());
    }
    ::close(fd);
    return f;
}

std::shared_ptr<const MappedFile> MappedFile::open(const std::string& path) {
    std::string why;
    auto f = map(path, false, &why);
    if (!f) throw Error(path, why);
    return f;
}

std::shared_ptr<const MappedFile> MappedFile::try_open(const std::string& path, bool populate) {
    std::string why;
    return map(path, populate, &why);
}

MappedFile::~MappedFile() {
    if (guard_slot_ >= 0) {
        g_slots[guard_slot_].hi = 0;
        g_slots[guard_slot_].lo = 0;
        g_slots[guard_slot_].path = nullptr;
    }
    if (addr_) munmap(addr_, size_);
}

}  // namespace kaddr
