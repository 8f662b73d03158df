// Struct layouts and enumerators of the crashed kernel from the vmlinux
// DWARF (libdw): byte sizes and member offsets of the few types kaddr
// walks in a dump or needs to tell the kernel's era (struct module, its
// memory descriptors and section attributes, enum mod_mem_type). Only the
// compile units that define them are read, located by name, so a 600 MB
// vmlinux costs a scan of its CU headers, not of its DIEs. This is drgn's
// approach: no struct layout of any kernel is hard-coded where the
// kernel's own DWARF gives it.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kaddr/elf_file.h"

namespace kaddr {

class KernelTypes {
public:
    // Reads the structs and enums named in `types` from the CUs whose name
    // ends in one of `cus` (the first definition of each). Throws Error
    // naming the file when it has no DWARF.
    KernelTypes(const ElfFile& vmlinux, const std::vector<std::string>& cus, const std::vector<std::string>& types);

    // "module.list": the member's byte offset; throws Error naming the
    // vmlinux and the member when the DWARF lacks it.
    std::uint64_t offset(const std::string& type_dot_member) const;
    std::uint64_t size(const std::string& type) const;
    bool has(const std::string& type_dot_member) const;
    bool has_type(const std::string& type) const { return sizes_.count(type) != 0; }
    // An enumerator's value ("MOD_TEXT"), from the enums read.
    std::optional<std::int64_t> enumerator(const std::string& name) const;
    // The element count of an array member ("module.mem": 7); nullopt
    // when the member is not an array or has no bound.
    std::optional<std::uint64_t> array_length(const std::string& type_dot_member) const;
    // The member's own byte size ("module_memory.size": 4); throws like offset().
    std::uint64_t member_size(const std::string& type_dot_member) const;
    // A bit-field member's {bit offset from the struct's start, width}
    // (DW_AT_data_bit_offset, DW_AT_bit_size); nullopt when not a bit-field.
    std::optional<std::pair<std::uint64_t, std::uint64_t>> bitfield(const std::string& type_dot_member) const;
    const std::string& file() const { return file_; }

private:
    friend struct MemberReader;  // kernel_types.cpp: fills the tables below from the DIEs
    std::string file_;
    std::map<std::string, std::uint64_t> sizes_;
    std::map<std::string, std::uint64_t> offsets_;  // "type.member"
    std::map<std::string, std::uint64_t> lengths_;  // "type.member" of array members
    std::map<std::string, std::uint64_t> member_sizes_;
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> bitfields_;
    std::map<std::string, std::int64_t> enumerators_;
};

}  // namespace kaddr
