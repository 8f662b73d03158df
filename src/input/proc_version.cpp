#include <cstdlib>
#include <sstream>

#include "kaddr/error.h"
#include "kaddr/inputs.h"
#include "kaddr/lexemes.h"

namespace kaddr {

KernelVersion version_from_release(const std::string& release) {
    KernelVersion v;
    v.release = release;
    char* end = nullptr;
    v.major = static_cast<int>(std::strtol(release.c_str(), &end, 10));
    if (end && *end == '.') v.minor = static_cast<int>(std::strtol(end + 1, nullptr, 10));
    return v;
}

KernelVersion parse_proc_version(std::istream& in, const std::string& file) {
    LineReader reader(in, file);
    std::string line;
    while (reader.next(line)) {
        if (trim(line).empty()) continue;
        std::istringstream words(line);
        std::string linux_word, version_word, release;
        words >> linux_word >> version_word >> release;
        if (linux_word != "Linux" || version_word != "version" || release.empty())
            throw Error(reader.where(), "not a /proc/version line", "expected 'Linux version RELEASE ...'");
        KernelVersion v = version_from_release(release);
        v.banner = line;
        return v;
    }
    throw Error(file, "empty /proc/version");
}

}  // namespace kaddr
