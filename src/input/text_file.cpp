// Text inputs are read, never mapped: a log can be rotated (truncated)
// while kaddr reads it, and a truncated mapping is a SIGBUS that takes the
// whole batch down. Reading 4.5 MB of kallsyms into huge pages costs a
// millisecond more than mapping it.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <vector>

#include "kaddr/decompress.h"
#include "kaddr/error.h"
#include "kaddr/input_limit.h"
#include "kaddr/inputs.h"
#include "kaddr/mapped_file.h"

namespace kaddr {

namespace {

// Enough of a file to tell text from binary.
constexpr std::size_t kSniff = 64 * 1024;

// Binary when more than 1 in 32 bytes of the sample are NUL or control
// bytes no log contains: a log has none but tab, CR, form feed, backspace,
// bell and the ESC of colour codes; an ELF file, random or compressed data
// and /dev/zero have far more (random bytes: 1 in 10).
bool looks_binary(std::string_view sample) {
    std::size_t odd = 0;
    for (unsigned char c : sample)
        odd += c < 0x20 && c != '\n' && c != '\t' && c != '\r' && c != '\f' && c != '\b' && c != '\a' && c != 0x1b;
    return odd * 32 > sample.size();
}

[[noreturn]] void refuse_binary(const std::string& name) {
    throw Error(name, "binary data, not text (NUL and control bytes)",
                "expected a text log, report or capture; a UTF-16 export needs 'iconv -f UTF-16 -t UTF-8'");
}

// Room for a large file's bytes in fresh memory asked for in 2 MiB pages:
// reading 4.5 MB of kallsyms into 4 KiB pages is 1,100 page faults, most
// of the read's time (3.2 ms against 1.3 ms measured). As glibc's
// glibc.malloc.hugetlb=1 does; where transparent huge pages are off the
// advice is ignored and the pages are small.
std::shared_ptr<char> reading_buffer(std::size_t size) {
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    if (size < kHuge) return std::shared_ptr<char>(new char[size], std::default_delete<char[]>());
    const std::size_t room = (size + kHuge - 1) / kHuge * kHuge;
    void* raw = ::mmap(nullptr, room + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto base = reinterpret_cast<std::uintptr_t>(raw);
    char* aligned = reinterpret_cast<char*>((base + kHuge - 1) / kHuge * kHuge);
    ::madvise(aligned, room, MADV_HUGEPAGE);
    return std::shared_ptr<char>(aligned, [raw, room](char*) { ::munmap(raw, room + kHuge); });
}

TextFile read_fd(int fd, const std::string& name, const struct stat& st) {
    const std::uint64_t limit = input_size_limit();
    if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > limit) throw_over_limit(name, "is larger than");
    auto read_some = [&](char* into, std::size_t room) {
        for (;;) {
            const ssize_t n = ::read(fd, into, room);
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno != EINTR) throw Error(name, std::string("read error: ") + std::strerror(errno));
        }
    };
    char buf[65536];
    auto s = std::make_shared<std::string>();
    std::shared_ptr<char> whole;  // a regular file read at its size, when it did not grow
    std::size_t got = 0;
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        const auto size = static_cast<std::size_t>(st.st_size);
        whole = reading_buffer(size);
        for (std::size_t n; got < size && (n = read_some(whole.get() + got, size - got)) != 0;) got += n;
        if (const std::size_t more = got == size ? read_some(buf, sizeof buf) : 0) {  // it grew: read on below
            s->reserve(got + more);
            s->assign(whole.get(), got).append(buf, more);
            whole.reset();
        }
    }
    bool sniffed = false;
    for (std::size_t n; !whole && (n = read_some(buf, sizeof buf)) != 0;) {  // what follows (a file growing, a pipe)
        if (s->size() + n > limit) throw_over_limit(name, "is larger than");
        s->append(buf, n);
        // A stream of binary (/dev/zero on standard input) is refused after
        // its first block, not after the limit's worth of memory.
        if (!sniffed && s->size() >= kSniff) {
            sniffed = true;
            if (!is_compressed(s->data(), s->size()) && looks_binary(std::string_view(*s).substr(0, kSniff)))
                refuse_binary(name);
        }
    }
    std::string_view bytes = whole ? std::string_view(whole.get(), got) : std::string_view(*s);
    // A regular file that ended early and is now shorter than it was was
    // truncated under kaddr (log rotation). (Files in /proc and /sys end
    // early by nature, and their size stays what it was: 0 or 4096.)
    struct stat now {};
    if (S_ISREG(st.st_mode) && bytes.size() < static_cast<std::uint64_t>(st.st_size) && fstat(fd, &now) == 0 &&
        now.st_size < st.st_size)
        throw Error(name, "the file shrank while kaddr was reading it (" + std::to_string(bytes.size()) + " of " +
                              std::to_string(st.st_size) + " bytes)",
                    "it was truncated or rotated; run again on a copy");
    std::vector<char> expanded;
    if (decompress(bytes.data(), bytes.size(), expanded, name)) {
        s->assign(expanded.begin(), expanded.end());
        whole.reset();
        bytes = *s;
    }
    if (looks_binary(bytes.substr(0, kSniff))) refuse_binary(name);
    TextFile out;
    out.text = bytes;
    out.storage = whole ? std::shared_ptr<const void>(std::move(whole)) : std::shared_ptr<const void>(std::move(s));
    return out;
}

}  // namespace

TextFile read_text_file(const std::string& path) {
    // A FIFO is opened waiting for its writer, as `cat` would; anything
    // else with O_NONBLOCK (which regular files ignore) and is then read
    // blocking. A FIFO must not be opened twice: data a writer left in it
    // is lost when the last reader closes.
    struct stat st {};
    const bool fifo = ::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (fifo ? 0 : O_NONBLOCK));
    if (fd < 0) throw Error(path, std::string("cannot read file: ") + std::strerror(errno));
    struct Close {
        int fd;
        ~Close() { ::close(fd); }
    } close_fd{fd};
    if (fstat(fd, &st) != 0) throw Error(path, std::string("cannot read file: ") + std::strerror(errno));
    if (S_ISDIR(st.st_mode) || S_ISBLK(st.st_mode))
        throw Error(path, "is " + file_type_words(st.st_mode) + ", not a text file", "give the file itself");
    if (!fifo) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return read_fd(fd, path, st);
}

TextFile read_standard_input() {
    struct stat st {};
    if (fstat(STDIN_FILENO, &st) != 0) throw Error("standard input", std::string("cannot read: ") + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) throw Error("standard input", "is a directory, not a text file");
    return read_fd(STDIN_FILENO, "standard input", st);
}

std::istringstream text_input_stream(const std::string& path) {
    return std::istringstream(std::string(read_text_file(path).text));
}

}  // namespace kaddr
