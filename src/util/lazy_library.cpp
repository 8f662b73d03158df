#include "kaddr/lazy_library.h"

#include <dlfcn.h>

namespace kaddr {

LazyLibrary::LazyLibrary(const char* soname, const char* package) : soname_(soname) {
    handle_ = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle_) {
        const char* why = ::dlerror();
        error_ = soname_ + " cannot be loaded (install " + package + "): " + (why ? why : "not found");
    }
}

void* LazyLibrary::symbol(const char* name) {
    if (!handle_) return nullptr;
    void* p = ::dlsym(handle_, name);
    if (!p && error_.empty()) error_ = soname_ + " has no " + name;
    return p;
}

}  // namespace kaddr
