#include "kaddr/code_report.h"

#include <algorithm>
#include <map>
// The JSON record of one crash report (schema/kaddr-record.schema.json,
// "report"); frames and the fault address are address records.
#include "kaddr/json_schema.h"
#include "kaddr/oops_report.h"
#include "kaddr/report.h"

namespace kaddr {

using nlohmann::json;

namespace {

json opt(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
template <class T>
json opt(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

// A note that two or more frames carry (the same sentence on each: "not
// resolved with the kernel files given: no vmlinux ...") is written once,
// in the report's frame_notes; such frames list the indices of theirs in
// shared_notes and keep only their own in notes.
json hoist_frame_notes(json& frames) {
    std::map<std::string, std::size_t> carried;
    for (const auto& f : frames)
        for (const auto& n : f["notes"]) ++carried[n.get<std::string>()];
    json shared = json::array();
    std::map<std::string, std::size_t> index;
    for (auto& f : frames) {
        json own = json::array(), refs = json::array();
        for (const auto& n : f["notes"]) {
            const std::string s = n.get<std::string>();
            if (carried[s] < 2) {
                own.push_back(n);
                continue;
            }
            auto [it, added] = index.emplace(s, shared.size());
            if (added) shared.push_back(s);
            refs.push_back(it->second);
        }
        f["notes"] = std::move(own);
        if (!refs.empty()) f["shared_notes"] = std::move(refs);
    }
    return shared;
}

// The region assumption every kernel frame states (the architecture's
// address map they were placed in) is written once, as the report's
// frame_region_assumption; frames that share it say null.
json hoist_region_assumption(json& frames) {
    std::map<std::string, std::size_t> seen;
    for (const auto& f : frames)
        if (f["region_assumption"].is_string()) ++seen[f["region_assumption"].get<std::string>()];
    if (seen.empty()) return nullptr;
    const auto most = std::max_element(seen.begin(), seen.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    if (most->second < 2) return nullptr;
    for (auto& f : frames)
        if (f["region_assumption"] == most->first) f["region_assumption"] = nullptr;
    return most->first;
}

}  // namespace

json oops_to_json(const ExplainedReport& e) {
    const OopsReport& r = e.report;
    json j;
    j["schema_version"] = kJsonSchemaVersion;
    j["record"] = "report";
    j["kind"] = kind_name(r.kind);
    j["title"] = e.title;
    if (std::string syz = syzkaller_title(e); !syz.empty()) j["syzkaller_title"] = std::move(syz);
    j["headline"] = r.headline;
    j["cpu"] = opt(r.cpu);
    j["pid"] = opt(r.pid);
    j["comm"] = opt(r.comm);
    j["release"] = opt(r.release);
    j["hardware"] = opt(r.hardware);
    json taint = json::array();
    for (const auto& t : decode_taint(r.taint)) taint.push_back({{"letter", std::string(1, t.letter)}, {"meaning", t.meaning}});
    j["taint"] = std::move(taint);
    j["fault_address"] = e.fault ? to_json(*e.fault) : json(nullptr);
    j["code"] = r.code.empty() ? json(nullptr)
                               : json({{"text", r.code},
                                       {"check", e.code_check ? code_check_json(*e.code_check) : json(nullptr)},
                                       {"disassembly", e.code_listing ? code_listing_json(*e.code_listing) : json(nullptr)}});
    j["reported_at"] = r.bug_file.empty() ? json(nullptr)
                                          : json({{"file", r.bug_file},
                                                  {"line", r.bug_line > 0 ? json(r.bug_line) : json(nullptr)},
                                                  {"function", r.warn_function.empty() ? json(nullptr) : json(r.warn_function)}});
    if (e.guilty) {
        const ExplainedFrame& g = e.frames[*e.guilty];
        const auto& locs = g.resolution.locations;
        j["guilty"] = {{"function", e.guilty_function},
                       {"module", g.resolution.module ? json(*g.resolution.module) : json(nullptr)},
                       {"file", locs.empty() ? json(nullptr) : json(locs.front().file)},
                       {"line", locs.empty() || locs.front().line <= 0 ? json(nullptr) : json(locs.front().line)},
                       {"frame", *e.guilty},
                       {"confidence", e.guilty_low_confidence ? "low" : "normal"}};
    } else if (!e.guilty_function.empty()) {  // named by the headline, no frame printed
        j["guilty"] = {{"function", e.guilty_function}, {"module", nullptr}, {"file", nullptr}, {"line", nullptr},
                       {"frame", nullptr}};
    } else {
        j["guilty"] = nullptr;
    }
    j["modules"] = r.modules;
    j["kernel_offset"] = r.kernel_offset ? json(hex(static_cast<std::uint64_t>(*r.kernel_offset))) : json(nullptr);
    j["complete"] = r.complete;
    j["corrupted"] = r.corrupted;
    j["corrupted_reason"] = r.corrupted ? json(r.corrupted_reason) : json(nullptr);
    json frames = json::array();
    for (const auto& f : e.frames) {
        json fj = to_json(f.resolution);
        fj["raw"] = r.lines[f.frame.line].raw;
        fj["stack"] = opt(f.frame.stack);
        fj["reliable"] = f.frame.reliable;
        // A link-register line is a return address, like a call trace frame.
        fj["address_kind"] = f.frame.kind == FrameKind::Pc ? "pc" : "return";
        if (const auto& s = f.frame.symbol) {  // what the report itself printed
            const bool decoded = f.frame.decoded;
            fj["printed"] = {{"function", s->name},
                             {"offset", decoded ? json(nullptr) : json(s->offset)},
                             {"size", s->size ? json(*s->size) : json(nullptr)},
                             {"module", opt(s->module)}};
            if (decoded) {
                json source = json::array();
                for (const auto& at : f.frame.decoded_source)
                    source.push_back({{"file", at.file}, {"line", at.line}, {"column", at.column}});
                fj["printed"]["source"] = std::move(source);
            }
        } else
            fj["printed"] = nullptr;
        frames.push_back(std::move(fj));
    }
    j["frame_notes"] = hoist_frame_notes(frames);
    j["frame_region_assumption"] = hoist_region_assumption(frames);
    j["frames"] = std::move(frames);
    j["kernel_frames"] = e.kernel_frames;
    j["resolved_frames"] = e.resolved_frames;
    return j;
}

}  // namespace kaddr
