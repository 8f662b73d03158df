// Building the source indexes of many debug files ahead of use (`kaddr
// index`): a vmlinux with every thread, then modules one per thread.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "kaddr/source_index.h"

namespace kaddr {

enum class IndexOutcome { Built, Current, NoDwarf, Failed };
std::string_view index_outcome_name(IndexOutcome o);

struct IndexResult {
    std::string file;
    std::string index_path;
    IndexOutcome outcome = IndexOutcome::Failed;
    std::string error;  // Failed: why (names the file)
    SourceIndexStats stats;
    double seconds = 0;
};

// The debug files `paths` name: ELF files as given, directories searched
// recursively for module files (.ko, .ko.xz, .ko.zst, .ko.gz, .ko.debug).
std::vector<std::string> debug_files_in(const std::vector<std::string>& paths);

using IndexProgress = std::function<void(std::size_t done, std::size_t total, const IndexResult&)>;
// Builds the index of each file in `dir` (keeping a current one unless
// `force`), in the order given; one file's failure never stops the others.
std::vector<IndexResult> build_indexes(const std::vector<std::string>& files, const std::string& dir,
                                       unsigned threads, bool force, const IndexProgress& progress = {});

}  // namespace kaddr
