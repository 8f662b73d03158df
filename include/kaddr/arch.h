// Architectures kaddr knows and the static virtual memory map of each,
// used to say which region an address falls in before anything else is
// known about it. Snapshot-specific facts (the kernel image and loaded
// modules) are layered on top by the resolver.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace kaddr {

enum class Arch { Unknown, X86_64, Arm64, Arm };

std::string_view arch_name(Arch a);
Arch arch_from_elf_machine(unsigned machine);
// From a Debian release string (…-amd64, …-arm64, …-armmp) or `uname -m`.
Arch arch_from_name(std::string_view s);
// A guess from one kernel address (used only when nothing better is known).
Arch arch_from_kernel_address(std::uint64_t addr);

// How many bytes to step back from a return address to land in the call
// instruction: 1 is enough on x86 (variable length), 4 on arm64/ARM.
std::uint64_t return_address_step(Arch a);

// Both are constant text (a region is classified for every resolved
// address; nothing is built per address).
struct Region {
    std::string_view name;        // e.g. "user", "direct map", "modules", "kernel text"
    std::string_view assumption;  // the layout assumed to classify it
};

// `kaslr_known_off`: true when the snapshot shows KASLR is off, so the
// x86_64 direct map / vmalloc / vmemmap bases are at their defaults.
Region static_region(Arch a, std::uint64_t addr, bool kaslr_known_off);

}  // namespace kaddr
