// The one way kaddr maps a file (vmlinux, .ko, the persisted index): only a
// regular file (a FIFO, device or directory is refused, and opening never
// blocks on a FIFO), read-only, and guarded against SIGBUS. A mapped file
// that shrinks under kaddr faults on the lost pages; the guard turns that
// into one message naming the file and exit status 2 instead of a bus error
// with no word. Inputs that can change while kaddr runs (logs being
// rotated, captures) are read, not mapped (read_text_file).
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace kaddr {

class MappedFile {
public:
    // Throws Error naming `path` when it is missing, not a regular file or
    // cannot be mapped. An empty file maps to an empty view.
    static std::shared_ptr<const MappedFile> open(const std::string& path);
    // As open(), but returns nullptr instead of throwing (the index: a
    // missing or odd cache file is rebuilt, never an error). `populate`
    // faults every page in at once, for data read whole.
    static std::shared_ptr<const MappedFile> try_open(const std::string& path, bool populate);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::string& path() const { return path_; }
    std::string_view bytes() const { return {static_cast<const char*>(addr_), size_}; }
    std::uint64_t size() const { return size_; }
    std::int64_t mtime_ns() const { return mtime_ns_; }

private:
    MappedFile() = default;
    static std::shared_ptr<const MappedFile> map(const std::string& path, bool populate, std::string* why);

    std::string path_;
    void* addr_ = nullptr;
    std::size_t size_ = 0;
    std::int64_t mtime_ns_ = 0;
    int guard_slot_ = -1;
};

// "a directory", "a FIFO", "a character device", ... for st_mode (the
// words of the message refusing it).
std::string file_type_words(mode_t mode);

}  // namespace kaddr
