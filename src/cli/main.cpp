// kaddr: offline Linux kernel crash and snapshot analyser. main() only
// dispatches to a subcommand and turns errors into exit codes.
#include <iostream>
#include <string>

#include "common.h"
#include "kaddr/error.h"

namespace {

const char* kMainUsage =
    "usage: kaddr COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  resolve      explain kernel addresses and sym+off/size [mod] frames\n"
    "  oops         explain crash reports (oops, WARN, BUG, backtraces) in logs\n"
    "  batch        explain every report in many files, in parallel, as JSON Lines\n"
    "  gdb-symbols  print gdb add-symbol-file lines for loaded modules\n"
    "  log          print the kernel log held in a kdump vmcore\n"
    "  route        which kernel each report or dump is from, without parsing it (JSON Lines)\n"
    "  buckets      merge batch records or earlier buckets by crash signature\n"
    "  index        build the persisted source indexes of vmlinux and module debug files\n"
    "\n"
    "'kaddr COMMAND --help' lists a command's options; man kaddr has the details.\n"
    "'kaddr --version' (or -V) prints the version.\n";

}  // namespace

int main(int argc, char** argv) {
    using namespace kaddr::cli;
    std::ios::sync_with_stdio(false);
    if (argc < 2) {
        std::cerr << kMainUsage;
        return kUsage;
    }
    const std::string cmd = argv[1];
    try {
        if (cmd == "resolve") return cmd_resolve(argc - 1, argv + 1);
        if (cmd == "oops") return cmd_oops(argc - 1, argv + 1);
        if (cmd == "batch") return cmd_batch(argc - 1, argv + 1);
        if (cmd == "gdb-symbols") return cmd_gdb_symbols(argc - 1, argv + 1);
        if (cmd == "log") return cmd_log(argc - 1, argv + 1);
        if (cmd == "route") return cmd_route(argc - 1, argv + 1);
        if (cmd == "buckets") return cmd_buckets(argc - 1, argv + 1);
        if (cmd == "index") return cmd_index(argc - 1, argv + 1);
        if (cmd == "--version" || cmd == "-V" || cmd == "version") {
            print_version();
            return kOk;
        }
        if (cmd == "--help" || cmd == "-h" || cmd == "help") {
            std::cout << kMainUsage;
            return kOk;
        }
        std::cerr << "kaddr: unknown command '" << cmd << "'\n" << kMainUsage;
        return kUsage;
    } catch (const boost::program_options::error& e) {
        std::cerr << "kaddr " << cmd << ": " << e.what() << " (see 'kaddr " << cmd << " --help')\n";
        return kUsage;
    } catch (const kaddr::Error& e) {
        std::cerr << "kaddr: " << e.what() << "\n";
        return kUsage;
    } catch (const std::exception& e) {
        std::cerr << "kaddr: internal error: " << e.what() << "\n";
        return kUsage;
    }
}
