// A kdump vmcore opened through libkdumpfile: kdump-compressed (diskdump),
// ELF core, or makedumpfile's flattened stream (what Debian's kdump-tools
// saves), which libkdumpfile 0.5.1 cannot read and which is therefore
// rebuilt, in one streaming pass as `makedumpfile -R` does, into an
// anonymous temporary file first. Kernel virtual addresses are translated
// by libkdumpfile from the dump's own VMCOREINFO and page tables.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kaddr {

enum class DumpFormat { KdumpCompressed, Elf, Flattened };
std::string_view dump_format_name(DumpFormat f);

// The VMCOREINFO note: KEY=VALUE lines written by the crashed kernel
// (crash_save_vmcoreinfo). Typed accessors for what kaddr uses; a missing
// key is std::nullopt, never a default.
class VmcoreInfo {
public:
    // Throws Error naming `file` for a line that is not KEY=VALUE.
    static VmcoreInfo parse(std::string_view text, const std::string& file);

    std::optional<std::string> value(const std::string& key) const;
    std::string osrelease() const { return value("OSRELEASE").value_or(""); }
    std::string build_id() const { return value("BUILD-ID").value_or(""); }
    std::optional<std::int64_t> kernel_offset() const;  // KERNELOFFSET (hex)
    std::optional<std::uint64_t> page_size() const;     // PAGESIZE
    std::optional<std::int64_t> crash_time() const;     // CRASHTIME (seconds since the epoch)
    std::optional<std::uint64_t> symbol(const std::string& name) const;   // SYMBOL(name), hex
    std::optional<std::uint64_t> offset(const std::string& member) const; // OFFSET(struct.member)
    std::optional<std::uint64_t> size(const std::string& type) const;     // SIZE(type)
    std::optional<std::int64_t> number(const std::string& name) const;    // NUMBER(name)
    std::optional<std::uint64_t> length(const std::string& name) const;   // LENGTH(name)
    std::size_t entries() const { return map_.size(); }

private:
    std::map<std::string, std::string, std::less<>> map_;
};

// The registers of one CPU as its NT_PRSTATUS note holds them.
struct CpuState {
    unsigned cpu = 0;
    std::int64_t pid = 0;                          // pr_pid: the task running there
    std::map<std::string, std::uint64_t> regs;     // libkdumpfile's names: rip, rsp, rbp, ...
};

class Vmcore {
public:
    // Throws Error naming `path`: missing, unknown format, truncated, no VMCOREINFO.
    static std::unique_ptr<Vmcore> open(const std::string& path);
    ~Vmcore();
    Vmcore(const Vmcore&) = delete;
    Vmcore& operator=(const Vmcore&) = delete;

    const std::string& path() const { return path_; }
    DumpFormat format() const { return format_; }
    const VmcoreInfo& info() const { return info_; }
    std::string arch() const;  // libkdumpfile's name: x86_64, aarch64, ...

    // Kernel virtual memory. read() returns false when the page is not in
    // the dump (excluded by the dump level, or never mapped); read_exact()
    // throws Error naming the dump and what was being read.
    bool read(std::uint64_t kvaddr, void* buf, std::size_t len) const;
    void read_exact(std::uint64_t kvaddr, void* buf, std::size_t len, const char* what) const;
    std::uint64_t read_u64(std::uint64_t kvaddr, const char* what) const;
    std::string read_cstring(std::uint64_t kvaddr, std::size_t max, const char* what) const;

    std::vector<CpuState> cpus() const;

private:
    Vmcore() = default;
    std::string path_;
    DumpFormat format_ = DumpFormat::KdumpCompressed;
    int fd_ = -1;
    struct Ctx;
    std::unique_ptr<Ctx> ctx_;
    VmcoreInfo info_;
};

// Sniffs the first bytes of a file (nullopt: none of the known formats).
std::optional<DumpFormat> sniff_dump_format(const std::string& path);

// Rebuilds a flattened stream into an unlinked temporary file (in
// $TMPDIR or /tmp) and returns its descriptor; throws Error naming `path`
// for a damaged or truncated stream.
int rebuild_flattened(const std::string& path);

}  // namespace kaddr
