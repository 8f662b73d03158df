#include "kaddr/time_budget.h"

namespace kaddr {

namespace {
thread_local std::optional<BudgetClock::time_point> t_deadline;
}

BudgetScope::BudgetScope(std::optional<BudgetClock::time_point> deadline) : previous_(t_deadline) {
    t_deadline = deadline;
}

BudgetScope::~BudgetScope() { t_deadline = previous_; }

void check_time_budget() {
    if (t_deadline && BudgetClock::now() > *t_deadline) throw TimeBudgetExceeded("the input took longer than its time budget");
}

}  // namespace kaddr
