// The real kdump of Debian's 6.1.0-56-cloud-amd64 in its three forms
// (kdump-compressed, makedumpfile flattened as kdump-tools saves it, ELF
// core): what VMCOREINFO says, checked against the capture's independent
// records (uname, kallsyms-derived KASLR offset, the vmlinux build-id in
// MANIFEST), and the kernel log byte for byte against makedumpfile
// --dump-dmesg and crash's `log`. Damaged dumps: one error naming the file.
#include <cstring>
#include <fstream>

#include "kaddr/error.h"
#include "kaddr/vmcore.h"
#include "kaddr/vmcore_log.h"
#include "vmcore_support.h"

using namespace kaddr;

namespace {

struct Form {
    const char* name;
    DumpFormat format;
    std::string path() const { return std::string(name) == "elf" ? kt::elf_vmcore() : kt::kdump_file(name); }
};
const Form kForms[] = {
    {"vmcore.kdump-zlib", DumpFormat::KdumpCompressed},
    {"dump.flat", DumpFormat::Flattened},
    {"elf", DumpFormat::Elf},
};

std::string error_of(const std::string& path) {
    try {
        auto v = Vmcore::open(path);
        read_kernel_log(*v);
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

}  // namespace

TEST_CASE("every form of the real kdump gives the release, KASLR offset and build-id of the crashed kernel") {
    for (const Form& f : kForms) {
        CAPTURE(f.name);
        auto v = Vmcore::open(f.path());
        CHECK(v->format() == f.format);
        CHECK(v->arch() == "x86_64");
        const VmcoreInfo& vi = v->info();
        CHECK(vi.osrelease() == "6.1.0-56-cloud-amd64");                        // uname.txt
        CHECK(vi.build_id() == "3b43fad5034874490492495d552c0af6a5fab235");     // the -dbg vmlinux's
        CHECK(vi.kernel_offset() == 0x2f400000);                                // kallsyms _text - System.map _text
        CHECK(vi.page_size() == 4096);
        CHECK(vi.crash_time().value_or(0) > 1700000000);
        CHECK(vi.symbol("_stext") == 0xffffffffb0400000ULL);                    // kallsyms _text
        auto cpus = v->cpus();
        REQUIRE(cpus.size() == 2);
        CHECK(cpus[1].pid == 660);                                              // the oops: PID: 660 Comm: sh
        CHECK(cpus[1].regs.at("rip") == 0xffffffffc0b30046ULL);                 // ktoops_deref+0x6 (drgn frame #0)
        CHECK(cpus[1].regs.at("rsp") == 0xff882b62c0febbe0ULL);
    }
}

TEST_CASE("the kernel log from every form equals makedumpfile --dump-dmesg and crash's log byte for byte") {
    const std::string makedumpfile = kt::slurp(kt::kdump_file("dmesg.txt"));
    const std::string crash = kt::slurp(kt::kdump_file("truth/crash-log.txt"));
    REQUIRE(makedumpfile.size() > 30000);
    for (const Form& f : kForms) {
        CAPTURE(f.name);
        auto v = Vmcore::open(f.path());
        const auto log = read_kernel_log(*v);
        const std::string text = format_log(log);
        CHECK(text == makedumpfile);
        CHECK(text == crash);
        REQUIRE(!log.empty());
        CHECK(log.front().seq == 0);
        for (std::size_t i = 1; i < log.size(); ++i) CHECK(log[i].seq == log[i - 1].seq + 1);
    }
}

TEST_CASE("a damaged dump is one clear error naming the file") {
    kt::TempFile cut_kdump("cut.kdump"), cut_flat("cut.flat"), cut_elf("cut.elf"), text("notadump"), header("hdr.kdump");
    kt::write_prefix(kt::kdump_file("vmcore.kdump-zlib"), cut_kdump.path, 19000000);
    kt::write_prefix(kt::kdump_file("dump.flat"), cut_flat.path, 10000000);
    kt::write_prefix(kt::elf_vmcore(), cut_elf.path, 50000000);
    kt::write_prefix(kt::kdump_file("vmcore.kdump-zlib"), header.path, 300);
    std::ofstream(text.path) << "[    0.000000] Linux version 6.1.0\n";
    struct Case {
        std::string path;
        const char* says;
    } cases[] = {
        {cut_kdump.path, "truncated dump"},
        {cut_flat.path, "truncated flattened stream"},
        {cut_elf.path, "truncated dump"},
        {header.path, "truncated dump"},
        {text.path, "unknown dump format"},
        {"/nonexistent/vmcore", "cannot open dump"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.path);
        const std::string e = error_of(c.path);
        CHECK(e.find(c.path) == 0);
        CHECK(e.find(c.says) != std::string::npos);
    }
}

TEST_CASE("an ELF core without a VMCOREINFO note is refused by name") {
    // The smallest ELF core libkdumpfile accepts: one PT_LOAD of one page and
    // a PT_NOTE holding only a CORE note, as a hand-made /proc/vmcore copy
    // from a kernel without CONFIG_CRASH_CORE would look.
    kt::TempFile f("novmcoreinfo.elf");
    std::string img(0x2000, '\0');
    auto put = [&](std::size_t off, auto v) { std::memcpy(&img[off], &v, sizeof v); };
    std::memcpy(&img[0], "\x7f" "ELF\x02\x01\x01", 7);
    put(16, std::uint16_t(4));        // ET_CORE
    put(18, std::uint16_t(62));       // EM_X86_64
    put(20, std::uint32_t(1));
    put(32, std::uint64_t(64));       // e_phoff
    put(52, std::uint16_t(64));       // e_ehsize
    put(54, std::uint16_t(56));       // e_phentsize
    put(56, std::uint16_t(2));        // e_phnum
    const std::uint64_t note_off = 0x200, note_size = 12 + 8 + 16;
    std::size_t ph = 64;
    put(ph, std::uint32_t(4));        // PT_NOTE
    put(ph + 8, note_off);
    put(ph + 32, note_size);
    ph += 56;
    put(ph, std::uint32_t(1));        // PT_LOAD
    put(ph + 4, std::uint32_t(7));
    put(ph + 8, std::uint64_t(0x1000));
    put(ph + 16, std::uint64_t(0xffff888000000000ULL));
    put(ph + 24, std::uint64_t(0));
    put(ph + 32, std::uint64_t(0x1000));
    put(ph + 40, std::uint64_t(0x1000));
    put(note_off, std::uint32_t(5));  // "CORE\0"
    put(note_off + 4, std::uint32_t(16));
    put(note_off + 8, std::uint32_t(0x100));  // not NT_PRSTATUS: nothing to parse
    std::memcpy(&img[note_off + 12], "CORE", 4);
    std::ofstream(f.path, std::ios::binary).write(img.data(), static_cast<std::streamsize>(img.size()));
    const std::string e = error_of(f.path);
    CHECK(e.find(f.path) == 0);
    CHECK(e.find("no VMCOREINFO") != std::string::npos);
}

TEST_CASE("kaddr log --vmcore prints the log of the kdump-tools dump.flat as makedumpfile does") {
    kt::TempFile out("log.out");
    const std::string cmd = std::string(KADDR_BINARY) + " log --vmcore '" + kt::kdump_file("dump.flat") + "' > " + out.path;
    REQUIRE(std::system(cmd.c_str()) == 0);
    CHECK(kt::slurp(out.path) == kt::slurp(kt::kdump_file("dmesg.txt")));
}
