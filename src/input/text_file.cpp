// Text inputs are read, never mapped: a log can be rotated (truncated)
// while kaddr reads it, and a truncated mapping is a SIGBUS that takes the
// whole batch down. Reading 4.5 MB of kallsyms costs well under a
// millisecond more than mapping it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

TextFile read_fd(int fd, const std::string& name, const struct stat& st) {
    const std::uint64_t limit = input_size_limit();
    if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > limit) throw_over_limit(name, "is larger than");
    auto s = std::make_shared<std::string>();
    auto read_some = [&](char* into, std::size_t room) {
        for (;;) {
            const ssize_t n = ::read(fd, into, room);
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno != EINTR) throw Error(name, std::string("read error: ") + std::strerror(errno));
        }
    };
    // A regular file is read straight into its buffer, not through the
    // block below: one copy of 4.5 MB of kallsyms instead of two.
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        s->resize(static_cast<std::size_t>(st.st_size));
        std::size_t got = 0;
        for (std::size_t n; got < s->size() && (n = read_some(s->data() + got, s->size() - got)) != 0;) got += n;
        s->resize(got);
    }
    bool sniffed = false;
    char buf[65536];
    for (std::size_t n; (n = read_some(buf, sizeof buf)) != 0;) {  // what follows (a file growing, a pipe)
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
    // A regular file that ended early and is now shorter than it was was
    // truncated under kaddr (log rotation). (Files in /proc and /sys end
    // early by nature, and their size stays what it was: 0 or 4096.)
    struct stat now {};
    if (S_ISREG(st.st_mode) && s->size() < static_cast<std::uint64_t>(st.st_size) && fstat(fd, &now) == 0 &&
        now.st_size < st.st_size)
        throw Error(name, "the file shrank while kaddr was reading it (" + std::to_string(s->size()) + " of " +
                              std::to_string(st.st_size) + " bytes)",
                    "it was truncated or rotated; run again on a copy");
    std::vector<char> expanded;
    if (decompress(s->data(), s->size(), expanded, name)) s->assign(expanded.begin(), expanded.end());
    if (looks_binary(std::string_view(*s).substr(0, kSniff))) refuse_binary(name);
    TextFile out;
    out.text = *s;
    out.storage = std::move(s);
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
