// Where the real kdump capture lives (testdata/captures, else the shared/
// copy beside the clone, as CI lays it out), and temporary dump variants
// made from it at test time: the ELF core decompressed, truncated copies.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support.h"

namespace kt {

inline std::string kdump_capture() {
    namespace fs = std::filesystem;
    const std::string name = "deb12-6.1.0-56-cloud-kdump";
    for (const std::string& dir : {testdata("captures/" + name), testdata("../../shared/captures/" + name)})
        if (fs::exists(dir + "/vmcore.kdump-zlib")) return dir;
    FAIL("the kdump capture " << name << " is in neither testdata/captures nor ../shared/captures");
    return {};
}
inline std::string kdump_file(const std::string& rel) { return kdump_capture() + "/" + rel; }

// A file removed when the test ends.
struct TempFile {
    std::string path;
    explicit TempFile(const std::string& tag) {
        const char* t = std::getenv("TMPDIR");
        path = std::string(t && *t ? t : "/tmp") + "/kaddr-test-" + std::to_string(::getpid()) + "-" + tag;
    }
    ~TempFile() { std::filesystem::remove_all(path); }
};

// The ELF core, shipped zstd-compressed, decompressed once per test run.
inline const std::string& elf_vmcore() {
    static TempFile f("vmcore.elf");
    static bool done = [] {
        const std::string cmd = "zstd -dqf '" + kdump_file("vmcore.elf.zst") + "' -o '" + f.path + "'";
        return std::system(cmd.c_str()) == 0;
    }();
    REQUIRE_MESSAGE(done, "zstd could not decompress vmcore.elf.zst");
    return f.path;
}

inline void write_prefix(const std::string& from, const std::string& to, std::size_t bytes) {
    std::string all = slurp(from);
    std::ofstream(to, std::ios::binary).write(all.data(), static_cast<std::streamsize>(std::min(bytes, all.size())));
}

}  // namespace kt
