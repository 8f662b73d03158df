#include "kaddr/kernel_types.h"

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

// The element count of an array type DIE's first dimension.
std::optional<std::uint64_t> array_count(Dwarf_Die* type) {
    Dwarf_Die sub;
    if (dwarf_child(type, &sub) != 0) return std::nullopt;
    do {
        if (dwarf_tag(&sub) != DW_TAG_subrange_type) continue;
        Dwarf_Attribute a;
        Dwarf_Word n = 0;
        if (dwarf_formudata(dwarf_attr(&sub, DW_AT_count, &a), &n) == 0) return n;
        if (dwarf_formudata(dwarf_attr(&sub, DW_AT_upper_bound, &a), &n) == 0) return n + 1;
        return std::nullopt;
    } while (dwarf_siblingof(&sub, &sub) == 0);
    return std::nullopt;
}

}  // namespace

struct MemberReader {
    KernelTypes& t;
    void read(Dwarf_Die* type, const std::string& prefix, std::uint64_t base);
};

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
            const int tag = dwarf_tag(&die);
            if ((tag != DW_TAG_structure_type && tag != DW_TAG_enumeration_type) || dwarf_hasattr(&die, DW_AT_declaration))
                continue;
            const char* sname = dwarf_diename(&die);
            if (!sname || !wanted.count(sname)) continue;
            wanted.erase(sname);
            Dwarf_Word bytes = 0;
            Dwarf_Attribute a;
            if (dwarf_formudata(dwarf_attr(&die, DW_AT_byte_size, &a), &bytes) == 0) sizes_[sname] = bytes;
            MemberReader{*this}.read(&die, sname, 0);
        } while (dwarf_siblingof(&die, &die) == 0);
    }
    dwarf_end(dw);
}

// The members of a struct (or the enumerators of an enum) under `prefix`
// ("module"); an anonymous struct or union's members are the enclosing
// struct's, at their offset plus its own (C's rule: pcpu_hot.current_task).

void MemberReader::read(Dwarf_Die* type, const std::string& prefix, std::uint64_t base) {
    Dwarf_Die m;
    if (dwarf_child(type, &m) != 0) return;
    do {
        Dwarf_Attribute a;
        const char* mname = dwarf_diename(&m);
        if (dwarf_tag(&m) == DW_TAG_enumerator) {
            Dwarf_Sword v = 0;
            if (mname && dwarf_formsdata(dwarf_attr(&m, DW_AT_const_value, &a), &v) == 0) t.enumerators_[mname] = v;
            continue;
        }
        if (dwarf_tag(&m) != DW_TAG_member) continue;
        Dwarf_Word loc = 0, bit_size = 0;
        const bool located = dwarf_formudata(dwarf_attr(&m, DW_AT_data_member_location, &a), &loc) == 0;
        Dwarf_Die mtype;
        const bool typed = dwarf_formref_die(dwarf_attr(&m, DW_AT_type, &a), &mtype) != nullptr;
        if (!mname) {
            Dwarf_Die peeled;
            if (typed && dwarf_peel_type(&mtype, &peeled) == 0 &&
                (dwarf_tag(&peeled) == DW_TAG_structure_type || dwarf_tag(&peeled) == DW_TAG_union_type))
                read(&peeled, prefix, base + (located ? loc : 0));
            continue;
        }
        const std::string key = prefix + "." + mname;
        if (located) t.offsets_[key] = base + loc;
        if (dwarf_formudata(dwarf_attr(&m, DW_AT_bit_size, &a), &bit_size) == 0 &&
            dwarf_formudata(dwarf_attr(&m, DW_AT_data_bit_offset, &a), &loc) == 0)
            t.bitfields_[key] = {base * 8 + loc, bit_size};
        if (typed) {
            Dwarf_Word member_bytes = 0;
            if (dwarf_aggregate_size(&mtype, &member_bytes) == 0) t.member_sizes_[key] = member_bytes;
            Dwarf_Die peeled;
            if (dwarf_peel_type(&mtype, &peeled) == 0 && dwarf_tag(&peeled) == DW_TAG_array_type)
                if (auto n = array_count(&peeled)) t.lengths_[key] = *n;
        }
    } while (dwarf_siblingof(&m, &m) == 0);
}

std::uint64_t KernelTypes::offset(const std::string& m) const {
    auto it = offsets_.find(m);
    if (it == offsets_.end())
        throw Error(file_, "its DWARF has no " + m, "is this the debug vmlinux of the dumped kernel?");
    return it->second;
}

std::uint64_t KernelTypes::size(const std::string& t) const {
    auto it = sizes_.find(t);
    if (it == sizes_.end()) throw Error(file_, "its DWARF has no struct " + t, "is this the debug vmlinux of the dumped kernel?");
    return it->second;
}

bool KernelTypes::has(const std::string& m) const { return offsets_.count(m) != 0; }

std::optional<std::int64_t> KernelTypes::enumerator(const std::string& name) const {
    auto it = enumerators_.find(name);
    return it == enumerators_.end() ? std::nullopt : std::optional<std::int64_t>(it->second);
}

std::uint64_t KernelTypes::member_size(const std::string& m) const {
    auto it = member_sizes_.find(m);
    if (it == member_sizes_.end())
        throw Error(file_, "its DWARF has no size for " + m, "is this the debug vmlinux of the dumped kernel?");
    return it->second;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> KernelTypes::bitfield(const std::string& m) const {
    auto it = bitfields_.find(m);
    return it == bitfields_.end() ? std::nullopt : std::optional(it->second);
}

std::optional<std::uint64_t> KernelTypes::array_length(const std::string& m) const {
    auto it = lengths_.find(m);
    return it == lengths_.end() ? std::nullopt : std::optional<std::uint64_t>(it->second);
}

}  // namespace kaddr
