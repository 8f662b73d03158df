// VMCOREINFO -> release, KASLR offset, build-id; the `modules` list ->
// every loaded module's layout and sect_attrs (what /sys/module/*/sections
// shows on the live system), with struct offsets from the vmlinux DWARF.
#include <cstring>
#include <filesystem>
#include <map>

#include "kaddr/error.h"
#include "kaddr/lexemes.h"
#include "kaddr/snapshot.h"
#include "kaddr/vmcore_facts.h"
#include "kaddr/kernel_types.h"
#include "struct_bytes.h"

#include <algorithm>

namespace kaddr {

namespace fs = std::filesystem;

namespace {

// A list walk that never ends is a damaged dump, not a hang.
constexpr std::size_t kMaxModules = 100000;
constexpr std::size_t kMaxSections = 4096;

// The module taint flags of kernel/panic.c's taint_flags[] (those with
// .module = true), by bit of struct module::taints, in the kernel's order.
struct TaintFlag {
    unsigned bit;
    char letter;
};
constexpr TaintFlag kModuleTaints[] = {{0, 'P'}, {1, 'F'}, {10, 'C'}, {12, 'O'}, {13, 'E'}, {15, 'K'}, {16, 'X'}, {17, 'T'}};

std::string module_taint(std::uint64_t taints) {
    std::string s;
    for (const auto& t : kModuleTaints)
        if (taints & (1ULL << t.bit)) s += t.letter;
    return s;
}


std::uint64_t link_address(const ElfFile& vmlinux, std::string_view name) {
    for (const auto& s : vmlinux.symbols())
        if (s.name == name) return s.value;
    throw Error(vmlinux.path(), "has no symbol '" + std::string(name) + "'", "give the vmlinux with its symbol table");
}

// An unsigned integer member of `width` bytes (1, 2, 4 or 8), as the
// kernel's DWARF sizes it, read out of a struct's bytes.
std::uint64_t uint_field(const std::vector<unsigned char>& bytes, std::uint64_t off, std::uint64_t width) {
    switch (width) {
        case 1: return struct_field<std::uint8_t>(bytes, off);
        case 2: return struct_field<std::uint16_t>(bytes, off);
        case 4: return struct_field<std::uint32_t>(bytes, off);
        default: return struct_field<std::uint64_t>(bytes, off);
    }
}

// Where the walk finds what it reads in struct module and around it, all
// from the vmlinux DWARF. Members a kernel does not have (sect_attrs with
// CONFIG_SYSFS off, ORC without CONFIG_UNWINDER_ORC) are nullopt.
struct ModuleLayoutOffsets {
    KernelTypes t;
    ModuleMemoryModel era;
    std::uint64_t mod_size, list, name, name_len, state, state_size, taints, next;
    // Before 6.4: core_layout / init_layout.
    struct Layout {
        std::uint64_t core, init, base, size, size_w, text, ro, roai;
    };
    std::optional<Layout> layout;
    // From 6.4: mem[] and the index of each mod_mem_type in it.
    struct Mem {
        std::uint64_t mem, elem, base, size, size_w;
        std::array<std::optional<std::uint64_t>, kModMemTypes> index;
    };
    std::optional<Mem> mem;
    struct Sects {
        std::uint64_t ptr, n, attrs, elem, address, name;
    };
    std::optional<Sects> sects;
    struct Syms {
        std::uint64_t ptr, symtab, num, num_w, strtab;
        std::optional<std::uint64_t> typetab;
    };
    std::optional<Syms> syms;
    struct Orc {
        std::uint64_t num, num_w, ip, entries;
    };
    std::optional<Orc> orc;

