#include "kaddr/lexemes.h"
#include "kaddr/report.h"

namespace kaddr {

using nlohmann::json;

std::string json_line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }

json to_json(const SourceLocation& l) {
    return {{"function", l.function.empty() ? json(nullptr) : json(l.function)},
            {"file", l.file.empty() ? json(nullptr) : json(l.file)},
            {"line", l.line},
            {"column", l.column}};
}

json to_json(const Resolution& r) {
    json j;
    j["input"] = r.input;
    j["address"] = r.address ? json(hex(*r.address)) : json(nullptr);
    j["lookup_address"] = r.lookup ? json(hex(*r.lookup)) : json(nullptr);
    j["region"] = r.region.empty() ? json(nullptr) : json(r.region);
    j["region_assumption"] = r.region_assumption.empty() ? json(nullptr) : json(r.region_assumption);
    j["module"] = r.module ? json(*r.module) : json(nullptr);
    j["section"] = r.section.empty() ? json(nullptr) : json(r.section);
    j["section_offset"] = r.section_offset ? json(hex(*r.section_offset)) : json(nullptr);
    j["symbol"] = r.symbol.empty() ? json(nullptr) : json(r.symbol);
    j["offset"] = r.offset;
    j["size"] = r.size;
    j["size_kind"] = r.size_kind.empty() ? json(nullptr) : json(r.size_kind);
    j["span"] = r.symbol.empty() ? json(nullptr) : json(r.span);
    j["aliases"] = r.aliases;
    json locs = json::array();
    for (const auto& l : r.locations) locs.push_back(to_json(l));
    j["locations"] = std::move(locs);
    j["found_by"] = r.found_by;
    j["confidence"] = r.confidence.empty() ? json(nullptr) : json(r.confidence);
    if (!r.candidates.empty()) {
        json c = json::array();
        for (const auto& x : r.candidates)
            c.push_back({{"module", x.module.empty() ? json(nullptr) : json(x.module)},
                         {"address", hex(x.address)},
                         {"size", x.size},
                         {"file", x.file.empty() ? json(nullptr) : json(x.file)},
                         {"line", x.line}});
        j["candidates"] = std::move(c);
    }
    j["notes"] = r.notes;
    j["error"] = r.error ? json(*r.error) : json(nullptr);
    return j;
}

}  // namespace kaddr
