// Runs work(i) for i in [0, n) on `jobs` threads and hands each result to
// emit(i, result) on the calling thread, in index order, as soon as it and
// all before it are done: parallel work, deterministic output.
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace kaddr::cli {

template <class Result, class Work, class Emit>
void ordered_parallel(std::size_t n, unsigned jobs, Work work, Emit emit) {
    if (jobs <= 1 || n <= 1) {
        for (std::size_t i = 0; i < n; ++i) emit(i, work(i));
        return;
    }
    std::vector<std::optional<Result>> results(n);
    std::atomic<std::size_t> next{0};
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < std::min<std::size_t>(jobs, n); ++t)
        workers.emplace_back([&] {
            for (std::size_t i; (i = next++) < n;) {
                Result r = work(i);
                std::lock_guard<std::mutex> lock(mu);
                results[i] = std::move(r);
                cv.notify_one();
            }
        });
    for (std::size_t i = 0; i < n; ++i) {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return results[i].has_value(); });
        Result r = std::move(*results[i]);
        results[i].reset();
        lock.unlock();
        emit(i, std::move(r));
    }
    for (auto& w : workers) w.join();
}

}  // namespace kaddr::cli