    explicit ModuleLayoutOffsets(const ElfFile& vmlinux)
        : t(vmlinux, {"kernel/module/main.c", "kernel/module/sysfs.c", "kernel/module.c"},
            {"module", "module_layout", "module_memory", "mod_mem_type", "module_sect_attrs", "module_sect_attr",
             "bin_attribute", "attribute", "list_head", "mod_kallsyms", "mod_arch_specific"}) {
        auto e = module_memory_from_members(t.has("module.mem"), t.has("module.core_layout"));
        if (!e)
            throw Error(vmlinux.path(), "its DWARF has neither module.mem (6.4+) nor module.core_layout (before 6.4)",
                        "is this the debug vmlinux of the dumped kernel?");
        era = *e;
        mod_size = t.size("module");
        list = t.offset("module.list");
        name = t.offset("module.name");
        name_len = t.array_length("module.name").value_or(56);  // MODULE_NAME_LEN on 64-bit
        state = t.offset("module.state");
        state_size = t.member_size("module.state");
        taints = t.offset("module.taints");
        next = t.offset("list_head.next");
        if (era.per_type()) {
            Mem m{t.offset("module.mem"), t.size("module_memory"), t.offset("module_memory.base"),
                  t.offset("module_memory.size"), t.member_size("module_memory.size"), {}};
            const std::uint64_t count = t.array_length("module.mem").value_or(kModMemTypes);
            for (ModMemType type : kAllModMemTypes)
                if (auto v = t.enumerator(std::string(mod_mem_type_name(type))); v && *v >= 0 && std::uint64_t(*v) < count)
                    m.index[static_cast<int>(type)] = static_cast<std::uint64_t>(*v);
            mem = m;
        } else {
            layout = Layout{t.offset("module.core_layout"),          t.offset("module.init_layout"),
                            t.offset("module_layout.base"),          t.offset("module_layout.size"),
                            t.member_size("module_layout.size"),     t.offset("module_layout.text_size"),
                            t.offset("module_layout.ro_size"),       t.offset("module_layout.ro_after_init_size")};
        }
        if (t.has("module.sect_attrs") && t.has("module_sect_attrs.nsections") && t.has("module_sect_attr.address"))
            sects = Sects{t.offset("module.sect_attrs"), t.offset("module_sect_attrs.nsections"),
                          t.offset("module_sect_attrs.attrs"), t.size("module_sect_attr"),
                          t.offset("module_sect_attr.address"),
                          t.offset("module_sect_attr.battr") + t.offset("bin_attribute.attr") + t.offset("attribute.name")};
        if (t.has("module.kallsyms") && t.has("mod_kallsyms.symtab"))
            syms = Syms{t.offset("module.kallsyms"), t.offset("mod_kallsyms.symtab"), t.offset("mod_kallsyms.num_symtab"),
                        t.member_size("mod_kallsyms.num_symtab"), t.offset("mod_kallsyms.strtab"),
                        t.has("mod_kallsyms.typetab") ? std::optional(t.offset("mod_kallsyms.typetab")) : std::nullopt};
        if (t.has("module.arch") && t.has("mod_arch_specific.orc_unwind_ip"))
            orc = Orc{t.offset("module.arch") + t.offset("mod_arch_specific.num_orcs"),
                      t.member_size("mod_arch_specific.num_orcs"),
                      t.offset("module.arch") + t.offset("mod_arch_specific.orc_unwind_ip"),
                      t.offset("module.arch") + t.offset("mod_arch_specific.orc_unwind")};
    }
};

// One struct module's fields, as far as the dump holds them; what it does
// not hold is said in m.unread, never thrown.
void read_module(const Vmcore& dump, const ModuleLayoutOffsets& o, const std::vector<unsigned char>& mod, VmcoreModule& m) {
    m.state = static_cast<int>(uint_field(mod, o.state, o.state_size));
    m.taint = module_taint(struct_field<std::uint64_t>(mod, o.taints));
    if (o.layout) {
        const auto& l = *o.layout;
        m.base = struct_field<std::uint64_t>(mod, l.core + l.base);
        m.size = uint_field(mod, l.core + l.size, l.size_w);
        m.text_size = uint_field(mod, l.core + l.text, l.size_w);
        m.ro_size = uint_field(mod, l.core + l.ro, l.size_w);
        m.ro_after_init_size = uint_field(mod, l.core + l.roai, l.size_w);
        m.init_base = struct_field<std::uint64_t>(mod, l.init + l.base);
        m.init_size = uint_field(mod, l.init + l.size, l.size_w);
    } else if (o.mem) {
        const auto& mm = *o.mem;
        for (ModMemType type : kAllModMemTypes) {
            const auto idx = mm.index[static_cast<int>(type)];
            if (!idx) continue;
            const std::uint64_t at = mm.mem + *idx * mm.elem;
            auto& slot = m.mem[static_cast<int>(type)];
            slot = {struct_field<std::uint64_t>(mod, at + mm.base), uint_field(mod, at + mm.size, mm.size_w)};
            if (!slot.first) slot.second = 0;
            (is_init_memory(type) ? m.init_size : m.size) += slot.second;
        }
        m.base = m.mem[static_cast<int>(ModMemType::Text)].first;
        m.init_base = m.mem[static_cast<int>(ModMemType::InitText)].first;
    }
    if (o.syms)
        if (const auto k = struct_field<std::uint64_t>(mod, o.syms->ptr)) {
            std::vector<unsigned char> ks(o.syms->strtab + 8);
            if (o.syms->typetab) ks.resize(std::max<std::uint64_t>(ks.size(), *o.syms->typetab + 8));
            if (dump.read(k, ks.data(), ks.size())) {
                m.symtab = struct_field<std::uint64_t>(ks, o.syms->symtab);
                m.num_symtab = static_cast<std::uint32_t>(uint_field(ks, o.syms->num, o.syms->num_w));
                m.strtab = struct_field<std::uint64_t>(ks, o.syms->strtab);
                if (o.syms->typetab) m.typetab = struct_field<std::uint64_t>(ks, *o.syms->typetab);
            }
        }
    if (o.orc) {
        m.num_orcs = static_cast<std::uint32_t>(uint_field(mod, o.orc->num, o.orc->num_w));
        m.orc_unwind_ip = struct_field<std::uint64_t>(mod, o.orc->ip);
        m.orc_unwind = struct_field<std::uint64_t>(mod, o.orc->entries);
    }
    if (!o.sects) return;
    const auto sect = struct_field<std::uint64_t>(mod, o.sects->ptr);
    if (!sect) return;
    // The attributes and their names are slab objects: a dump level that
    // leaves out slab pages (makedumpfile -d 31 on 6.12) drops them.
    std::uint32_t n = 0;
    if (!dump.read(sect + o.sects->n, &n, sizeof n)) {
        m.unread = "sections";
        return;
    }
    if (n > kMaxSections) {
        m.unread = "sections (one claims " + std::to_string(n) + " sections: damaged)";
        return;
    }
    std::vector<unsigned char> attrs(n * o.sects->elem);
    if (!dump.read(sect + o.sects->attrs, attrs.data(), attrs.size())) {
        m.unread = "sections";
        return;
    }
    std::map<std::string, std::uint64_t> sections;
    for (std::uint32_t i = 0; i < n; ++i) {
        char name[64] = {};
        const std::uint64_t at = struct_field<std::uint64_t>(attrs, i * o.sects->elem + o.sects->name);
        if (!dump.read(at, name, sizeof name - 1)) {
            m.unread = "sections";
            return;
        }
        sections[name] = struct_field<std::uint64_t>(attrs, i * o.sects->elem + o.sects->address);
    }
    m.sections = std::move(sections);
}

void walk_modules(const Vmcore& dump, const ElfFile& vmlinux, std::int64_t kaslr, VmcoreFacts& f) {
    const ModuleLayoutOffsets o(vmlinux);
    f.module_memory = o.era;
    const std::uint64_t head = link_address(vmlinux, "modules") + static_cast<std::uint64_t>(kaslr);
    std::uint64_t node = 0;
    if (!dump.read(head + o.next, &node, sizeof node)) {
        f.notes.push_back(dump.path() + ": the modules list head (" + hex(head) + ") is not in the dump: no module read");
        return;
    }
    f.modules_walked = true;
    std::vector<unsigned char> mod(o.mod_size);
    std::map<std::string, std::vector<std::string>> unread;  // what -> modules
    while (node != head) {
        if (f.modules.size() >= kMaxModules) {
            f.notes.push_back(dump.path() + ": the modules list does not end after " + std::to_string(kMaxModules) +
                              " modules (the dump is damaged): the rest is not read");
            return;
        }
        const std::uint64_t addr = node - o.list;
        // The next pointer is inside the struct: a struct module the dump
        // does not hold ends the walk there, with what was read kept.
        if (!dump.read(addr, mod.data(), mod.size())) {
            f.notes.push_back(dump.path() + ": the struct module at " + hex(addr) + " (after " +
                              (f.modules.empty() ? std::string("the list head") : "module " + f.modules.back().name) +
                              ") is not in the dump: the modules after it are not read");
            return;
        }
        VmcoreModule m;
        m.name.assign(reinterpret_cast<const char*>(mod.data() + o.name), o.name_len);
        m.name.resize(std::strlen(m.name.c_str()));
        read_module(dump, o, mod, m);
        std::string why;
        m.symbols = read_module_symbols(dump, m, why);
        if (m.symbols.empty()) m.unread += (m.unread.empty() ? "" : ", ") + std::string("symbols");
        if (!m.unread.empty()) unread[m.unread].push_back(m.name);
        f.modules.push_back(std::move(m));
        node = struct_field<std::uint64_t>(mod, o.list + o.next);
    }
    // One note per kind of gap, naming the modules (a dump level that drops
    // slab pages drops the same things of most modules).
    for (const auto& [what, names] : unread) {
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
        f.notes.push_back(dump.path() + ": the " + what + " of " + std::to_string(names.size()) + " of " +
                          std::to_string(f.modules.size()) + " modules are in pages the dump does not hold (" + list +
                          ")" + (what.find("section") != std::string::npos
                                     ? ": their sections are placed from " +
                                           std::string(o.era.per_type() ? "mem[]" : "the base") + " and the .ko files"
                                     : ""));
    }
    if (!o.sects)
        f.notes.push_back(dump.path() + ": no section attributes in this kernel's struct module (CONFIG_SYSFS off?): "
                                        "module sections are placed from " +
                          std::string(o.era.per_type() ? "mem[]" : "the base") + " and the .ko files");
}

}  // namespace

std::vector<DumpSymbol> read_module_symbols(const Vmcore& dump, const VmcoreModule& m, std::string& why) {
    std::vector<DumpSymbol> out;
    if (!m.symtab || !m.strtab || !m.num_symtab) {
        why = "the dump has no symbol table for module " + m.name;
        return out;
    }
    constexpr std::uint32_t kMaxSymbols = 1u << 20;
    if (m.num_symtab > kMaxSymbols) {
        why = "module " + m.name + " claims " + std::to_string(m.num_symtab) + " symbols (the dump is damaged)";
        return out;
    }
    // Elf64_Sym: st_name (4), st_info, st_other, st_shndx (2), st_value (8), st_size (8).
    constexpr std::size_t kSym = 24;
    std::vector<unsigned char> syms(std::size_t{m.num_symtab} * kSym);
    if (!dump.read(m.symtab, syms.data(), syms.size())) {
        why = "module " + m.name + "'s symbol table (" + hex(m.symtab) + ") is not in the dump";
        return out;
    }
    std::vector<unsigned char> types(m.num_symtab, 0);
    if (m.typetab && !dump.read(m.typetab, types.data(), types.size())) std::fill(types.begin(), types.end(), 0);
    std::uint64_t strsize = 0;
    for (std::uint32_t i = 0; i < m.num_symtab; ++i) strsize = std::max<std::uint64_t>(strsize, struct_field<std::uint32_t>(syms, i * kSym));
    strsize = std::min<std::uint64_t>(strsize + 512, 16u << 20);  // KSYM_NAME_LEN past the last name
    std::vector<char> strtab(strsize + 1, '\0');
    // The table may end before a page the dump lacks: read what is there.
    std::size_t have = 0;
    while (have < strsize) {
        const std::size_t chunk = std::min<std::size_t>(4096 - ((m.strtab + have) & 4095), strsize - have);
        if (!dump.read(m.strtab + have, strtab.data() + have, chunk)) break;
        have += chunk;
    }
    for (std::uint32_t i = 0; i < m.num_symtab; ++i) {
        const std::uint32_t name = struct_field<std::uint32_t>(syms, i * kSym);
        if (name == 0 || name >= have) continue;
        DumpSymbol d;
        d.name.assign(strtab.data() + name, strnlen(strtab.data() + name, have - name));
        d.addr = struct_field<std::uint64_t>(syms, i * kSym + 8);
        d.size = struct_field<std::uint64_t>(syms, i * kSym + 16);
        d.type = types[i] ? static_cast<char>(types[i]) : '?';
        if (d.name.empty() || !d.addr) continue;
        out.push_back(std::move(d));
    }
    if (out.empty()) why = "module " + m.name + "'s symbol names are not in the dump";
    return out;
}

std::string_view module_state_name(int state) {
    switch (state) {
        case 0: return "Live";
        case 1: return "Coming";
        case 2: return "Going";
        case 3: return "Unformed";
    }
    return "?";
}

std::string vmlinux_for_dump(const SnapshotInputs& in, const std::string& release) {
    if (!in.vmlinux.empty()) return in.vmlinux;
    if (in.debug_root.empty()) return {};
    const fs::path p = fs::path(in.debug_root) / "usr/lib/debug/boot" / ("vmlinux-" + release);
    std::error_code ec;
    return fs::exists(p, ec) ? p.string() : std::string();
}

void check_build_id(const Vmcore& dump, const ElfFile& vmlinux) {
    const std::string want = dump.info().build_id();
    if (want.empty() || vmlinux.build_id().empty() || want == vmlinux.build_id()) return;
    throw Error(vmlinux.path(),
                "is not the kernel of " + dump.path() + ": its build-id is " + vmlinux.build_id() +
                    ", the dump's VMCOREINFO says " + want + " (release " + dump.info().osrelease() + ")",
                "give the debug vmlinux of that exact build (Debian: linux-image-" + dump.info().osrelease() +
                    "-dbg of the same package version)");
}

std::shared_ptr<const VmcoreFacts> read_vmcore_facts(std::shared_ptr<const Vmcore> dump,
                                                     std::shared_ptr<const ElfFile> vmlinux) {
    auto f = std::make_shared<VmcoreFacts>();
    const VmcoreInfo& vi = dump->info();
    f->release = vi.osrelease();
    f->build_id = vi.build_id();
    f->page_size = vi.page_size().value_or(0);
    f->crash_time = vi.crash_time();
    auto off = vi.kernel_offset();
    if (!off) {
        // Kernels without KASLR (or before 4.x) write no KERNELOFFSET: 0 is then exact.
        f->notes.push_back(dump->path() + ": VMCOREINFO has no KERNELOFFSET; taking 0 (no KASLR)");
    }
    f->kaslr_offset = off.value_or(0);
    if (vmlinux) {
        check_build_id(*dump, *vmlinux);
        f->vmlinux = vmlinux->path();
        try {
            walk_modules(*dump, *vmlinux, f->kaslr_offset, *f);
        } catch (const Error& e) {  // the log and the core kernel still answer
            f->notes.push_back(std::string("modules are not read from the dump: ") + e.what());
        }
    } else {
        f->notes.push_back(dump->path() + ": no vmlinux for release " + f->release +
                           ": modules are not read from the dump (give --vmlinux or --debug-root)");
    }
    f->dump = std::move(dump);
    return f;
}

std::shared_ptr<const VmcoreFacts> read_vmcore_facts(const SnapshotInputs& in) {
    std::shared_ptr<const Vmcore> dump = Vmcore::open(in.vmcore);
    const std::string path = vmlinux_for_dump(in, dump->info().osrelease());
    return read_vmcore_facts(dump, path.empty() ? nullptr : ElfFile::open(path));
}

}  // namespace kaddr
