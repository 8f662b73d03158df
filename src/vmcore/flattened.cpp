// makedumpfile's flattened format (`makedumpfile -F`): a 4096-byte header
// starting "makedumpfile", then records {int64 offset, int64 size, data}
// in big-endian, ending with offset = size = -1. Each record is a piece of
// the kdump-compressed (or ELF) file at that offset; writing them in order
// rebuilds the file, which is all `makedumpfile -R` does. One pass, one
// record in memory at a time.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kaddr/error.h"
#include "kaddr/vmcore.h"

namespace kaddr {

namespace {

constexpr std::size_t kHeaderSize = 4096;
constexpr std::int64_t kEndFlag = -1;

std::int64_t be64(const unsigned char* p) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    return static_cast<std::int64_t>(v);
}

// An anonymous file: gone when the last descriptor closes, whatever happens.
int anonymous_temp_file(const std::string& for_path) {
    const char* dir = std::getenv("TMPDIR");
    std::string d = dir && *dir ? dir : "/tmp";
    int fd = ::open(d.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    std::string tmpl = d + "/kaddr-flat-XXXXXX";
    fd = ::mkstemp(tmpl.data());
    if (fd < 0) throw Error(for_path, "cannot create a temporary file in " + d + ": " + std::strerror(errno),
                            "set TMPDIR to a writable directory with room for the rebuilt dump");
    ::unlink(tmpl.c_str());
    return fd;
}

// The descriptor of a file being read, closed however the read ends.
struct Input {
    int fd;
    ~Input() { ::close(fd); }
};

// Reads exactly `n` bytes (false at the end of the file). A read error is
// not an end of file: it is said, with the system's reason.
bool read_exactly(int fd, void* to, std::size_t n, const std::string& path) {
    auto* p = static_cast<char*>(to);
    while (n > 0) {
        const ssize_t got = ::read(fd, p, n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw Error(path, std::string("cannot read: ") + std::strerror(errno));
        if (got == 0) return false;
        p += got;
        n -= static_cast<std::size_t>(got);
    }
    return true;
}

}  // namespace

int rebuild_flattened(const std::string& path) {
    const Input in{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (in.fd < 0) throw Error(path, std::string("cannot read file: ") + std::strerror(errno));
    std::vector<char> header(kHeaderSize);
    if (!read_exactly(in.fd, header.data(), kHeaderSize, path) || std::memcmp(header.data(), "makedumpfile", 12) != 0)
        throw Error(path, "not a makedumpfile flattened stream");
    const int fd = anonymous_temp_file(path);
    std::vector<char> buf;
    std::uint64_t pos = kHeaderSize;
    try {
        for (;;) {
            unsigned char rec[16];
            if (!read_exactly(in.fd, rec, sizeof rec, path))
                throw Error(path, "truncated flattened stream: no end marker after offset " + std::to_string(pos),
                            "the dump was cut short (disk full while saving?); it cannot be read whole");
            const std::int64_t offset = be64(rec), size = be64(rec + 8);
            if (offset == kEndFlag && size == kEndFlag) break;
            if (offset < 0 || size < 0 || size > (std::int64_t(1) << 32))
                throw Error(path, "damaged flattened record at offset " + std::to_string(pos) + " (file offset " +
                                      std::to_string(offset) + ", size " + std::to_string(size) + ")");
            buf.resize(static_cast<std::size_t>(size));
            if (!read_exactly(in.fd, buf.data(), buf.size(), path))
                throw Error(path, "truncated flattened stream: record at offset " + std::to_string(pos) + " needs " +
                                      std::to_string(size) + " bytes",
                            "the dump was cut short (disk full while saving?); it cannot be read whole");
            for (std::size_t done = 0; done < buf.size();) {
                ssize_t n = ::pwrite(fd, buf.data() + done, buf.size() - done, offset + static_cast<off_t>(done));
                if (n <= 0) throw Error(path, std::string("cannot write the rebuilt dump: ") + std::strerror(errno),
                                        "set TMPDIR to a directory with room for it");
                done += static_cast<std::size_t>(n);
            }
            pos += sizeof rec + static_cast<std::uint64_t>(size);
        }
    } catch (...) {
        ::close(fd);
        throw;
    }
    return fd;
}

}  // namespace kaddr
