// A shared library opened the first time it is needed instead of at start-up
// (dlopen): libdebuginfod brings libcurl and some thirty libraries, and
// Capstone's tables need 77,000 relocations; loading them on every run
// costs more than a whole indexed lookup. elfutils' libdwfl does the same
// with libdebuginfod.
#pragma once
#include <string>

namespace kaddr {

class LazyLibrary {
public:
    // `soname`: e.g. "libcapstone.so.4"; `package`: what to install if missing.
    LazyLibrary(const char* soname, const char* package);
    bool loaded() const { return handle_ != nullptr; }
    // Why it could not be loaded (names the library and the package).
    const std::string& error() const { return error_; }
    // A function of the library, or nullptr (error() then says which).
    template <class F>
    F function(const char* name) {
        return reinterpret_cast<F>(symbol(name));
    }

private:
    void* symbol(const char* name);
    void* handle_ = nullptr;
    std::string soname_, error_;
};

}  // namespace kaddr
