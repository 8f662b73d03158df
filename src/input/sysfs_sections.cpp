#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "kaddr/error.h"
#include "kaddr/inputs.h"
#include "kaddr/lexemes.h"

namespace kaddr {

namespace fs = std::filesystem;

SectionAddresses parse_section_list(std::istream& in, const std::string& file) {
    SectionAddresses out;
    LineReader reader(in, file);
    std::string line;
    while (reader.next(line)) {
        if (trim(line).empty()) continue;
        std::istringstream words(line);
        std::string mod, sect, addr, extra;
        words >> mod >> sect >> addr >> extra;
        auto a = parse_hex(addr);
        if (mod.empty() || sect.empty() || !a || !extra.empty())
            throw Error(reader.where(), "not a section line: '" + line.substr(0, 80) + "'",
                        "expected 'module section address'");
        out[canonical_module_name(mod)][sect] = *a;
    }
    return out;
}

namespace {

// The section files are readable by root only: a capture copied as a user
// fails here, and must say so rather than "not a section address: ''".
const char* kAsRoot = "sys/module/*/sections is readable by root only; capture it as root (or give --sections a list)";

struct Dir {
    DIR* d;
    ~Dir() {
        if (d) ::closedir(d);
    }
};

// The entries of a directory with their types (DT_UNKNOWN and symlinks
// asked of the file system, symlinks followed).
template <class Each>
void each_entry(DIR* d, Each&& each) {
    while (const dirent* e = ::readdir(d)) {
        const std::string_view name = e->d_name;
        if (name == "." || name == "..") continue;
        unsigned char type = e->d_type;
        if (type == DT_UNKNOWN || type == DT_LNK) {
            struct stat st {};
            type = ::fstatat(::dirfd(d), e->d_name, &st, 0) != 0 ? DT_UNKNOWN : S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
        }
        each(name, type);
    }
}

// One section file: "0xffffffffc0569000\n". Opened relative to its
// directory and read once, without blocking (a FIFO planted in a capture
// reads as empty): three system calls, not the ten of a general text input,
// for the 500 files of a typical capture.
std::uint64_t read_section_address(int dir_fd, const std::string& name, const fs::path& dir) {
    auto where = [&] { return (dir / name).string(); };
    const int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == EACCES) throw Error(where(), "permission denied", kAsRoot);
        throw Error(where(), std::string("cannot read file: ") + std::strerror(errno));
    }
    char buf[128];
    ssize_t n;
    do n = ::read(fd, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    const int read_errno = errno;
    ::close(fd);
    if (n < 0 && read_errno != EAGAIN) throw Error(where(), std::string("cannot read file: ") + std::strerror(read_errno));
    std::string_view text(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    text = text.substr(0, text.find('\n'));
    if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r'; }))
        throw Error(where(), "binary data, not a section address", "expected one line such as 0xffffffffc0569000");
    auto a = parse_hex(trim(text));
    if (!a) throw Error(at(where(), 1), "not a section address: '" + std::string(text.substr(0, 80)) + "'");
    return *a;
}

}  // namespace

SectionAddresses read_sysfs_sections(const std::string& sys_module_dir) {
    SectionAddresses out;
    std::error_code ec;
    if (!fs::is_directory(sys_module_dir, ec))
        throw Error(sys_module_dir, "not a directory", "expected a captured sys/module tree");
    Dir top{::opendir(sys_module_dir.c_str())};
    if (!top.d) throw Error(sys_module_dir, std::string("cannot list directory: ") + std::strerror(errno), kAsRoot);
    each_entry(top.d, [&](std::string_view module, unsigned char type) {
        if (type != DT_DIR) return;
        const fs::path sections = fs::path(sys_module_dir) / module / "sections";
        Dir dir{::opendir(sections.c_str())};
        if (!dir.d) {
            if (errno == ENOENT || errno == ENOTDIR) return;  // built-in modules have no sections/
            throw Error(sections.string(), std::string("cannot list directory: ") + std::strerror(errno), kAsRoot);
        }
        auto& dst = out[canonical_module_name(std::string(module))];
        each_entry(dir.d, [&](std::string_view name, unsigned char t) {
            if (t == DT_DIR) return;
            const std::string file(name);
            dst[file] = read_section_address(::dirfd(dir.d), file, sections);
        });
    });
    return out;
}

}  // namespace kaddr
