#include "module_finder.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "kaddr/error.h"
#include "kaddr/inputs.h"

namespace kaddr {

namespace fs = std::filesystem;

std::string module_name_of_file(const std::string& filename) {
    for (const char* suffix : {".ko", ".ko.xz", ".ko.zst", ".ko.gz", ".ko.debug"}) {
        std::string suf(suffix);
        if (filename.size() > suf.size() && filename.compare(filename.size() - suf.size(), suf.size(), suf) == 0)
            return canonical_module_name(filename.substr(0, filename.size() - suf.size()));
    }
    return {};
}

namespace {

// Every module file under `dir`, recursively (directory symlinks are not
// followed, file symlinks are). Plain readdir with d_type: a Debian debug
// tree has over a thousand files and is scanned on every run, and
// std::filesystem's path objects cost ten times more per entry.
void find_module_files(const std::string& dir, std::vector<std::string>& found) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;  // unreadable subdirectories are skipped
    std::vector<std::string> subdirs;
    while (const dirent* e = ::readdir(d)) {
        const std::string_view name = e->d_name;
        if (name == "." || name == "..") continue;
        std::string path = dir + "/" + e->d_name;
        unsigned char type = e->d_type;
        if (type == DT_UNKNOWN || type == DT_LNK) {
            struct stat st {};
            if (::stat(path.c_str(), &st) != 0) continue;
            type = S_ISREG(st.st_mode) ? DT_REG : (S_ISDIR(st.st_mode) && e->d_type == DT_UNKNOWN) ? DT_DIR : DT_UNKNOWN;
        }
        if (type == DT_DIR) subdirs.push_back(std::move(path));
        else if (type == DT_REG && !module_name_of_file(e->d_name).empty()) found.push_back(std::move(path));
    }
    ::closedir(d);
    for (const auto& sub : subdirs) find_module_files(sub, found);
}

}  // namespace

void scan_module_dir(const std::string& dir, ModuleFiles& out) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw Error(dir, "not a directory", "--modules takes a directory of .ko files");
    std::vector<std::string> found;
    std::string root = dir;
    while (root.size() > 1 && root.back() == '/') root.pop_back();  // paths as "dir/sub/x.ko", not "dir//sub"
    find_module_files(root, found);
    std::sort(found.begin(), found.end());  // directory order is not stable
    for (auto& p : found) out[module_name_of_file(p.substr(p.rfind('/') + 1))].push_back(p);
}

}  // namespace kaddr
