// kaddr buckets: partial results (batch records, or buckets of earlier
// runs) merged by crash signature into one bucket record per signature,
// sorted by signature id. The merge is the library's (kaddr/fleet.h:
// Buckets): associative and commutative, so any engine's reduce step, in
// any grouping, gives the same buckets.
#include <fstream>
#include <iostream>

#include "common.h"
#include "kaddr/error.h"
#include "kaddr/fleet.h"
#include "kaddr/report.h"

namespace kaddr::cli {

int cmd_buckets(int argc, char** argv) {
    std::vector<std::string> paths;
    po::options_description opts("kaddr buckets options");
    if (!parse(argc, argv, "usage: kaddr buckets FILE...  (records of kaddr batch or kaddr buckets; '-': standard input)",
               opts, paths))
        return kOk;
    if (paths.empty()) paths.push_back("-");
    Buckets buckets;
    std::size_t skipped = 0;
    for (const auto& p : paths) {
        std::ifstream file;
        std::istream& in = line_input(p, file, "buckets", "JSON records, one a line");
        std::size_t n = 0;
        for (std::string line; std::getline(in, line);) {
            ++n;
            if (line.empty()) continue;
            const auto j = nlohmann::json::parse(line, nullptr, false);
            if (!buckets.add_record(j)) {
                if (skipped++ < 5) std::cerr << "kaddr buckets: " << p << ":" << n << ": not a kaddr record, skipped\n";
            }
        }
    }
    for (const auto& [id, b] : buckets.all()) std::cout << json_line(to_json(b));
    std::cout.flush();
    if (skipped) std::cerr << "kaddr buckets: " << skipped << " lines skipped\n";
    return skipped ? kUnresolved : kOk;
}

}  // namespace kaddr::cli
