#include "kaddr/batch_stage.h"

#include <filesystem>

#include "../model/debug_tree.h"
#include "kaddr/error.h"
#include "kaddr/json_schema.h"
#include "kaddr/oops_report.h"
#include "kaddr/report.h"
#include "kaddr/report_facts.h"
#include "kaddr/resolver.h"
#include "kaddr/version.h"
#include "kaddr/vmcore_explain.h"

namespace kaddr {

using nlohmann::json;

std::string_view input_error_code_name(InputErrorCode c) {
    switch (c) {
        case InputErrorCode::Unreadable: return "unreadable-input";
        case InputErrorCode::TimeBudgetExceeded: return "time-budget-exceeded";
        case InputErrorCode::BadRequest: return "bad-request";
    }
    return "unreadable-input";
}

json input_error_json(const std::string& source, InputErrorCode code, const std::string& message) {
    return {{"schema_version", kJsonSchemaVersion},
            {"record", "input-error"},
            {"source_file", source},
            {"kaddr_version", kVersion},
            {"error", error_json(input_error_code_name(code), message)}};
}

BatchRequest parse_request(std::string_view line) {
    const json j = json::parse(line, nullptr, false);
    auto bad = [](const std::string& why) { return Error("request", why, "a line is {\"path\": FILE} or {\"id\": NAME, \"text\": TEXT}"); };
    if (j.is_discarded()) throw bad("not JSON");
    if (!j.is_object()) throw bad("not a JSON object");
    for (const auto& [k, v] : j.items())
        if (k != "path" && k != "id" && k != "text" && k != "time") throw bad("unknown field \"" + k + "\"");
    auto field = [&](const char* k) -> std::optional<std::string> {
        const auto it = j.find(k);
        if (it == j.end()) return std::nullopt;
        if (!it->is_string()) throw bad(std::string("\"") + k + "\" is not a string");
        return it->get<std::string>();
    };
    BatchRequest r;
    const auto path = field("path"), id = field("id"), text = field("text"), time = field("time");
    if (path.has_value() == text.has_value()) throw bad("exactly one of \"path\" and \"text\" is needed");
    if (text && (!id || id->empty())) throw bad("a \"text\" request needs an \"id\"");
    if (path && path->empty()) throw bad("\"path\" is empty");
    r.path = path.value_or("");
    r.text = text;
    r.source = path ? *path : *id;
    if (time) {
        r.time = leading_iso_time(*time);
        if (r.time.empty()) throw bad("\"time\" is not ISO 8601 (YYYY-MM-DDTHH:MM:SS...)");
    }
    return r;
}

namespace {

// A debug tree of several kernels with nothing given naming one: a store,
// in which each report's release chooses.
bool debug_store(const SnapshotInputs& in) {
    const bool names_kernel = !in.vmlinux.empty() || !in.version.empty() || !in.snapshot_dir.empty() ||
                              !in.vmcore.empty() || !in.report_release.empty();
    if (in.debug_root.empty() || names_kernel) return false;
    try {
        return DebugTree(in.debug_root).releases().size() > 1;
    } catch (const Error&) {
        return false;  // check_inputs() says why
    }
}

}  // namespace

BatchStage::BatchStage(SnapshotInputs in, SnapshotPool& pool, BatchOptions opt)
    : in_(std::move(in)), store_(debug_store(in_)), pool_(pool), opt_(opt) {}

namespace {

BatchResult error_result(const std::string& source, InputErrorCode code, const std::string& message) {
    BatchResult r;
    r.lines = json_line(input_error_json(source, code, message));
    r.unreadable = true;
    r.error = code;
    return r;
}

void tally(BatchResult& res, std::size_t kernel_frames, std::size_t resolved_frames) {
    ++res.reports;
    if (kernel_frames == 0 || resolved_frames == 0) ++res.failed;
    else if (resolved_frames == kernel_frames) ++res.resolved;
    else ++res.partial;
}

// The dump explains itself (its own snapshot); a dump that cannot be read
// is an error record, and the dmesg file kdump-tools saved beside it is
// explained instead, like any report file (returned for the caller to read).
std::optional<std::string> explain_kdump(const KdumpDir& k, const SnapshotInputs& in, BatchResult& res) {
    if (k.dump.empty()) return k.dmesg;
    try {
        for (auto& j : explain_dump(k.dump, in)) {
            j["kaddr_version"] = kVersion;
            res.lines += json_line(j);
            if (j.contains("kernel_frames")) tally(res, j["kernel_frames"], j["resolved_frames"]);
        }
        return std::nullopt;
    } catch (const TimeBudgetExceeded&) {
        throw;
    } catch (const std::exception& ex) {
        json e = input_error_json(k.dump, InputErrorCode::Unreadable, ex.what());
        if (!k.dmesg.empty()) e["fallback"] = k.dmesg;  // explained instead
        res.lines += json_line(e);
        res.unreadable = true;
        res.error = InputErrorCode::Unreadable;
        if (k.dmesg.empty()) return std::nullopt;
        return k.dmesg;
    }
}

}  // namespace

std::vector<std::string> BatchStage::check_inputs() {
    if (!store_) return pool_.get(in_)->notes;
    const DebugTree store(in_.debug_root);
    std::string list;
    for (const auto& r : store.releases()) list += (list.empty() ? "" : ", ") + r;
    return {in_.debug_root + " holds " + std::to_string(store.releases().size()) + " kernels (" + list +
            "): each report is resolved with the one of its release (a report that prints none, with that of the "
            "input's first report that does; an input that names none, with no kernel files)"};
}

BatchStage::Prepared BatchStage::prepare(const BatchRequest& req) const {
    Prepared p;
    p.req = req;
    p.id.source = req.source.empty() ? req.path : req.source;
    p.id.time = req.time;
    if (opt_.time_budget)
        p.deadline = BudgetClock::now() + std::chrono::duration_cast<BudgetClock::duration>(*opt_.time_budget);
    BudgetScope budget(p.deadline);
    try {
        std::string path = req.path;
        BatchResult pre;  // a dump's records, when the input is a crash directory
        if (!req.text) {
            std::error_code ec;
            if (std::filesystem::is_directory(path, ec)) {
                const auto k = kdump_dir(path);
                if (!k) {
                    p.head = error_result(p.id.source, InputErrorCode::Unreadable, "a directory, and no kdump-tools crash directory");
                    p.finished = true;
                    return p;
                }
                const auto dmesg = explain_kdump(*k, in_, pre);
                if (!dmesg) {
                    p.head = std::move(pre);
                    p.finished = true;
                    return p;
                }
                path = *dmesg;
                p.id.source = path;
            }
        }
        const TextFile file = req.text ? TextFile{} : read_text_file(path);
        const std::string_view text = req.text ? std::string_view(*req.text) : file.text;
        p.id.content_hash = content_hash(text);
        p.reports = parse_report_text(text);
        for (auto& r : p.reports) p.signatures.push_back(crash_signature(r));
        if (!pre.lines.empty()) p.head = std::move(pre);  // the dump's error record comes first
    } catch (const TimeBudgetExceeded& ex) {
        p.head = error_result(p.id.source, InputErrorCode::TimeBudgetExceeded, ex.what());
        p.finished = true;
    } catch (const std::exception& ex) {
        p.head = error_result(p.id.source, InputErrorCode::Unreadable, ex.what());
        p.finished = true;
    }
    return p;
}

bool BatchStage::exemplar(const std::string& signature) {
    if (!opt_.exemplars) return true;
    std::lock_guard lock(mu_);
    return exemplars_[signature]++ < *opt_.exemplars;
}

void BatchStage::add_report(OopsReport r, const CrashSignature& sig, const Prepared& p, const std::string& input_release,
                            BatchResult& res) {
    const SeenKey seen = seen_key(r, p.id.source, p.id.time);
    if (!exemplar(sig.id)) {  // not symbolized: the parse is all it gets
        res.lines += json_line(summary_json(r, p.id, sig, seen));
        ++res.reports;
        return;
    }
    bool fresh = false;
    SnapshotInputs facts = with_report_facts(in_, r, p.id.source);
    if (facts.report_release.empty()) facts.report_release = input_release;  // (in a store only: see finish())
    if (store_ && facts.report_release.empty()) {
        // Nothing names its kernel: no kernel's files are used (they could be
        // any of the store's), and the record says so (kernel_inputs).
        facts.debug_root.clear();
        facts.module_dirs.clear();
        facts.ko_files.clear();
    }
    const auto snap = pool_.get(facts, &fresh);
    if (fresh) res.notes.insert(res.notes.end(), snap->notes.begin(), snap->notes.end());
    const KernelInputs kernel = kernel_inputs(facts, *snap);  // a few stat calls: not worth a cache that grows
    const Resolver resolver(*snap);
    const std::size_t line = r.first_line();
    ExplainedReport e = explain(std::move(r), resolver);
    json j = opt_.summary ? summary_json(e, p.id, kernel, sig, seen) : oops_to_json(e);
    if (!opt_.summary) add_identity(j, p.id, line, kernel, sig, seen);
    res.lines += json_line(j);
    tally(res, e.kernel_frames, e.resolved_frames);
}

BatchResult BatchStage::finish(Prepared p) {
    BatchResult res = std::move(p.head);
    if (p.finished) return res;
    BudgetScope budget(p.deadline);
    BatchResult out;
    try {
        // In a store, a report that prints no release (sysrq-t's tasks, a
        // cut report) is of the kernel the input's other reports name.
        std::string input_release;
        if (store_)
            for (const auto& r : p.reports)
                if (!r.release.empty() && input_release.empty()) input_release = r.release;
        for (std::size_t i = 0; i < p.reports.size(); ++i)
            add_report(std::move(p.reports[i]), p.signatures[i], p, input_release, out);
    } catch (const TimeBudgetExceeded& ex) {  // one record for the input, however far it got
        std::vector<std::string> notes = std::move(out.notes);
        out = error_result(p.id.source, InputErrorCode::TimeBudgetExceeded, ex.what());
        out.notes = std::move(notes);
    } catch (const std::exception& ex) {  // the reports before it stand
        const BatchResult e = error_result(p.id.source, InputErrorCode::Unreadable, ex.what());
        out.lines += e.lines;
        out.unreadable = true;
        out.error = e.error;
    }
    if (out.reports == 0 && !out.error) {  // said, not silently absent from the output
        out.lines += json_line({{"schema_version", kJsonSchemaVersion}, {"record", "no-report"}, {"source_file", p.id.source},
                                {"input_hash", p.id.content_hash}, {"kaddr_version", kVersion}, {"reports", 0}});
        out.no_report = true;
    }
    res.lines += out.lines;
    res.notes.insert(res.notes.end(), out.notes.begin(), out.notes.end());
    res.reports += out.reports;
    res.resolved += out.resolved;
    res.partial += out.partial;
    res.failed += out.failed;
    res.unreadable = res.unreadable || out.unreadable;
    res.no_report = out.no_report;
    if (!res.error) res.error = out.error;
    return res;
}

}  // namespace kaddr
