#include "kaddr/report_facts.h"

#include <algorithm>
#include <set>

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

}  // namespace kaddr
