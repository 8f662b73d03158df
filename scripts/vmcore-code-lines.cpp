// Developer tool: prints, for each `NAME ADDRESS` line on stdin, the `Code:`
// line an x86_64 kernel would print for a fault at ADDRESS (42 bytes before
// it, the faulting byte in <>, 21 after), read from a vmcore's memory with
// libkdumpfile. This is how testdata/code-check/ got the running kernel's
// own (boot-patched) text to check kaddr's Code: comparison against.
//   g++ -O2 -std=c++20 -o vmcore-code-lines scripts/vmcore-code-lines.cpp -lkdumpfile
//   ./vmcore-code-lines VMCORE < list
#include <fcntl.h>
#include <libkdumpfile/kdumpfile.h>

#include <cstdio>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: vmcore-code-lines VMCORE < 'NAME ADDRESS' lines\n";
        return 2;
    }
    const int fd = open(argv[1], O_RDONLY);
    kdump_ctx_t* k = kdump_new();
    if (fd < 0 || !k || kdump_open_fd(k, fd) != KDUMP_OK || kdump_set_string_attr(k, KDUMP_ATTR_OSTYPE, "linux") != KDUMP_OK) {
        std::cerr << argv[1] << ": cannot open as a vmcore" << (k ? std::string(": ") + kdump_get_err(k) : "") << "\n";
        return 1;
    }
    std::string name, addr;
    while (std::cin >> name >> addr) {
        const unsigned long long pc = std::stoull(addr, nullptr, 16);
        unsigned char buf[64];
        size_t got = sizeof buf;
        if (kdump_read(k, KDUMP_KVADDR, pc - 42, buf, &got) != KDUMP_OK || got != sizeof buf) {
            std::cerr << name << " " << addr << ": not in the dump\n";
            continue;
        }
        std::printf("%s\t%s\t", name.c_str(), addr.c_str());
        for (int i = 0; i < 64; ++i) std::printf(i == 42 ? "%s<%02x>" : "%s%02x", i ? " " : "", buf[i]);
        std::printf("\n");
    }
    kdump_free(k);
    return 0;
}
