// The version of kaddr's JSON records (schema/kaddr-record.schema.json).
// Every record carries it as "schema_version". It changes when a field is
// removed, renamed or changes type; adding a field does not change it.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace kaddr {

inline constexpr int kJsonSchemaVersion = 1;

// {"code": CODE, "message": MESSAGE}: codes are stable, messages are prose.
nlohmann::json error_json(std::string_view code, const std::string& message);

}  // namespace kaddr
