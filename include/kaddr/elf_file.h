// An ELF file opened with libelf: vmlinux (ET_EXEC / ET_DYN) or a module
// (.ko, ET_REL), plain or compressed (.ko.xz / .ko.zst / .ko.gz). Validates
// the headers up front so a truncated or garbage file is one clear error,
// and exposes what the model needs: sections, symbols, build-id.
#pragma once
#include <libelf.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kaddr/decompress.h"

namespace kaddr {

class MappedFile;

struct ElfSection {
    std::size_t index = 0;
    std::string name;
    std::uint32_t type = 0;
    std::uint64_t flags = 0;
    std::uint64_t addr = 0;
    std::uint64_t size = 0;
    std::uint64_t align = 0;
    std::uint64_t offset = 0;  // sh_offset: where it is in the file, NOT where it loads
};

struct ElfSymbol {
    std::string_view name;    // into the mapped string table: valid while the ElfFile lives
    std::uint64_t value = 0;  // st_value: an address (ET_EXEC/DYN) or a section offset (ET_REL)
    std::uint64_t size = 0;
    unsigned char type = 0;   // STT_*
    unsigned char bind = 0;   // STB_*
    std::size_t section = 0;  // st_shndx
};

class ElfFile {
public:
    // Throws Error naming the path when the file is missing, not ELF,
    // truncated or otherwise unreadable.
    static std::shared_ptr<const ElfFile> open(const std::string& path);
    ~ElfFile();
    ElfFile(const ElfFile&) = delete;
    ElfFile& operator=(const ElfFile&) = delete;

    const std::string& path() const { return path_; }
    Elf* elf() const { return elf_; }
    unsigned machine() const { return machine_; }
    unsigned type() const { return type_; }   // ET_REL, ET_EXEC, ET_DYN
    bool is_64bit() const { return is64_; }
    const std::vector<ElfSection>& sections() const { return sections_; }
    const std::string& build_id() const { return build_id_; }  // lower-case hex, may be empty
    bool has_dwarf() const { return has_dwarf_; }
    // Defined function/object/notype symbols of .symtab (no section/file symbols).
    std::vector<ElfSymbol> symbols() const;
    // The string section .symtab's names live in (0: no symbol table).
    std::size_t symbol_strings() const;
    // A section's bytes as mapped (empty for NOBITS or on error).
    std::string_view section_bytes(std::size_t index) const;
    std::uint64_t file_size() const;
    std::int64_t mtime() const;
    // The decompressed bytes when the file was compressed (libdwfl then gets
    // its own copy); empty for a plain file, which libdwfl maps itself.
    const std::vector<char>& decompressed() const { return decompressed_; }

private:
    ElfFile() = default;
    void load_headers();

    std::string path_;
    std::shared_ptr<const MappedFile> file_;
    std::vector<char> decompressed_;
    Elf* elf_ = nullptr;
    unsigned machine_ = 0, type_ = 0;
    bool is64_ = false;
    std::vector<ElfSection> sections_;
    std::string build_id_;
    bool has_dwarf_ = false;
};

}  // namespace kaddr
