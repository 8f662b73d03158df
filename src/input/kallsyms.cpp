// /proc/kallsyms and System.map share the nm format; kallsyms adds a
// tab-separated `[module]` column.
#include <cctype>
#include <sstream>

#include "kaddr/error.h"
#include "kaddr/inputs.h"
#include "kaddr/lexemes.h"

namespace kaddr {

std::string canonical_module_name(std::string name) {
    for (char& c : name)
        if (c == '-') c = '_';
    return name;
}

namespace {

std::vector<ListedSymbol> parse_nm_format(std::istream& in, const std::string& file,
                                          bool allow_module, const char* what) {
    std::vector<ListedSymbol> out;
    LineReader reader(in, file);
    std::string line;
    bool any_nonzero = false;
    while (reader.next(line)) {
        std::string_view v = trim(line);
        if (v.empty()) continue;
        ListedSymbol sym;
        std::size_t sp1 = v.find_first_of(" \t");
        auto addr = sp1 == std::string_view::npos ? std::nullopt : parse_hex(v.substr(0, sp1));
        std::string_view rest = sp1 == std::string_view::npos ? std::string_view{} : trim(v.substr(sp1));
        if (!addr || rest.size() < 3 || !std::isalpha(static_cast<unsigned char>(rest[0])) ||
            (rest[1] != ' ' && rest[1] != '\t'))
            throw Error(reader.where(), std::string("not a ") + what + " line: '" + std::string(v.substr(0, 80)) + "'",
                        "expected 'ADDRESS TYPE NAME'");
        sym.addr = *addr;
        sym.type = rest[0];
        std::string_view name = trim(rest.substr(2));
        std::size_t tab = name.find_first_of(" \t");
        if (tab != std::string_view::npos) {
            std::string_view modcol = trim(name.substr(tab));
            name = name.substr(0, tab);
            if (!allow_module || modcol.size() < 3 || modcol.front() != '[' || modcol.back() != ']')
                throw Error(reader.where(), std::string("unexpected text after the symbol name in ") + what + ": '" +
                                                std::string(modcol) + "'");
            sym.module = canonical_module_name(std::string(modcol.substr(1, modcol.size() - 2)));
        }
        if (name.empty()) throw Error(reader.where(), std::string("missing symbol name in ") + what);
        sym.name.assign(name);
        if (sym.addr != 0) any_nonzero = true;
        out.push_back(std::move(sym));
    }
    if (out.empty()) throw Error(file, std::string("no symbols in ") + what, "is this the right file?");
    if (!any_nonzero)
        throw Error(file, std::string("every address in this ") + what + " is zero",
                    "it was read without privilege (kptr_restrict); capture it as root with "
                    "/proc/sys/kernel/kptr_restrict set to 0");
    return out;
}

}  // namespace

std::vector<ListedSymbol> parse_kallsyms(std::istream& in, const std::string& file) {
    return parse_nm_format(in, file, true, "kallsyms");
}

std::vector<ListedSymbol> parse_system_map(std::istream& in, const std::string& file) {
    std::string first;
    std::getline(in, first);
    if (first.rfind("ffffffffffffffff B The real System.map", 0) == 0)
        throw Error(file, "this System.map is a stub",
                    "Debian ships the real one in the linux-image-<release>-dbg package");
    std::stringstream all;
    all << first << "\n" << in.rdbuf();
    return parse_nm_format(all, file, false, "System.map");
}

}  // namespace kaddr
