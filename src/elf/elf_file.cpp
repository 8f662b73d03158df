#include "kaddr/elf_file.h"

#include <gelf.h>

#include <cerrno>
#include <cstring>

#include "kaddr/error.h"
#include "kaddr/mapped_file.h"

namespace kaddr {

namespace {

std::string elf_msg() { return elf_errmsg(-1) ? elf_errmsg(-1) : "unknown libelf error"; }

void init_libelf() {
    static const bool ok = elf_version(EV_CURRENT) != EV_NONE;
    if (!ok) throw Error("libelf", "library version mismatch");
}

}  // namespace

std::shared_ptr<const ElfFile> ElfFile::open(const std::string& path) {
    init_libelf();
    std::shared_ptr<ElfFile> f(new ElfFile());
    f->path_ = path;
    f->file_ = MappedFile::open(path);
    if (f->file_->size() < 16)
        throw Error(path, "file too short to be ELF (" + std::to_string(f->file_->size()) + " bytes)");
    // libelf wants a writable pointer but reads only (ELF_C_READ semantics).
    char* bytes = const_cast<char*>(f->file_->bytes().data());
    std::size_t size = f->file_->size();
    if (decompress(bytes, size, f->decompressed_, path)) {
        bytes = f->decompressed_.data();
        size = f->decompressed_.size();
    }
    f->elf_ = elf_memory(bytes, size);
    if (!f->elf_ || elf_kind(f->elf_) != ELF_K_ELF)
        throw Error(path, "not an ELF file", "expected vmlinux or a .ko module");
    f->load_headers();
    return f;
}

ElfFile::~ElfFile() {
    if (elf_) elf_end(elf_);
}

std::uint64_t ElfFile::file_size() const { return file_->size(); }
std::int64_t ElfFile::mtime() const { return file_->mtime_ns(); }

void ElfFile::load_headers() {
    GElf_Ehdr eh;
    if (!gelf_getehdr(elf_, &eh)) throw Error(path_, "bad ELF header: " + elf_msg());
    machine_ = eh.e_machine;
    type_ = eh.e_type;
    is64_ = gelf_getclass(elf_) == ELFCLASS64;
    std::size_t image_size = 0;
    elf_rawfile(elf_, &image_size);
    std::size_t shnum = 0, shstrndx = 0;
    if (elf_getshdrnum(elf_, &shnum) != 0 || elf_getshdrstrndx(elf_, &shstrndx) != 0)
        throw Error(path_, "truncated or corrupt ELF section table: " + elf_msg());
    // Bounds as `offset > size || length > size - offset`: a crafted
    // offset + length can wrap past 2^64 and pass `offset + length > size`.
    const auto beyond = [&](std::uint64_t offset, std::uint64_t length) {
        return offset > image_size || length > image_size - offset;
    };
    if (shnum == 0 || beyond(eh.e_shoff, shnum * static_cast<std::uint64_t>(eh.e_shentsize)))
        throw Error(path_, "truncated ELF file: the section table lies beyond the end of the file",
                    "the file was cut short; copy it again");
    for (std::size_t i = 0; i < shnum; ++i) {
        Elf_Scn* scn = elf_getscn(elf_, i);
        GElf_Shdr sh;
        if (!scn || !gelf_getshdr(scn, &sh)) throw Error(path_, "bad section header " + std::to_string(i) + ": " + elf_msg());
        if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL && beyond(sh.sh_offset, sh.sh_size))
            throw Error(path_, "truncated ELF file: section " + std::to_string(i) + " ends beyond the end of the file",
                        "the file was cut short; copy it again");
        ElfSection s;
        s.index = i;
        const char* name = elf_strptr(elf_, shstrndx, sh.sh_name);
        s.name = name ? name : "";
        s.type = sh.sh_type;
        s.flags = sh.sh_flags;
        s.addr = sh.sh_addr;
        s.size = sh.sh_size;
        s.align = sh.sh_addralign;
        s.offset = sh.sh_offset;
        if (s.name == ".debug_info") has_dwarf_ = true;
        if (sh.sh_type == SHT_NOTE && build_id_.empty()) {
            Elf_Data* d = elf_getdata(scn, nullptr);
            GElf_Nhdr nh;
            std::size_t off = 0, name_off, desc_off;
            while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
                if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                    std::memcmp(static_cast<char*>(d->d_buf) + name_off, "GNU", 4) == 0) {
                    static const char digits[] = "0123456789abcdef";
                    auto* p = static_cast<unsigned char*>(d->d_buf) + desc_off;
                    for (std::size_t k = 0; k < nh.n_descsz; ++k) {
                        build_id_ += digits[p[k] >> 4];
                        build_id_ += digits[p[k] & 15];
                    }
                    break;
                }
            }
        }
        sections_.push_back(std::move(s));
    }
}

std::size_t ElfFile::symbol_strings() const {
    for (const auto& s : sections_)
        if (s.type == SHT_SYMTAB) {
            GElf_Shdr sh;
            if (gelf_getshdr(elf_getscn(elf_, s.index), &sh)) return sh.sh_link;
        }
    return 0;
}

std::string_view ElfFile::section_bytes(std::size_t index) const {
    Elf_Scn* scn = elf_getscn(elf_, index);
    Elf_Data* d = scn ? elf_rawdata(scn, nullptr) : nullptr;
    if (!d || !d->d_buf) return {};
    return std::string_view(static_cast<const char*>(d->d_buf), d->d_size);
}

std::vector<ElfSymbol> ElfFile::symbols() const {
    std::vector<ElfSymbol> out;
    for (const auto& s : sections_) {
        if (s.type != SHT_SYMTAB) continue;
        Elf_Scn* scn = elf_getscn(elf_, s.index);
        GElf_Shdr sh;
        gelf_getshdr(scn, &sh);
        Elf_Data* d = elf_getdata(scn, nullptr);
        if (!d || sh.sh_entsize == 0) throw Error(path_, "unreadable symbol table: " + elf_msg());
        std::size_t n = sh.sh_size / sh.sh_entsize;
        out.reserve(n);
        for (std::size_t i = 1; i < n; ++i) {
            GElf_Sym sym;
            if (!gelf_getsym(d, static_cast<int>(i), &sym)) throw Error(path_, "bad symbol " + std::to_string(i));
            unsigned char type = GELF_ST_TYPE(sym.st_info);
            if (type == STT_SECTION || type == STT_FILE || sym.st_shndx == SHN_UNDEF) continue;
            if (sym.st_shndx >= sections_.size() && sym.st_shndx != SHN_ABS) continue;
            const char* name = elf_strptr(elf_, sh.sh_link, sym.st_name);
            if (!name || !*name) continue;
            ElfSymbol e;
            e.name = name;
            e.value = sym.st_value;
            e.size = sym.st_size;
            e.type = type;
            e.bind = GELF_ST_BIND(sym.st_info);
            e.section = sym.st_shndx;
            out.push_back(std::move(e));
        }
    }
    return out;
}

}  // namespace kaddr
