// Shared pieces of the kaddr subcommands: the input options every command
// accepts, the options every command shares (--help, --version), exit codes.
#pragma once
#include <boost/program_options.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "kaddr/snapshot.h"
#include "kaddr/snapshot_pool.h"

namespace kaddr::cli {

namespace po = boost::program_options;

enum Exit { kOk = 0, kUnresolved = 1, kUsage = 2 };

// "kaddr 0.1.0": what --version, -V and `kaddr version` print.
void print_version();

po::options_description input_options(SnapshotInputs& in);
void print_notes(const Snapshot& snap);
// The process is about to exit: hand the snapshot (parsed DWARF, symbol
// tables, libdw sessions) to the OS instead of freeing it piece by piece,
// which costs more than a large run's last lookups.
void release_at_exit(std::unique_ptr<Snapshot> snap);
// The snapshots of a run's reports, likewise handed to the OS at exit.
SnapshotPool& pool_until_exit();
// `--jobs N`: worker threads, default the number of CPUs, at least 1.
void add_jobs_option(po::options_description& opts, unsigned& jobs);
// Parses argv for one subcommand; positional arguments go to `positional`
// (a hidden option, so --help lists only what a user types). Returns false
// when the command is done (after --help or --version).
bool parse(int argc, char** argv, const char* usage, po::options_description& opts,
           std::vector<std::string>& positional);
// Standard input is a terminal and nothing else was given: say what kaddr
// is waiting for instead of hanging silently.
void explain_terminal_stdin(const char* command, const char* what);
// Lines of `name` ('-': standard input, explained when it is a terminal),
// opened into `file` when it is a file; throws Error when it cannot be read.
std::istream& line_input(const std::string& name, std::ifstream& file, const char* command, const char* what);

int cmd_resolve(int argc, char** argv);
int cmd_gdb_symbols(int argc, char** argv);
int cmd_oops(int argc, char** argv);
int cmd_batch(int argc, char** argv);
int cmd_log(int argc, char** argv);
int cmd_index(int argc, char** argv);
int cmd_route(int argc, char** argv);
int cmd_buckets(int argc, char** argv);

}  // namespace kaddr::cli
