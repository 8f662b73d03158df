// The sys/module/<m>/sections/<s> tree: each input line `MOD/SECT CONTENT`
// becomes a file of a fresh tree, which read_sysfs_sections then reads.
#include <filesystem>
#include <fstream>
#include <string_view>

#include "fuzz_support.h"
#include "kaddr/error.h"
#include "kaddr/inputs.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fs::path root = fs::temp_directory_path() / ("kaddr-fuzz-sysfs-" + std::to_string(getpid()));
    std::error_code ec;
    fs::remove_all(root, ec);
    fs::create_directories(root, ec);
    std::string_view all(reinterpret_cast<const char*>(data), size);
    for (int n = 0; !all.empty() && n < 8; ++n) {
        const std::size_t eol = std::min(all.find('\n'), all.size());
        std::string_view line = all.substr(0, eol);
        all.remove_prefix(std::min(eol + 1, all.size()));
        const std::size_t slash = line.find('/'), space = line.find(' ');
        if (slash == 0 || slash == std::string_view::npos || space == std::string_view::npos || space < slash + 2)
            continue;
        const std::string mod(line.substr(0, slash)), sect(line.substr(slash + 1, space - slash - 1));
        if (mod.find_first_of("/.") != std::string::npos || sect.find('/') != std::string::npos || sect == "." ||
            sect == "..")
            continue;
        fs::create_directories(root / mod / "sections", ec);
        std::ofstream(root / mod / "sections" / sect) << line.substr(space + 1) << "\n";
    }
    try {
        (void)kaddr::read_sysfs_sections(root.string());
    } catch (const kaddr::Error&) {
    }
    return 0;
}
