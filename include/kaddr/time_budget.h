// A per-input time budget for long-lived stages (`kaddr batch
// --time-budget`): the thread working on an input sets a deadline, and the
// parser and explain() check it between lines and frames. An input over
// its budget ends with TimeBudgetExceeded (an error record), and the stage
// goes on with the next input. The check is cooperative: one long libdw
// call is not interrupted, it is noticed when it returns.
#pragma once
#include <chrono>
#include <optional>
#include <stdexcept>

namespace kaddr {

using BudgetClock = std::chrono::steady_clock;

class TimeBudgetExceeded : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Sets this thread's deadline for its lifetime (none: no deadline), and
// restores the previous one after.
class BudgetScope {
public:
    explicit BudgetScope(std::optional<BudgetClock::time_point> deadline);
    ~BudgetScope();
    BudgetScope(const BudgetScope&) = delete;
    BudgetScope& operator=(const BudgetScope&) = delete;

private:
    std::optional<BudgetClock::time_point> previous_;
};

// Throws TimeBudgetExceeded when this thread's deadline has passed.
void check_time_budget();

}  // namespace kaddr
