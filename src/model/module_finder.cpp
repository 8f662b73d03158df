#include "module_finder.h"

#include <algorithm>
#include <filesystem>

#include "kaddr/error.h"
#include "kaddr/inputs.h"

namespace kaddr {

namespace fs = std::filesystem;

std::string module_name_of_file(const std::string& filename) {
    for (const char* suffix : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"}) {
        std::string suf(suffix);
        if (filename.size() > suf.size() && filename.compare(filename.size() - suf.size(), suf.size(), suf) == 0)
            return canonical_module_name(filename.substr(0, filename.size() - suf.size()));
    }
    return {};
}

void scan_module_dir(const std::string& dir, ModuleFiles& out) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw Error(dir, "not a directory", "--modules takes a directory of .ko files");
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (!it->is_regular_file(ec)) continue;
        std::string name = module_name_of_file(it->path().filename().string());
        if (!name.empty()) found.push_back(it->path().string());
    }
    std::sort(found.begin(), found.end());  // directory order is not stable
    for (auto& p : found) out[module_name_of_file(fs::path(p).filename().string())].push_back(p);
}

}  // namespace kaddr
