// Is the whole dump there? See dump_completeness.cpp.
#pragma once
#include <string>

#include "kaddr/vmcore.h"

namespace kaddr {

// Throws Error naming `path` when the file is shorter than its headers say.
void check_complete(int fd, DumpFormat format, const std::string& path);

}  // namespace kaddr
