// Shared pieces of the kaddr subcommands: the input options every command
// accepts, and exit codes.
#pragma once
#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "kaddr/snapshot.h"

namespace kaddr::cli {

namespace po = boost::program_options;

enum Exit { kOk = 0, kUnresolved = 1, kUsage = 2 };

po::options_description input_options(SnapshotInputs& in);
void print_notes(const Snapshot& snap);
// The process is about to exit: hand the snapshot (parsed DWARF, symbol
// tables, libdw sessions) to the OS instead of freeing it piece by piece,
// which costs more than a large run's last lookups.
void release_at_exit(std::unique_ptr<Snapshot> snap);
// `--jobs N`: worker threads, default the number of CPUs, at least 1.
void add_jobs_option(po::options_description& opts, unsigned& jobs);
// Parses argv for one subcommand, positional arguments going to the option
// `positional`; returns false (after printing help) for --help.
bool parse(int argc, char** argv, const char* usage, po::options_description& opts, const char* positional);

int cmd_resolve(int argc, char** argv);
int cmd_gdb_symbols(int argc, char** argv);
int cmd_oops(int argc, char** argv);
int cmd_batch(int argc, char** argv);
int cmd_log(int argc, char** argv);

}  // namespace kaddr::cli
