#include "kaddr/index_store.h"

#include <elf.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "../model/module_finder.h"
#include "kaddr/elf_file.h"
#include "kaddr/error.h"
#include "kaddr/image_index.h"

namespace kaddr {

std::string_view index_outcome_name(IndexOutcome o) {
    switch (o) {
        case IndexOutcome::Built: return "built";
        case IndexOutcome::Current: return "current";
        case IndexOutcome::NoDwarf: return "no-dwarf";
        case IndexOutcome::Failed: return "failed";
    }
    return "failed";
}

std::vector<std::string> debug_files_in(const std::vector<std::string>& paths) {
    std::vector<std::string> out;
    for (const auto& p : paths) {
        std::error_code ec;
        if (!std::filesystem::is_directory(p, ec)) {
            out.push_back(p);
            continue;
        }
        ModuleFiles found;
        scan_module_dir(p, found);
        for (const auto& [name, files] : found) out.insert(out.end(), files.begin(), files.end());
    }
    return out;
}

namespace {

IndexResult index_one(const std::string& path, const std::string& dir, unsigned threads, bool force) {
    IndexResult r;
    r.file = path;
    const auto t0 = std::chrono::steady_clock::now();
    try {
        auto elf = ElfFile::open(path);
        r.index_path = SourceIndex::path_in(*elf, dir);
        if (!elf->has_dwarf()) {
            r.outcome = IndexOutcome::NoDwarf;
        } else if (elf->build_id().empty()) {
            r.outcome = IndexOutcome::Failed;
            r.error = path + ": has no build-id to key an index by";
        } else if (auto current = force ? nullptr : SourceIndex::open(*elf, dir)) {
            r.outcome = IndexOutcome::Current;
            r.stats = current->stats();
        } else {
            // A vmlinux's DWARF path is given the CU ranges of its image
            // index; the source index tabulates that same path.
            std::optional<ImageIndex> image;
            if (elf->type() != ET_REL) image = image_index(*elf, dir);
            auto built = SourceIndex::build(elf, dir, threads, image ? image->cus : std::span<const CuRange>{});
            r.outcome = IndexOutcome::Built;
            r.stats = built->stats();
        }
    } catch (const std::exception& e) {
        r.outcome = IndexOutcome::Failed;
        r.error = e.what();
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

bool is_module_path(const std::string& p) { return !module_name_of_file(std::filesystem::path(p).filename()).empty(); }

}  // namespace

std::vector<IndexResult> build_indexes(const std::vector<std::string>& files, const std::string& dir,
                                       unsigned threads, bool force, const IndexProgress& progress) {
    threads = std::max(1u, threads);
    std::vector<IndexResult> results(files.size());
    std::mutex mu;
    std::size_t done = 0;
    auto finish = [&](std::size_t i, IndexResult r) {
        std::lock_guard lock(mu);
        results[i] = std::move(r);
        ++done;
        if (progress) progress(done, files.size(), results[i]);
    };
    // Images first, each with every thread; then modules, a file per thread.
    std::vector<std::size_t> modules;
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (is_module_path(files[i])) modules.push_back(i);
        else finish(i, index_one(files[i], dir, threads, force));
    }
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (std::size_t k; (k = next++) < modules.size();) finish(modules[k], index_one(files[modules[k]], dir, 1, force));
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < std::min<std::size_t>(threads, modules.size()); ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    return results;
}

}  // namespace kaddr
