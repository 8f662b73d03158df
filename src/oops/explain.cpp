#include "kaddr/oops_explain.h"

#include "kaddr/time_budget.h"

namespace kaddr {

namespace {

Resolution resolve_frame(const OopsFrame& f, const Resolver& resolver) {
    const AddressKind kind = f.kind == FrameKind::Pc ? AddressKind::Precise : AddressKind::Return;  // lr: a return address
    if (f.user) {
        Resolution r;
        r.input = f.address ? hex(*f.address) : "";
        r.address = f.address;
        r.region = r.static_region = "user";
        r.error = "user-space pc: not in the kernel";
        r.error_code = ResolveErrorCode::UserAddress;
        r.kind = kind;
        return r;
    }
    // A decoded frame printed its source lines, not its offset: the symbol's
    // start would be another line (and, as a return address, the previous
    // function). Its printed lines are the answer (fill_as_printed).
    if (f.decoded && !f.address) {
        Resolution r;
        r.kind = kind;
        r.error = "decoded frame: its source lines were printed instead of its offset (scripts/decode_stacktrace.sh)";
        return r;
    }
    // The printed symbol+offset is what the kernel computed at crash time; it
    // needs no KASLR knowledge, so it is preferred over the raw address.
    if (f.symbol) {
        Resolution r = resolver.resolve_symbol(*f.symbol, kind);
        if (!r.error || !f.address) {
            if (f.address && r.address && *r.address != *f.address && resolver.snapshot().has_kallsyms)
                r.notes.push_back("printed address " + hex(*f.address) + " differs from " + hex(*r.address) +
                                  " (kallsyms): is the capture from another boot?");
            if (kind == AddressKind::Return && f.symbol->offset == 0)
                r.notes.push_back("return address at the start of " + f.symbol->name +
                                  ": the call site ends the previous function (a call to a noreturn function, or entry code)");
            if (!f.symbol->build_id.empty()) {
                if (const Module* m = resolver.snapshot().module_named(f.symbol->module); m && m->ko &&
                    !m->ko->build_id().empty() && m->ko->build_id().rfind(f.symbol->build_id, 0) != 0)
                    r.notes.push_back("BUILD-ID MISMATCH: the report names " + f.symbol->build_id + " but " +
                                      m->ko->path() + " has " + m->ko->build_id());
            }
            return r;
        }
    }
    return resolver.resolve_address(*f.address, kind);
}

// What the report printed is knowledge of its own: when no kernel file
// answers for a frame, the printed function, offset, size and module stand,
// marked as such, instead of an empty answer.
void fill_as_printed(Resolution& r, const OopsFrame& f) {
    if (!f.symbol || f.user || (!r.error && !r.symbol.empty())) return;
    // A debug file proven to be another build's is an error, not a gap.
    if (r.error_code == ResolveErrorCode::DebugFileMismatch) return;
    if (f.decoded && r.error) r.notes.push_back(*r.error);
    else if (r.error) r.notes.push_back("not resolved with the kernel files given: " + *r.error);
    r.error.reset();
    // The decoder's lines, innermost first: only the outermost names its
    // function (addr2line -i without -f).
    for (const auto& at : f.decoded_source) r.locations.push_back({"", at.file, at.line, at.column});
    if (!r.locations.empty()) r.locations.back().function = f.symbol->name;
    r.symbol = f.symbol->name;
    r.offset = f.symbol->offset;
    if (f.symbol->size) r.size = r.span = *f.symbol->size;
    r.size_kind = f.symbol->size ? "as-printed" : "";
    if (!f.symbol->module.empty()) r.module = f.symbol->module;
    if (r.region.empty()) r.region = f.symbol->module.empty() ? "kernel" : "module";
    if (f.decoded) r.found_by.push_back("source lines decoded in the report (decode_stacktrace.sh)");
    r.found_by.push_back("report text");
    r.confidence = "as-printed";
}

}  // namespace

ExplainedReport explain(OopsReport report, const Resolver& resolver) {
    ExplainedReport out;
    const Blame b = blame(report);  // first: it may add lockdep's site as a frame
    for (const auto& f : report.frames) {
        check_time_budget();
        ExplainedFrame ef{f, resolve_frame(f, resolver)};
        ef.resolution.input = std::string(trim(report.lines[f.line].text));
        if (!f.user) ++out.kernel_frames;
        if (!f.user && ef.resolution.resolved()) ++out.resolved_frames;  // by the kernel files, not the text
        fill_as_printed(ef.resolution, f);
        out.frames.push_back(std::move(ef));
    }
    out.guilty = b.frame;
    out.guilty_low_confidence = b.low_confidence;
    std::string fn = b.function;
    if (out.guilty && fn == frame_function(report.frames[*out.guilty])) {
        // With DWARF, name the innermost inlined function at that frame.
        const auto& locs = out.frames[*out.guilty].resolution.locations;
        if (!locs.empty() && !locs.front().function.empty() && !is_reporting_machinery(locs.front().function))
            fn = locs.front().function;
    }
    out.guilty_function = fn;
    out.title = report_title(report, fn);
    if (report.fault_address) {
        out.fault = resolver.resolve_address(*report.fault_address);
        out.fault->input = hex(*report.fault_address);
    }
    out.report = std::move(report);
    if (!out.report.code.empty()) {
        out.code_check = check_report_code(resolver.snapshot(), out);
        out.code_listing = disassemble_report_code(resolver.snapshot(), out);
        // The crashed kernel's own bytes differ from the file's: every
        // answer from that file is doubtful.
        if (out.code_check->verdict == CodeVerdict::Mismatch)
            for (auto& f : out.frames)
                if (out.code_check->covers(f.resolution)) {
                    f.resolution.confidence = "guess";
                    f.resolution.notes.push_back("CODE MISMATCH: " + out.code_check->advice());
                }
    }
    return out;
}

}  // namespace kaddr
