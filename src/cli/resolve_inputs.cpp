#include "resolve_inputs.h"

#include <elf.h>

#include <fstream>
#include <regex>

#include "kaddr/lexemes.h"

namespace kaddr::cli {

namespace {

bool is_relocatable_elf(const std::string& path) {
    unsigned char h[EI_NIDENT + 2] = {};
    std::ifstream f(path, std::ios::binary);
    if (!f.read(reinterpret_cast<char*>(h), sizeof h)) return false;
    if (h[EI_MAG0] != ELFMAG0 || h[EI_MAG1] != ELFMAG1 || h[EI_MAG2] != ELFMAG2 || h[EI_MAG3] != ELFMAG3) return false;
    const unsigned type = h[EI_DATA] == ELFDATA2MSB ? (h[EI_NIDENT] << 8 | h[EI_NIDENT + 1])
                                                     : (h[EI_NIDENT + 1] << 8 | h[EI_NIDENT]);
    return type == ET_REL;
}

}  // namespace

void add_executable(SnapshotInputs& in, const std::string& path) {
    static const std::regex module_name(R"(\.ko(\.(xz|zst|gz))?$)");
    if (std::regex_search(path, module_name) || is_relocatable_elf(path)) {
        in.ko_files.push_back(path);
        in.link_time_modules.push_back(path);
    } else {
        in.vmlinux = path;
    }
}

std::vector<std::string> join_module_arguments(const std::vector<std::string>& args) {
    std::vector<std::string> out;
    bool open_bracket = false;  // the previous argument was `[mod` waiting for `buildid]`
    for (const auto& a : args) {
        const bool module_word = a.size() > 1 && a.front() == '[' && a[1] != '<';  // not an old-style [<addr>]
        if (!out.empty() && (module_word || open_bracket)) {
            out.back() += " " + a;
        } else {
            out.push_back(a);
        }
        open_bracket = (module_word || open_bracket) && a.find(']') == std::string::npos;
    }
    return out;
}

void note_frame_shaped_precise(Resolution& r) {
    auto ref = parse_symbol_ref(trim(r.input));
    if (!ref || !ref->size || !r.address) return;
    r.notes.push_back("looked up as a precise address (a faulting pc); in a call trace " + r.input +
                      " is a return address: give --return-address for the line of the call (--pc silences this)");
}

}  // namespace kaddr::cli
