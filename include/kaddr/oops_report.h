// Formatters for explained crash reports: the report as given with each
// frame annotated (file:line and inline chain), then a short summary; or one
// JSON object per report.
#pragma once
#include <nlohmann/json.hpp>
#include <ostream>

#include "kaddr/oops_explain.h"

namespace kaddr {

void print_oops_text(std::ostream& out, const ExplainedReport& r);
nlohmann::json oops_to_json(const ExplainedReport& r);

}  // namespace kaddr
