// Running the built kaddr binary from tests, as a user would: one shot with
// its output collected, or as a coprocess spoken to line by line.
#pragma once
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace kt {

struct Run {
    int status = -1;
    std::string out;
};

// `kaddr ARGS` through the shell; stderr is discarded unless ARGS redirects it.
inline Run run(const std::string& args) {
    Run r;
    std::string cmd = std::string(KADDR_BINARY) + " " + args;
    if (cmd.find("2>") == std::string::npos) cmd += " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::array<char, 65536> buf;
    std::size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

// Every JSON line a test reads is also kept in $KADDR_JSON_RECORDS (when
// set; ctest sets it), so that tests/validate-json.py checks all of them
// against the schema. The file is started afresh by each test process.
inline void keep_for_schema_check(const std::string& line) {
    static const char* path = std::getenv("KADDR_JSON_RECORDS");
    if (!path || !*path) return;
    static std::ofstream out(path, std::ios::trunc);
    out << line << "\n" << std::flush;
}

// Every output line parsed as JSON (JSON Lines).
inline std::vector<nlohmann::json> json_lines(const std::string& out) {
    std::vector<nlohmann::json> v;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) {
        v.push_back(nlohmann::json::parse(l));
        keep_for_schema_check(l);
    }
    return v;
}

// kaddr as a coprocess: stdin and stdout are pipes held by the test.
class Coprocess {
public:
    explicit Coprocess(const std::vector<std::string>& args) {
        int in[2], out[2];
        REQUIRE(pipe(in) == 0);
        REQUIRE(pipe(out) == 0);
        pid_ = fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            dup2(in[0], 0);
            dup2(out[1], 1);
            close(in[1]);
            close(out[0]);
            std::vector<char*> argv{const_cast<char*>(KADDR_BINARY)};
            for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            execv(KADDR_BINARY, argv.data());
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        to_ = in[1];
        from_ = out[0];
    }
    ~Coprocess() {
        close_input();
        if (from_ >= 0) close(from_);
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            waitpid(pid_, nullptr, 0);
        }
    }
    void send(const std::string& line) {
        const std::string l = line + "\n";
        REQUIRE(write(to_, l.data(), l.size()) == static_cast<ssize_t>(l.size()));
    }
    // Reads until `lines` newlines arrived or `timeout_ms` passed without
    // output; what arrived is returned either way.
    std::string receive(int lines, int timeout_ms = 20000) {
        std::string got;
        while (std::count(got.begin(), got.end(), '\n') < lines) {
            pollfd p{from_, POLLIN, 0};
            if (poll(&p, 1, timeout_ms) <= 0) break;
            char buf[4096];
            ssize_t n = read(from_, buf, sizeof buf);
            if (n <= 0) break;
            got.append(buf, static_cast<std::size_t>(n));
        }
        return got;
    }
    void close_input() {
        if (to_ >= 0) close(to_);
        to_ = -1;
    }
    int wait_exit() {
        close_input();
        int st = 0;
        waitpid(pid_, &st, 0);
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }

private:
    pid_t pid_ = -1;
    int to_ = -1, from_ = -1;
};

}  // namespace kt
