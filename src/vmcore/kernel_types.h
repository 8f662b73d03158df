// Struct layouts of the crashed kernel from the vmlinux DWARF (libdw):
// byte sizes and member offsets of the few types kaddr walks in a dump
// (struct module and its section attributes). Only the compile units that
// define them are read, located by name, so a 600 MB vmlinux costs a scan
// of its CU headers, not of its DIEs.
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
    // Reads the structs named in `types` from the CUs whose name ends in one
    // of `cus`. Throws Error naming the file when it has no DWARF.
    KernelTypes(const ElfFile& vmlinux, const std::vector<std::string>& cus, const std::vector<std::string>& types);

    // "module.list": the member's byte offset; throws Error naming the
    // vmlinux and the member when the DWARF lacks it.
    std::uint64_t offset(const std::string& type_dot_member) const;
    std::uint64_t size(const std::string& type) const;
    bool has(const std::string& type_dot_member) const;

private:
    std::string file_;
    std::map<std::string, std::uint64_t> sizes_;
    std::map<std::string, std::uint64_t> offsets_;  // "type.member"
};

}  // namespace kaddr
