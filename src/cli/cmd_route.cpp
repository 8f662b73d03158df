// kaddr route: one JSON line per input saying which kernel it is from
// (release, architecture, build-ids) and its first headline, read without
// parsing the reports, so that an engine can send each input to a stage
// loaded with its own kernel (kaddr/fleet.h: route_file).
#include <fstream>
#include <iostream>

#include "common.h"
#include "kaddr/error.h"
#include "kaddr/fleet.h"
#include "kaddr/batch_stage.h"
#include "kaddr/report.h"

namespace kaddr::cli {

namespace {

bool route_one(const std::string& path) {
    try {
        std::cout << json_line(to_json(route_file(path), path)) << std::flush;
        return true;
    } catch (const std::exception& ex) {
        std::cout << json_line(input_error_json(path, InputErrorCode::Unreadable, ex.what())) << std::flush;
        return false;
    }
}

}  // namespace

int cmd_route(int argc, char** argv) {
    std::vector<std::string> paths;
    std::string files_from;
    po::options_description opts("kaddr route options");
    opts.add_options()("files-from", po::value(&files_from), "read input names from FILE ('-': standard input), one a line");
    if (!parse(argc, argv, "usage: kaddr route FILE... | --files-from FILE|-", opts, paths)) return kOk;
    if (paths.empty() == files_from.empty()) throw po::error("give files or --files-from, not both");
    bool all = true;
    for (const auto& p : paths) all = route_one(p) && all;
    if (!files_from.empty()) {
        std::ifstream file;
        std::istream& in = line_input(files_from, file, "route", "file names, one a line");
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) all = route_one(line) && all;
    }
    return all ? kOk : kUnresolved;
}

}  // namespace kaddr::cli
