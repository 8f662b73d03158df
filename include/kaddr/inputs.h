// Parsers for the text captures of a running kernel: /proc/kallsyms,
// System.map, /proc/modules, /sys/module/*/sections and /proc/version.
// Each is strict: a malformed line is an Error naming file:line, never
// silently skipped, because on a forensic capture a skipped line is a wrong
// answer with no label.
#pragma once
#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <sstream>
#include <memory>
#include <string_view>
#include <string>
#include <vector>

namespace kaddr {

// One symbol as listed by kallsyms or System.map. Names are views into the
// SymbolList's text.
struct ListedSymbol {
    std::uint64_t addr = 0;
    char type = '?';          // nm letter: T t D d B b R r W w A a V v U ...
    std::string_view name;
    std::string_view module;  // kallsyms `[mod]` column; empty for the core kernel
    // Per-cpu offsets and constants (nm type A/a) are values, not addresses:
    // they neither enter a symbol table nor bound an image or a module
    // (zsmalloc lists `0000000000034000 a zs_map_area`).
    bool is_absolute() const { return type == 'A' || type == 'a'; }
};

// A parsed symbol listing and the text its names point into.
struct SymbolList {
    std::shared_ptr<const void> storage;  // keeps the text alive (a string or a file mapping)
    std::vector<ListedSymbol> symbols;
};

// A whole text input, read (never mapped: logs are rotated under readers).
// A regular file, FIFO or terminal; a directory or block device is refused,
// so are binary data and an input beyond input_size_limit(); .gz, .xz and
// .zst content is decompressed. Errors name the file.
struct TextFile {
    std::shared_ptr<const void> storage;
    std::string_view text;
};
TextFile read_text_file(const std::string& path);
TextFile read_standard_input();  // the same rules, named "standard input"
// read_text_file() as a stream, for the line parsers below.
std::istringstream text_input_stream(const std::string& path);

// Module names: the kernel uses '_' where file names may use '-'.
std::string canonical_module_name(std::string name);

// /proc/kallsyms. Refuses a capture whose addresses are all zero (an
// unprivileged reader under kptr_restrict).
SymbolList parse_kallsyms(TextFile text, const std::string& file);
SymbolList parse_kallsyms(std::istream& in, const std::string& file);
// The same parse and checks without the list: each symbol is handed to
// `each` as it is read, its views pointing into `text` (for a caller that
// keeps a few of 100,000).
void scan_kallsyms(std::string_view text, const std::string& file, const std::function<void(const ListedSymbol&)>& each);
// kallsyms with most of the core's lines skipped, for a caller that takes
// the core's symbols from a vmlinux and reads of kallsyms' core lines only
// the KASLR anchors and a sample. Every line of the first `head_bytes` and
// every line from the first module line on go to `each` (picked = false);
// of the core lines between, the first at or after every `stride_bytes`
// (picked = true). Lines between picks are not read, nor checked.
void skim_kallsyms(std::string_view text, const std::string& file, std::size_t head_bytes, std::size_t stride_bytes,
                   const std::function<void(const ListedSymbol&, bool picked)>& each);
// System.map (`nm -n vmlinux` format); refuses Debian's one-line stub.
SymbolList parse_system_map(TextFile text, const std::string& file);
SymbolList parse_system_map(std::istream& in, const std::string& file);

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

// The GNU build-id (lower-case hex) in raw ELF notes, as /sys/kernel/notes
// and /sys/module/NAME/notes/.note.gnu.build-id give them; "" when none.
std::string build_id_from_notes(std::string_view bytes);
// The same from a file; an Error naming it when it holds no build-id.
std::string read_build_id_notes(const std::string& path);

}  // namespace kaddr
