#include "kaddr/code_report.h"
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
        if (const auto& s = f.frame.symbol)  // what the report itself printed
            fj["printed"] = {{"function", s->name},
                             {"offset", s->offset},
                             {"size", s->size ? json(*s->size) : json(nullptr)},
                             {"module", opt(s->module)}};
        else
            fj["printed"] = nullptr;
        frames.push_back(std::move(fj));
    }
    j["frames"] = std::move(frames);
    j["kernel_frames"] = e.kernel_frames;
    j["resolved_frames"] = e.resolved_frames;
    return j;
}

json input_error_json(const std::string& source_file, const std::string& message) {
    return {{"schema_version", kJsonSchemaVersion},
            {"record", "input-error"},
            {"source_file", source_file},
            {"error", error_json("unreadable-input", message)}};
}

}  // namespace kaddr
