#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kaddr/error.h"
#include "kaddr/inputs.h"

namespace kaddr {

namespace {

struct Mapping {
    void* addr = nullptr;
    std::size_t size = 0;
    ~Mapping() {
        if (addr) munmap(addr, size);
    }
};

}  // namespace

TextFile read_text_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path, std::string("cannot read file: ") + std::strerror(errno));
    struct stat st {};
    fstat(fd, &st);
    TextFile out;
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        auto m = std::make_shared<Mapping>();
        m->size = static_cast<std::size_t>(st.st_size);
        m->addr = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m->addr != MAP_FAILED) {
            ::close(fd);
            out.text = std::string_view(static_cast<const char*>(m->addr), m->size);
            out.storage = std::move(m);
            return out;
        }
        m->addr = nullptr;
    }
    // /proc files report size 0, pipes cannot be mapped: read them.
    auto s = std::make_shared<std::string>();
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
        if (n < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            throw Error(path, std::string("read error: ") + std::strerror(errno));
        }
        s->append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    out.text = *s;
    out.storage = std::move(s);
    return out;
}

}  // namespace kaddr
