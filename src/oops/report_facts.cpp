#include "kaddr/report_facts.h"

#include <algorithm>
#include <set>

#include "kaddr/error.h"

namespace kaddr {

SnapshotInputs with_report_facts(SnapshotInputs in, const OopsReport& r, const std::string& file) {
    const std::string where = file + ":" + std::to_string(r.first_line());
    in.report_where = where;
    if (r.kernel_offset && !in.kaslr_offset) {
        in.kaslr_offset = r.kernel_offset;
        in.kaslr_offset_source = "the report's Kernel Offset line (" + where + ")";
    }
    in.report_release = r.release;
    in.report_arch = arch_from_name(r.release);
    // The first anchor of each owner places it; later ones only confirm, so
    // one per owner is kept (reports of one boot then share a snapshot).
    std::set<std::string> anchored;
    for (const auto& f : r.frames) {
        if (!f.symbol || f.user) continue;
        const std::string mod = canonical_module_name(f.symbol->module);
        if (!mod.empty()) {
            if (std::find(in.report_modules.begin(), in.report_modules.end(), mod) == in.report_modules.end())
                in.report_modules.push_back(mod);
            if (!f.symbol->build_id.empty()) in.report_build_ids.emplace(mod, f.symbol->build_id);
        }
        if (f.address && anchored.insert(mod).second)
            in.anchors.push_back({*f.address, *f.symbol, file + ":" + std::to_string(r.lines[f.line].number)});
    }
    return in;
}

SnapshotInputs with_queried_modules(SnapshotInputs in, const std::vector<std::string>& queries) {
    for (const auto& q : queries) {
        const std::string_view t = trim(q);
        if (parse_address_text(t)) continue;
        auto ref = parse_symbol_ref(t);
        if (!ref || ref->module.empty()) continue;
        const std::string mod = canonical_module_name(ref->module);
        if (std::find(in.report_modules.begin(), in.report_modules.end(), mod) == in.report_modules.end())
            in.report_modules.push_back(mod);
        if (!ref->build_id.empty()) in.report_build_ids.emplace(mod, ref->build_id);
    }
    return in;
}

QueriedSnapshot::QueriedSnapshot(SnapshotInputs in)
    : in_(std::move(in)), asked_(in_.report_modules.begin(), in_.report_modules.end()), snap_(load_snapshot(in_)) {}

bool QueriedSnapshot::cover(const std::vector<std::string>& queries) {
    const SnapshotInputs next = with_queried_modules(in_, queries);
    std::vector<std::string> fresh;  // named for the first time, and not loaded
    for (const auto& m : next.report_modules)
        if (asked_.insert(m).second && !snap_->module_named(m)) fresh.push_back(m);
    if (fresh.empty()) return false;
    // The inputs loaded before, so when a load fails a new module's file is
    // what is wrong: its queries get the error, the stream goes on. Several
    // new ones are tried together, and one by one only when that fails.
    auto load_with = [&](const std::vector<std::string>& names) {
        SnapshotInputs with = in_;
        for (const auto& m : names) {
            with.report_modules.push_back(m);
            if (auto id = next.report_build_ids.find(m); id != next.report_build_ids.end())
                with.report_build_ids.insert(*id);
        }
        try {
            snap_ = load_snapshot(with);
            in_ = std::move(with);
            return true;
        } catch (const Error& e) {
            if (names.size() == 1) snap_->missing_modules[names.front()] = {e.what()};
            return false;
        }
    };
    if (load_with(fresh)) return true;
    bool loaded = false;
    if (fresh.size() > 1)
        for (const auto& m : fresh) loaded = load_with({m}) || loaded;
    return loaded;
}

}  // namespace kaddr
