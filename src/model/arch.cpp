#include "kaddr/arch.h"

#include <elf.h>

namespace kaddr {

std::string_view arch_name(Arch a) {
    switch (a) {
        case Arch::X86_64: return "x86_64";
        case Arch::Arm64: return "arm64";
        case Arch::Arm: return "arm";
        default: return "unknown";
    }
}

Arch arch_from_elf_machine(unsigned m) {
    switch (m) {
        case EM_X86_64: return Arch::X86_64;
        case EM_AARCH64: return Arch::Arm64;
        case EM_ARM: return Arch::Arm;
        default: return Arch::Unknown;
    }
}

Arch arch_from_name(std::string_view s) {
    auto ends = [&](std::string_view suf) { return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf; };
    if (s == "x86_64" || s == "amd64" || ends("-amd64")) return Arch::X86_64;
    if (s == "arm64" || s == "aarch64" || ends("-arm64")) return Arch::Arm64;
    if (s == "arm" || s == "armhf" || s == "armv7l" || ends("-armmp") || ends("-armmp-lpae")) return Arch::Arm;
    return Arch::Unknown;
}

Arch arch_from_kernel_address(std::uint64_t a) {
    if (a <= 0xffffffffULL) return Arch::Arm;
    if (a >= 0xffffffff80000000ULL) return Arch::X86_64;
    if (a >= 0xffff000000000000ULL && a < 0xffffffff80000000ULL) return Arch::Arm64;
    return Arch::Unknown;
}

std::uint64_t return_address_step(Arch a) { return a == Arch::X86_64 || a == Arch::Unknown ? 1 : 4; }

namespace {

struct Range {
    std::uint64_t lo, hi;  // inclusive
    const char* name;
};

template <std::size_t N>
const char* find(const Range (&t)[N], std::uint64_t a) {
    for (const auto& r : t)
        if (a >= r.lo && a <= r.hi) return r.name;
    return nullptr;
}

// Documentation/arch/x86/x86_64/mm.rst, 4-level paging.
constexpr Range kX86Common[] = {
    {0xfffffc0000000000, 0xfffffdffffffffff, "KASAN shadow"},
    {0xfffffe0000000000, 0xfffffe7fffffffff, "cpu_entry_area"},
    {0xffffff0000000000, 0xffffff7fffffffff, "%esp fixup stacks"},
    {0xffffffef00000000, 0xfffffffeffffffff, "EFI runtime services"},
    {0xffffffff80000000, 0xffffffffbfffffff, "kernel text mapping"},
    {0xffffffffc0000000, 0xfffffffffeffffff, "modules"},
    {0xffffffffff000000, 0xffffffffff5fffff, "fixmap"},
    {0xffffffffff600000, 0xffffffffff600fff, "vsyscall"},
};
constexpr Range kX86Level4Default[] = {
    {0xffff888000000000, 0xffffc87fffffffff, "direct map"},
    {0xffffc90000000000, 0xffffe8ffffffffff, "vmalloc/ioremap"},
    {0xffffea0000000000, 0xffffeaffffffffff, "vmemmap"},
};
constexpr Range kX86Level5Default[] = {
    {0xff11000000000000, 0xff90ffffffffffff, "direct map"},
    {0xffa0000000000000, 0xffd1ffffffffffff, "vmalloc/ioremap"},
    {0xffd4000000000000, 0xffd5ffffffffffff, "vmemmap"},
};

Region x86_64(std::uint64_t a, bool kaslr_off) {
    const bool level5_only = a >= 0xff00000000000000ULL && a < 0xffff800000000000ULL;
#define KADDR_X86_LAYOUT(paging) "x86_64 " paging " layout (Documentation/arch/x86/x86_64/mm.rst)"
    const std::string_view assume = level5_only ? KADDR_X86_LAYOUT("5-level paging") : KADDR_X86_LAYOUT("4-level paging");
    const std::string_view assume_kaslr_off = level5_only ? KADDR_X86_LAYOUT("5-level paging") ", KASLR off: default bases"
                                                          : KADDR_X86_LAYOUT("4-level paging") ", KASLR off: default bases";
    const std::string_view assume_randomized =
        level5_only ? KADDR_X86_LAYOUT("5-level paging") ", CONFIG_RANDOMIZE_MEMORY moves their bases: which one needs page_offset_base/vmalloc_base"
                    : KADDR_X86_LAYOUT("4-level paging") ", CONFIG_RANDOMIZE_MEMORY moves their bases: which one needs page_offset_base/vmalloc_base";
#undef KADDR_X86_LAYOUT
    if (a < 0x0000800000000000ULL) return {"user", assume};
    if (a < 0x0100000000000000ULL) return {"user", "x86_64 5-level paging layout (56-bit user space)"};
    if (a < 0xff00000000000000ULL) return {"non-canonical", "x86_64: neither 4- nor 5-level canonical"};
    if (const char* n = find(kX86Common, a)) return {n, assume};
    // CONFIG_RANDOMIZE_MEMORY shuffles the direct map, vmalloc and vmemmap
    // bases within one area; only with KASLR known off are the defaults true.
    const std::uint64_t dyn_lo = level5_only ? 0xff11000000000000ULL : 0xffff888000000000ULL;
    const std::uint64_t dyn_hi = level5_only ? 0xffd5ffffffffffffULL : 0xffffeaffffffffffULL;
    if (a >= dyn_lo && a <= dyn_hi) {
        if (kaslr_off) {
            const char* n = level5_only ? find(kX86Level5Default, a) : find(kX86Level4Default, a);
            if (n) return {n, assume_kaslr_off};
            return {"unused hole", assume};
        }
        return {"direct map, vmalloc or vmemmap", assume_randomized};
    }
    if (a >= 0xff00000000000000ULL && a < 0xff11000000000000ULL) return {"guard hole / LDT remap", assume};
    if (a >= 0xffff800000000000ULL && a < 0xffff888000000000ULL) return {"guard hole / LDT remap", assume};
    return {"unused hole", assume};
}

// arch/arm64/include/asm/memory.h, 48-bit VA, 4K pages (Debian 6.1).
Region arm64(std::uint64_t a) {
#define KADDR_ARM64_LAYOUT "arm64 48-bit VA layout (Documentation/arm64/memory.rst)"
    constexpr std::string_view assume = KADDR_ARM64_LAYOUT;
    if (a < 0x0001000000000000ULL) return {"user", assume};
    if (a < 0xffff000000000000ULL) return {"non-canonical", assume};
    if (a < 0xffff800000000000ULL) return {"linear map", assume};
    if (a < 0xffff800008000000ULL) return {"modules", KADDR_ARM64_LAYOUT " (default module region; KASLR may place modules in vmalloc)"};
    if (a < 0xfffffbfffdc00000ULL)
        return {"vmalloc", KADDR_ARM64_LAYOUT " (with KASLR the kernel image and modules are placed inside it)"};
#undef KADDR_ARM64_LAYOUT
    if (a < 0xfffffbfffe800000ULL) return {"fixmap", assume};
    if (a < 0xfffffc0000000000ULL) return {"PCI I/O", assume};
    if (a < 0xfffffe0000000000ULL) return {"vmemmap", assume};  // 2 TB
    return {"guard region (unmapped)", assume};
}

// arch/arm/include/asm/memory.h, VMSPLIT_3G, no LPAE.
Region arm(std::uint64_t a) {
#define KADDR_ARM_LAYOUT "32-bit ARM VMSPLIT_3G layout (PAGE_OFFSET 0xc0000000)"
    constexpr std::string_view assume = KADDR_ARM_LAYOUT;
    if (a > 0xffffffffULL) return {"non-canonical", "32-bit ARM: address wider than 32 bits"};
    if (a < 0xbf000000ULL) return {"user", assume};
    if (a < 0xc0000000ULL) return {"modules", assume};
    if (a < 0xf0000000ULL) return {"lowmem (direct map) or vmalloc", KADDR_ARM_LAYOUT "; the split is at high_memory"};
#undef KADDR_ARM_LAYOUT
    if (a < 0xffc00000ULL) return {"vmalloc", assume};
    if (a < 0xfff00000ULL) return {"fixmap", assume};
    return {"vectors", assume};
}

}  // namespace

Region static_region(Arch a, std::uint64_t addr, bool kaslr_known_off) {
    // vm.mmap_min_addr keeps the first 64 KiB unmapped: a NULL pointer plus
    // a field offset lands here.
    if (addr < 0x10000) return {"NULL page", "first 64 KiB (vm.mmap_min_addr): NULL + offset"};
    switch (a) {
        case Arch::X86_64: return x86_64(addr, kaslr_known_off);
        case Arch::Arm64: return arm64(addr);
        case Arch::Arm: return arm(addr);
        default: return {"unknown", "architecture unknown: give --vmlinux, --arch or a snapshot"};
    }
}

}  // namespace kaddr
