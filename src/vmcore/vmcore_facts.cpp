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
#include "kernel_types.h"
#include "struct_bytes.h"

namespace kaddr {

namespace fs = std::filesystem;

namespace {

// A list walk that never ends is a damaged dump, not a hang.
constexpr std::size_t kMaxModules = 100000;
constexpr std::size_t kModuleNameLen = 64 - sizeof(unsigned long);  // MODULE_NAME_LEN
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

void walk_modules(const Vmcore& dump, const ElfFile& vmlinux, std::int64_t kaslr, VmcoreFacts& f) {
    const KernelTypes t(vmlinux, {"kernel/module/main.c", "kernel/module/sysfs.c"},
                        {"module", "module_layout", "module_sect_attrs", "module_sect_attr", "bin_attribute", "attribute",
                         "list_head"});
    const std::uint64_t mod_size = t.size("module"), o_list = t.offset("module.list"), o_name = t.offset("module.name");
    const std::uint64_t o_state = t.offset("module.state"), o_core = t.offset("module.core_layout"),
                        o_init = t.offset("module.init_layout"), o_sect = t.offset("module.sect_attrs"),
                        o_taints = t.offset("module.taints");
    const std::uint64_t l_base = t.offset("module_layout.base"), l_size = t.offset("module_layout.size"),
                        l_text = t.offset("module_layout.text_size"), l_ro = t.offset("module_layout.ro_size"),
                        l_roai = t.offset("module_layout.ro_after_init_size");
    const std::uint64_t s_n = t.offset("module_sect_attrs.nsections"), s_attrs = t.offset("module_sect_attrs.attrs");
    const std::uint64_t a_size = t.size("module_sect_attr"), a_battr = t.offset("module_sect_attr.battr"),
                        a_addr = t.offset("module_sect_attr.address");
    const std::uint64_t name_ptr = a_battr + t.offset("bin_attribute.attr") + t.offset("attribute.name");
    const std::uint64_t next_off = t.offset("list_head.next");

    const std::uint64_t head = link_address(vmlinux, "modules") + static_cast<std::uint64_t>(kaslr);
    std::uint64_t node = dump.read_u64(head + next_off, "the modules list head");
    std::vector<unsigned char> mod(mod_size);
    while (node != head) {
        if (f.modules.size() >= kMaxModules) throw Error(dump.path(), "the modules list does not end", "the dump is damaged");
        const std::uint64_t addr = node - o_list;
        dump.read_exact(addr, mod.data(), mod.size(), "a struct module");
        VmcoreModule m;
        m.name.assign(reinterpret_cast<const char*>(mod.data() + o_name), kModuleNameLen);
        m.name.resize(std::strlen(m.name.c_str()));
        m.state = struct_field<int>(mod, o_state);
        m.taint = module_taint(struct_field<std::uint64_t>(mod, o_taints));
        m.base = struct_field<std::uint64_t>(mod, o_core + l_base);
        m.size = struct_field<std::uint32_t>(mod, o_core + l_size);
        m.text_size = struct_field<std::uint32_t>(mod, o_core + l_text);
        m.ro_size = struct_field<std::uint32_t>(mod, o_core + l_ro);
        m.ro_after_init_size = struct_field<std::uint32_t>(mod, o_core + l_roai);
        m.init_base = struct_field<std::uint64_t>(mod, o_init + l_base);
        m.init_size = struct_field<std::uint32_t>(mod, o_init + l_size);
        if (const auto sect = struct_field<std::uint64_t>(mod, o_sect)) {
            std::uint32_t n = 0;
            dump.read_exact(sect + s_n, &n, sizeof n, "module_sect_attrs.nsections");
            if (n > kMaxSections) throw Error(dump.path(), "module " + m.name + " claims " + std::to_string(n) + " sections",
                                              "the dump is damaged");
            std::vector<unsigned char> attrs(n * a_size);
            dump.read_exact(sect + s_attrs, attrs.data(), attrs.size(), "module_sect_attrs.attrs");
            for (std::uint32_t i = 0; i < n; ++i) {
                const std::uint64_t name = struct_field<std::uint64_t>(attrs, i * a_size + name_ptr);
                m.sections[dump.read_cstring(name, 64, "a module section name")] = struct_field<std::uint64_t>(attrs, i * a_size + a_addr);
            }
        } else {
            f.notes.push_back("module " + m.name + ": no sect_attrs in the dump (CONFIG_SYSFS off?); layout from the base only");
        }
        f.modules.push_back(std::move(m));
        node = struct_field<std::uint64_t>(mod, o_list + next_off);
    }
    f.modules_walked = true;
}

}  // namespace

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
        walk_modules(*dump, *vmlinux, f->kaslr_offset, *f);
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
