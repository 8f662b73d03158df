// Runs work(i) for i in [0, n) on `jobs` threads and hands each result to
// emit(i, result) on the calling thread, in index order, as soon as it and
// all before it are done: parallel work, deterministic output.
//
// An exception thrown by work(i) (an exception leaving a thread's function
// is std::terminate: 'terminate called', no message) is carried to the
// calling thread and rethrown there, in index order, after the other
// workers stopped: the same error a one-thread run gives, at the same point
// of the output.
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
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
    struct Slot {
        std::optional<Result> result;
        std::exception_ptr error;
        bool done() const { return result.has_value() || error; }
    };
    std::vector<Slot> slots(n);
    std::atomic<std::size_t> next{0};
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::thread> workers;
    struct Join {  // also when emit() throws: a joinable std::thread's destructor terminates
        std::vector<std::thread>& workers;
        std::atomic<std::size_t>& next;
        std::size_t n;
        ~Join() {
            next = n;
            for (auto& w : workers) w.join();
        }
    } join{workers, next, n};
    for (unsigned t = 0; t < std::min<std::size_t>(jobs, n); ++t)
        workers.emplace_back([&] {
            for (std::size_t i; (i = next++) < n;) {
                Slot s;
                try {
                    s.result.emplace(work(i));
                } catch (...) {
                    s.error = std::current_exception();
                }
                std::lock_guard<std::mutex> lock(mu);
                slots[i] = std::move(s);
                cv.notify_one();
            }
        });
    for (std::size_t i = 0; i < n; ++i) {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return slots[i].done(); });
        Slot s = std::move(slots[i]);
        slots[i] = Slot{};
        lock.unlock();
        if (s.error) std::rethrow_exception(s.error);
        emit(i, std::move(*s.result));
    }
}

}  // namespace kaddr::cli
