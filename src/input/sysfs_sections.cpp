#include <unistd.h>

#include <cerrno>
#include <filesystem>
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

namespace {

// The section files are readable by root only: a capture copied as a user
// fails here, and must say so rather than "not a section address: ''".
const char* kAsRoot = "sys/module/*/sections is readable by root only; capture it as root (or give --sections a list)";

std::vector<fs::path> listing(const fs::path& dir) {
    std::error_code ec;
    std::vector<fs::path> out;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) out.push_back(it->path());
    if (ec) throw Error(dir.string(), "cannot list directory: " + ec.message(), kAsRoot);
    return out;
}

}  // namespace

SectionAddresses read_sysfs_sections(const std::string& sys_module_dir) {
    SectionAddresses out;
    std::error_code ec;
    if (!fs::is_directory(sys_module_dir, ec))
        throw Error(sys_module_dir, "not a directory", "expected a captured sys/module tree");
    for (const auto& mod : listing(sys_module_dir)) {
        fs::path sections = mod / "sections";
        if (!fs::is_directory(sections, ec)) continue;  // built-in modules have no sections/
        auto& dst = out[canonical_module_name(mod.filename().string())];
        for (const auto& s : listing(sections)) {
            if (fs::is_directory(s, ec)) continue;
            if (::access(s.c_str(), R_OK) != 0 && errno == EACCES)
                throw Error(s.string(), "permission denied", kAsRoot);
            const TextFile file = read_text_file(s.string());
            const std::string_view text = file.text.substr(0, file.text.find('\n'));
            auto a = parse_hex(trim(text));
            if (!a) throw Error(at(s.string(), 1), "not a section address: '" + std::string(text.substr(0, 80)) + "'");
            dst[s.filename().string()] = *a;
        }
    }
    return out;
}

}  // namespace kaddr
