#include <filesystem>
#include <fstream>
#include <sstream>

#include "kaddr/error.h"
#include "kaddr/inputs.h"
#include "kaddr/lexemes.h"

namespace kaddr {

namespace fs = std::filesystem;

SectionAddresses parse_section_list(std::istream& in, const std::string& file) {
    SectionAddresses out;
    LineReader reader(in, file);
    std::string line;
    while (reader.next(line)) {
        if (trim(line).empty()) continue;
        std::istringstream words(line);
        std::string mod, sect, addr, extra;
        words >> mod >> sect >> addr >> extra;
        auto a = parse_hex(addr);
        if (mod.empty() || sect.empty() || !a || !extra.empty())
            throw Error(reader.where(), "not a section line: '" + line.substr(0, 80) + "'",
                        "expected 'module section address'");
        out[canonical_module_name(mod)][sect] = *a;
    }
    return out;
}

SectionAddresses read_sysfs_sections(const std::string& sys_module_dir) {
    SectionAddresses out;
    std::error_code ec;
    if (!fs::is_directory(sys_module_dir, ec))
        throw Error(sys_module_dir, "not a directory", "expected a captured sys/module tree");
    for (const auto& mod : fs::directory_iterator(sys_module_dir)) {
        fs::path sections = mod.path() / "sections";
        if (!fs::is_directory(sections, ec)) continue;  // built-in modules have no sections/
        auto& dst = out[canonical_module_name(mod.path().filename().string())];
        for (const auto& s : fs::directory_iterator(sections)) {
            std::ifstream f(s.path());
            std::string text;
            std::getline(f, text);
            auto a = parse_hex(trim(text));
            if (!a) throw Error(at(s.path().string(), 1), "not a section address: '" + text + "'");
            dst[s.path().filename().string()] = *a;
        }
    }
    return out;
}

}  // namespace kaddr
