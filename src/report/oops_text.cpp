#include <algorithm>

#include "kaddr/code_report.h"
#include "kaddr/oops_report.h"
#include "kaddr/report.h"

namespace kaddr {

void print_oops_text(std::ostream& out, const ExplainedReport& e) {
    const OopsReport& r = e.report;
    std::vector<const ExplainedFrame*> by_line(r.lines.size(), nullptr);
    for (const auto& f : e.frames) by_line[f.frame.line] = &f;
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
        out << r.lines[i].raw << "\n";
        const ExplainedFrame* f = by_line[i];
        if (!f) continue;
        const Resolution& res = f->resolution;
        if (res.error) {
            out << "        [kaddr: " << *res.error << "]\n";
        } else if (res.locations.empty()) {
            out << "        [kaddr: " << res.symbol << "+" << hex(res.offset)
                << (res.confidence == "as-printed" && res.size ? "/" + hex(res.size) : std::string())
                << (res.module ? " [" + *res.module + "]" : std::string())
                << (res.confidence == "as-printed" ? ", as printed (no kernel file given knows it)]\n" : ", symbol only]\n");
        } else {
            print_locations(out, res.locations, "        ");
        }
    }
    out << "== kaddr: " << e.title << " ==\n";
    if (!e.guilty && !e.guilty_function.empty()) out << "  guilty: " << e.guilty_function << " (named by the report)\n";
    if (e.guilty) {
        const ExplainedFrame& g = e.frames[*e.guilty];
        const Resolution& res = g.resolution;
        out << "  guilty: " << e.guilty_function;
        if (res.module) out << " [" << *res.module << "]";
        if (!res.locations.empty()) {
            const auto& l = res.locations.front();
            out << " at " << l.file << ":" << l.line;
            if (l.column) out << ":" << l.column;
            if (res.locations.size() > 1) out << " (in " << l.function << ", inlined)";
        }
        out << "\n";
    }
    if (!r.bug_file.empty()) out << "  reported at: " << r.bug_file << ":" << r.bug_line << "\n";
    if (e.fault) {
        out << "  fault address: " << hex(*r.fault_address);
        if (e.fault->resolved()) {
            out << " = " << e.fault->symbol << "+" << hex(e.fault->offset);
            if (e.fault->module) out << " [" << *e.fault->module << "]";
            if (!e.fault->section.empty()) out << " " << e.fault->section;
        } else if (!e.fault->region.empty()) {
            out << " (" << e.fault->region << ")";
        }
        out << "\n";
    }
    if (!r.taint.empty()) {
        out << "  taint:";
        for (const auto& t : decode_taint(r.taint)) out << " " << t.letter << " (" << t.meaning << ")";
        out << "\n";
    }
    if (e.code_check) print_code_check(out, *e.code_check, "  ");
    if (e.code_listing) print_code_listing(out, *e.code_listing, "  ");
    std::vector<std::string> notes;  // each once, not on every frame
    for (const auto& f : e.frames)
        for (const auto& n : f.resolution.notes)
            if (std::find(notes.begin(), notes.end(), n) == notes.end()) notes.push_back(n);
    for (const auto& n : notes) out << "  note: " << n << "\n";
    if (r.corrupted) out << "  damaged: " << r.corrupted_reason << "\n";
    out << "  kernel frames: " << e.kernel_frames << ", resolved " << e.resolved_frames;
    if (!r.complete) out << "; the report is cut off (no end marker)";
    out << "\n\n";
}

}  // namespace kaddr
