// Vmcore: the dump file -> a libkdumpfile context with Linux address
// translation, its VMCOREINFO parsed, and the per-CPU NT_PRSTATUS
// registers libkdumpfile exposes as cpu.N.* attributes.
#include <fcntl.h>
#include <libkdumpfile/kdumpfile.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "dump_completeness.h"
#include "kaddr/error.h"
#include "kaddr/lexemes.h"
#include "kaddr/vmcore.h"

namespace kaddr {

struct Vmcore::Ctx {
    kdump_ctx_t* k = nullptr;
    ~Ctx() {
        if (k) kdump_free(k);
    }
};

std::string_view dump_format_name(DumpFormat f) {
    switch (f) {
        case DumpFormat::KdumpCompressed: return "kdump-compressed";
        case DumpFormat::Elf: return "ELF core";
        case DumpFormat::Flattened: return "makedumpfile flattened";
    }
    return "?";
}

namespace {

std::optional<DumpFormat> sniff_fd(int fd) {
    char m[16] = {};
    if (::pread(fd, m, sizeof m, 0) < 8) return std::nullopt;
    if (std::memcmp(m, "\x7f" "ELF", 4) == 0) return DumpFormat::Elf;
    if (std::memcmp(m, "KDUMP   ", 8) == 0 || std::memcmp(m, "DISKDUMP", 8) == 0) return DumpFormat::KdumpCompressed;
    if (std::memcmp(m, "makedumpfile", 12) == 0) return DumpFormat::Flattened;
    return std::nullopt;
}

}  // namespace

std::optional<DumpFormat> sniff_dump_format(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    auto f = sniff_fd(fd);
    ::close(fd);
    return f;
}

std::unique_ptr<Vmcore> Vmcore::open(const std::string& path) {
    std::unique_ptr<Vmcore> v(new Vmcore());
    v->path_ = path;
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw Error(path, "is a directory, not a dump");
    v->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (v->fd_ < 0) throw Error(path, std::string("cannot open dump: ") + std::strerror(errno));
    auto format = sniff_fd(v->fd_);
    if (!format)
        throw Error(path, "unknown dump format (neither kdump-compressed, ELF core nor makedumpfile flattened)",
                    "give a vmcore written by makedumpfile or a copy of /proc/vmcore");
    v->format_ = *format;
    DumpFormat layout = *format;  // what libkdumpfile reads
    if (*format == DumpFormat::Flattened) {
        // Closed and forgotten before the rebuild can throw: the destructor
        // would otherwise close the number again, by then another thread's
        // file (a batch reading a cut dump beside a whole one lost the
        // whole one's descriptor that way).
        ::close(v->fd_);
        v->fd_ = -1;
        v->fd_ = rebuild_flattened(path);
        auto inner = sniff_fd(v->fd_);
        if (!inner || *inner == DumpFormat::Flattened)
            throw Error(path, "the flattened stream does not hold a kdump-compressed or ELF dump");
        layout = *inner;
    }
    check_complete(v->fd_, layout, path);

    v->ctx_ = std::make_unique<Ctx>();
    v->ctx_->k = kdump_new();
    if (!v->ctx_->k) throw Error(path, "libkdumpfile: out of memory");
    kdump_ctx_t* k = v->ctx_->k;
    if (kdump_open_fd(k, v->fd_) != KDUMP_OK)
        throw Error(path, std::string("libkdumpfile cannot read it: ") + kdump_get_err(k));
    // Address translation for Linux: page tables found through VMCOREINFO.
    if (kdump_set_string_attr(k, KDUMP_ATTR_OSTYPE, "linux") != KDUMP_OK)
        throw Error(path, std::string("libkdumpfile: no Linux address translation: ") + kdump_get_err(k));
    char* raw = nullptr;
    if (kdump_vmcoreinfo_raw(k, &raw) != KDUMP_OK || !raw || !*raw)
        throw Error(path, "no VMCOREINFO note",
                    "kaddr needs the note the crashed kernel writes (a /proc/vmcore copy or makedumpfile output has it)");
    v->info_ = VmcoreInfo::parse(raw, path);
    std::free(raw);
    if (v->info_.osrelease().empty()) throw Error(path, "VMCOREINFO has no OSRELEASE", "the note is damaged");
    return v;
}

Vmcore::~Vmcore() {
    ctx_.reset();
    if (fd_ >= 0) ::close(fd_);
}

std::string Vmcore::arch() const {
    const char* s = nullptr;
    return kdump_get_string_attr(ctx_->k, KDUMP_ATTR_ARCH_NAME, &s) == KDUMP_OK && s ? s : "";
}

bool Vmcore::read(std::uint64_t kvaddr, void* buf, std::size_t len) const {
    size_t got = len;
    return kdump_read(ctx_->k, KDUMP_KVADDR, kvaddr, buf, &got) == KDUMP_OK && got == len;
}

void Vmcore::read_exact(std::uint64_t kvaddr, void* buf, std::size_t len, const char* what) const {
    size_t got = len;
    if (kdump_read(ctx_->k, KDUMP_KVADDR, kvaddr, buf, &got) != KDUMP_OK || got != len)
        throw Error(path_, std::string("cannot read ") + what + " (" + std::to_string(len) + " bytes at " + hex(kvaddr) +
                               "): " + kdump_get_err(ctx_->k),
                    "the page is not in the dump (dump level?) or the dump is damaged");
}

std::uint64_t Vmcore::read_u64(std::uint64_t kvaddr, const char* what) const {
    std::uint64_t v = 0;
    read_exact(kvaddr, &v, sizeof v, what);
    return v;
}

std::string Vmcore::read_cstring(std::uint64_t kvaddr, std::size_t max, const char* what) const {
    std::string s(max, '\0');
    read_exact(kvaddr, s.data(), max, what);
    s.resize(std::strlen(s.c_str()));
    return s;
}

std::vector<CpuState> Vmcore::cpus() const {
    std::vector<CpuState> out;
    kdump_num_t n = 0;
    if (kdump_get_number_attr(ctx_->k, KDUMP_ATTR_NUM_CPUS, &n) != KDUMP_OK) return out;
    for (kdump_num_t cpu = 0; cpu < n; ++cpu) {
        CpuState c;
        c.cpu = static_cast<unsigned>(cpu);
        const std::string base = "cpu." + std::to_string(cpu);
        kdump_num_t pid = 0;
        if (kdump_get_number_attr(ctx_->k, (base + ".pid").c_str(), &pid) == KDUMP_OK) c.pid = static_cast<std::int64_t>(pid);
        kdump_attr_iter_t it;
        if (kdump_attr_iter_start(ctx_->k, (base + ".reg").c_str(), &it) == KDUMP_OK) {
            while (it.key) {
                kdump_attr_t a;
                if (kdump_attr_ref_get(ctx_->k, &it.pos, &a) == KDUMP_OK && a.type == KDUMP_NUMBER)
                    c.regs.emplace(it.key, a.val.number);
                if (kdump_attr_iter_next(ctx_->k, &it) != KDUMP_OK) break;
            }
            kdump_attr_iter_end(ctx_->k, &it);
        }
        out.push_back(std::move(c));
    }
    return out;
}

}  // namespace kaddr
