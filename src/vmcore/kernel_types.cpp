#include "kernel_types.h"

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <algorithm>
#include <set>

#include "kaddr/error.h"

namespace kaddr {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

KernelTypes::KernelTypes(const ElfFile& vmlinux, const std::vector<std::string>& cus, const std::vector<std::string>& types)
    : file_(vmlinux.path()) {
    Dwarf* dw = dwarf_begin_elf(vmlinux.elf(), DWARF_C_READ, nullptr);
    if (!dw) throw Error(file_, "no DWARF to read struct layouts from", "give the debug vmlinux (the -dbg package's)");
    std::set<std::string> wanted(types.begin(), types.end());
    Dwarf_Off off = 0, next = 0;
    size_t hsize = 0;
    while (!wanted.empty() && dwarf_nextcu(dw, off, &next, &hsize, nullptr, nullptr, nullptr) == 0) {
        Dwarf_Die cu;
        const Dwarf_Off cu_die = off + hsize;
        off = next;
        if (!dwarf_offdie(dw, cu_die, &cu)) continue;
        const char* name = dwarf_diename(&cu);
        if (!name || std::none_of(cus.begin(), cus.end(), [&](const std::string& c) { return ends_with(name, c); }))
            continue;
        Dwarf_Die die;
        if (dwarf_child(&cu, &die) != 0) continue;
        do {
            if (dwarf_tag(&die) != DW_TAG_structure_type || dwarf_hasattr(&die, DW_AT_declaration)) continue;
            const char* sname = dwarf_diename(&die);
            if (!sname || !wanted.count(sname)) continue;
            wanted.erase(sname);
            Dwarf_Word bytes = 0;
            Dwarf_Attribute a;
            if (dwarf_formudata(dwarf_attr(&die, DW_AT_byte_size, &a), &bytes) == 0) sizes_[sname] = bytes;
            Dwarf_Die m;
            if (dwarf_child(&die, &m) != 0) continue;
            do {
                if (dwarf_tag(&m) != DW_TAG_member) continue;
                const char* mname = dwarf_diename(&m);
                Dwarf_Word loc = 0;
                if (mname && dwarf_formudata(dwarf_attr(&m, DW_AT_data_member_location, &a), &loc) == 0)
                    offsets_[std::string(sname) + "." + mname] = loc;
            } while (dwarf_siblingof(&m, &m) == 0);
        } while (dwarf_siblingof(&die, &die) == 0);
    }
    dwarf_end(dw);
}

std::uint64_t KernelTypes::offset(const std::string& m) const {
    auto it = offsets_.find(m);
    if (it == offsets_.end())
        throw Error(file_, "its DWARF has no " + m, "is this the debug vmlinux of the dumped kernel (6.x)?");
    return it->second;
}

std::uint64_t KernelTypes::size(const std::string& t) const {
    auto it = sizes_.find(t);
    if (it == sizes_.end()) throw Error(file_, "its DWARF has no struct " + t, "is this the debug vmlinux of the dumped kernel?");
    return it->second;
}

bool KernelTypes::has(const std::string& m) const { return offsets_.count(m) != 0; }

}  // namespace kaddr
