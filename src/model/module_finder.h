// Finds the .ko file for each loaded module among --modules directories,
// an extracted -dbg package and explicit files, and picks the one that
// matches the loaded module.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace kaddr {

// canonical module name -> candidate paths, in the order given.
using ModuleFiles = std::map<std::string, std::vector<std::string>>;

// Recursively lists .ko, .ko.xz, .ko.zst, .ko.gz and (Fedora's separate
// debug files) .ko.debug files below `dir`.
void scan_module_dir(const std::string& dir, ModuleFiles& out);
// Module name of a file name ("dm-mod.ko.xz" -> "dm_mod"); empty if not a module file.
std::string module_name_of_file(const std::string& filename);

}  // namespace kaddr
