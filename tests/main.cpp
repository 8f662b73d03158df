#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

int main(int argc, char** argv) {
    // Persisted indexes written by tests go to a private cache, not the user's.
    const auto cache = std::filesystem::temp_directory_path() / ("kaddr-test-cache-" + std::to_string(::getpid()));
    setenv("KADDR_CACHE", cache.c_str(), 1);
    doctest::Context ctx(argc, argv);
    const int rc = ctx.run();
    std::error_code ec;
    std::filesystem::remove_all(cache, ec);
    return rc;
}
