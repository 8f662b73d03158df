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
#include "kaddr/lazy_library.h"
#include "kaddr/lexemes.h"
#include "kaddr/vmcore.h"

namespace kaddr {

namespace {

// libkdumpfile is opened when a dump is first read (dlopen): it brings
// libaddrxlat, liblzo2, libsnappy, libbz2 and, through libsnappy, the shared
// libstdc++, which cost 0.8 ms of start-up on every run that reads no dump.
struct Kdumpfile {
    LazyLibrary lib{"libkdumpfile.so.10", "libkdumpfile10"};
    template <class F>
    F fn(const char* name) { return lib.function<F>(name); }
    decltype(&kdump_new) create = fn<decltype(&kdump_new)>("kdump_new");
    decltype(&kdump_free) free = fn<decltype(&kdump_free)>("kdump_free");
    decltype(&kdump_open_fdset) open_fdset = fn<decltype(&kdump_open_fdset)>("kdump_open_fdset");
    decltype(&kdump_get_err) get_err = fn<decltype(&kdump_get_err)>("kdump_get_err");
    decltype(&kdump_set_attr) set_attr = fn<decltype(&kdump_set_attr)>("kdump_set_attr");
    decltype(&kdump_get_typed_attr) get_typed_attr = fn<decltype(&kdump_get_typed_attr)>("kdump_get_typed_attr");
    decltype(&kdump_vmcoreinfo_raw) vmcoreinfo_raw = fn<decltype(&kdump_vmcoreinfo_raw)>("kdump_vmcoreinfo_raw");
    decltype(&kdump_read) read = fn<decltype(&kdump_read)>("kdump_read");
    decltype(&kdump_attr_iter_start) attr_iter_start = fn<decltype(&kdump_attr_iter_start)>("kdump_attr_iter_start");
    decltype(&kdump_attr_iter_next) attr_iter_next = fn<decltype(&kdump_attr_iter_next)>("kdump_attr_iter_next");
    decltype(&kdump_attr_iter_end) attr_iter_end = fn<decltype(&kdump_attr_iter_end)>("kdump_attr_iter_end");
    decltype(&kdump_attr_ref_get) attr_ref_get = fn<decltype(&kdump_attr_ref_get)>("kdump_attr_ref_get");
    bool usable() const {
        return create && free && open_fdset && get_err && set_attr && get_typed_attr && vmcoreinfo_raw && read &&
               attr_iter_start && attr_iter_next && attr_iter_end && attr_ref_get;
    }
    // The header's inline helpers, over the functions loaded above.
    kdump_status open_fd(kdump_ctx_t* k, int fd) const { return open_fdset(k, 1, &fd); }
    kdump_status set_string_attr(kdump_ctx_t* k, const char* key, const char* str) const {
        kdump_attr_t a;
        a.type = KDUMP_STRING;
        a.val.string = str;
        return set_attr(k, key, &a);
    }
    kdump_status get_string_attr(kdump_ctx_t* k, const char* key, const char** str) const {
        return get_typed(k, key, KDUMP_STRING, &kdump_attr_value_t::string, str);
    }
    kdump_status get_number_attr(kdump_ctx_t* k, const char* key, kdump_num_t* num) const {
        return get_typed(k, key, KDUMP_NUMBER, &kdump_attr_value_t::number, num);
    }
    template <class T>
    kdump_status get_typed(kdump_ctx_t* k, const char* key, kdump_attr_type_t type, T kdump_attr_value_t::*field,
                           T* out) const {
        kdump_attr_t a;
        a.type = type;
        const kdump_status st = get_typed_attr(k, key, &a);
        if (st == KDUMP_OK) *out = a.val.*field;
        return st;
    }
};

Kdumpfile& kd() {
    static Kdumpfile k;  // thread-safe initialisation
    return k;
}

}  // namespace

struct Vmcore::Ctx {
    kdump_ctx_t* k = nullptr;
    ~Ctx() {
        if (k) kd().free(k);
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

    if (!kd().usable())
        throw Error(path, "cannot read a vmcore: " + kd().lib.error(), "apt-get install libkdumpfile10");
    v->ctx_ = std::make_unique<Ctx>();
    v->ctx_->k = kd().create();
    if (!v->ctx_->k) throw Error(path, "libkdumpfile: out of memory");
    kdump_ctx_t* k = v->ctx_->k;
    if (kd().open_fd(k, v->fd_) != KDUMP_OK)
        throw Error(path, std::string("libkdumpfile cannot read it: ") + kd().get_err(k));
    // Address translation for Linux: page tables found through VMCOREINFO.
    if (kd().set_string_attr(k, KDUMP_ATTR_OSTYPE, "linux") != KDUMP_OK)
        throw Error(path, std::string("libkdumpfile: no Linux address translation: ") + kd().get_err(k));
    char* raw = nullptr;
    if (kd().vmcoreinfo_raw(k, &raw) != KDUMP_OK || !raw || !*raw)
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
    return kd().get_string_attr(ctx_->k, KDUMP_ATTR_ARCH_NAME, &s) == KDUMP_OK && s ? s : "";
}

bool Vmcore::read(std::uint64_t kvaddr, void* buf, std::size_t len) const {
    size_t got = len;
    return kd().read(ctx_->k, KDUMP_KVADDR, kvaddr, buf, &got) == KDUMP_OK && got == len;
}

void Vmcore::read_exact(std::uint64_t kvaddr, void* buf, std::size_t len, const char* what) const {
    size_t got = len;
    if (kd().read(ctx_->k, KDUMP_KVADDR, kvaddr, buf, &got) != KDUMP_OK || got != len)
        throw Error(path_, std::string("cannot read ") + what + " (" + std::to_string(len) + " bytes at " + hex(kvaddr) +
                               "): " + kd().get_err(ctx_->k),
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
    if (kd().get_number_attr(ctx_->k, KDUMP_ATTR_NUM_CPUS, &n) != KDUMP_OK) return out;
    for (kdump_num_t cpu = 0; cpu < n; ++cpu) {
        CpuState c;
        c.cpu = static_cast<unsigned>(cpu);
        const std::string base = "cpu." + std::to_string(cpu);
        kdump_num_t pid = 0;
        if (kd().get_number_attr(ctx_->k, (base + ".pid").c_str(), &pid) == KDUMP_OK) c.pid = static_cast<std::int64_t>(pid);
        kdump_attr_iter_t it;
        if (kd().attr_iter_start(ctx_->k, (base + ".reg").c_str(), &it) == KDUMP_OK) {
            while (it.key) {
                kdump_attr_t a;
                if (kd().attr_ref_get(ctx_->k, &it.pos, &a) == KDUMP_OK && a.type == KDUMP_NUMBER)
                    c.regs.emplace(it.key, a.val.number);
                if (kd().attr_iter_next(ctx_->k, &it) != KDUMP_OK) break;
            }
            kd().attr_iter_end(ctx_->k, &it);
        }
        out.push_back(std::move(c));
    }
    return out;
}

}  // namespace kaddr
