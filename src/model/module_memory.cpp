#include "kaddr/module_memory.h"

namespace kaddr {

std::string_view mod_mem_type_name(ModMemType t) {
    switch (t) {
        case ModMemType::Text: return "MOD_TEXT";
        case ModMemType::Data: return "MOD_DATA";
        case ModMemType::Rodata: return "MOD_RODATA";
        case ModMemType::RoAfterInit: return "MOD_RO_AFTER_INIT";
        case ModMemType::InitText: return "MOD_INIT_TEXT";
        case ModMemType::InitData: return "MOD_INIT_DATA";
        case ModMemType::InitRodata: return "MOD_INIT_RODATA";
    }
    return "?";
}

std::string_view mod_mem_type_key(ModMemType t) {
    switch (t) {
        case ModMemType::Text: return "text";
        case ModMemType::Data: return "data";
        case ModMemType::Rodata: return "rodata";
        case ModMemType::RoAfterInit: return "ro_after_init";
        case ModMemType::InitText: return "init_text";
        case ModMemType::InitData: return "init_data";
        case ModMemType::InitRodata: return "init_rodata";
    }
    return "?";
}

bool is_init_memory(ModMemType t) {
    return t == ModMemType::InitText || t == ModMemType::InitData || t == ModMemType::InitRodata;
}

std::string_view era_name(ModuleMemoryEra e) {
    return e == ModuleMemoryEra::PerType ? "per-type module memory (6.4+)" : "core/init module layouts (before 6.4)";
}

ModuleMemoryModel module_memory_from_release(int major, int minor) {
    ModuleMemoryModel m;
    if (major == 0) {
        m.how = "kernel release unknown: the rules before 6.4 are assumed (give /proc/version)";
        m.assumed = true;
        return m;
    }
    m.era = major > 6 || (major == 6 && minor >= 4) ? ModuleMemoryEra::PerType : ModuleMemoryEra::CoreInit;
    m.how = "release " + std::to_string(major) + "." + std::to_string(minor);
    return m;
}

std::optional<ModuleMemoryModel> module_memory_from_members(bool has_mem, bool has_core_layout) {
    if (has_mem == has_core_layout) return std::nullopt;  // neither (or, damaged, both): the release decides
    ModuleMemoryModel m;
    m.era = has_mem ? ModuleMemoryEra::PerType : ModuleMemoryEra::CoreInit;
    m.how = has_mem ? "vmlinux DWARF: struct module has mem[]" : "vmlinux DWARF: struct module has core_layout";
    return m;
}

}  // namespace kaddr

#include "kaddr/elf_file.h"
#include "kaddr/error.h"
#include "kaddr/kernel_types.h"

namespace kaddr {

ModuleMemoryModel module_memory_of(const ElfFile* vmlinux, int major, int minor, std::string* disagreement) {
    ModuleMemoryModel by_release = module_memory_from_release(major, minor);
    if (!vmlinux || !vmlinux->has_dwarf()) return by_release;
    std::optional<ModuleMemoryModel> by_dwarf;
    try {
        // kernel/module/main.c from 5.19, kernel/module.c before.
        const KernelTypes t(*vmlinux, {"kernel/module/main.c", "kernel/module.c"}, {"module"});
        by_dwarf = module_memory_from_members(t.has("module.mem"), t.has("module.core_layout"));
    } catch (const Error&) {
    }
    if (!by_dwarf) return by_release;
    if (disagreement && !by_release.assumed && by_release.era != by_dwarf->era)
        *disagreement = vmlinux->path() + ": " + by_dwarf->how + " but " + by_release.how + " says " +
                        std::string(era_name(by_release.era)) + " (a backport?): believing the DWARF";
    return *by_dwarf;
}

}  // namespace kaddr
