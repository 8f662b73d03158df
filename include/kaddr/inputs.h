// Parsers for the text captures of a running kernel: /proc/kallsyms,
// System.map, /proc/modules, /sys/module/*/sections and /proc/version.
// Each is strict: a malformed line is an Error naming file:line, never
// silently skipped, because on a forensic capture a skipped line is a wrong
// answer with no label.
#pragma once
#include <cstdint>
#include <istream>
#include <map>
#include <string>
#include <vector>

namespace kaddr {

// One symbol as listed by kallsyms or System.map.
struct ListedSymbol {
    std::uint64_t addr = 0;
    char type = '?';      // nm letter: T t D d B b R r W w A a V v U ...
    std::string name;
    std::string module;   // kallsyms `[mod]` column; empty for the core kernel
};

// Module names: the kernel uses '_' where file names may use '-'.
std::string canonical_module_name(std::string name);

// /proc/kallsyms. Refuses a capture whose addresses are all zero (an
// unprivileged reader under kptr_restrict).
std::vector<ListedSymbol> parse_kallsyms(std::istream& in, const std::string& file);
// System.map (`nm -n vmlinux` format); refuses Debian's one-line stub.
std::vector<ListedSymbol> parse_system_map(std::istream& in, const std::string& file);

// /proc/modules: `name size refcount deps state base [taint]`.
struct ProcModule {
    std::string name;
    std::uint64_t size = 0;
    std::uint64_t base = 0;
    std::string state;
    std::string taint;  // e.g. "OE", without parentheses
};
std::vector<ProcModule> parse_proc_modules(std::istream& in, const std::string& file);

// Section addresses of loaded modules: module -> section -> address.
using SectionAddresses = std::map<std::string, std::map<std::string, std::uint64_t>>;
// The flat form: `module section address` per line.
SectionAddresses parse_section_list(std::istream& in, const std::string& file);
// The sysfs form: DIR/<module>/sections/<section> files, DIR being a
// `sys/module` directory.
SectionAddresses read_sysfs_sections(const std::string& sys_module_dir);

// /proc/version: the release is the third word ("Linux version RELEASE ...").
struct KernelVersion {
    std::string release;    // 6.1.0-56-cloud-amd64
    int major = 0, minor = 0;
    std::string banner;     // the whole line
};
KernelVersion parse_proc_version(std::istream& in, const std::string& file);
KernelVersion version_from_release(const std::string& release);

}  // namespace kaddr
