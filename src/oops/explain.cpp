#include "kaddr/oops_explain.h"

namespace kaddr {

namespace {

Resolution resolve_frame(const OopsFrame& f, const Resolver& resolver) {
    const AddressKind kind = f.kind == FrameKind::Pc ? AddressKind::Precise : AddressKind::Return;
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

}  // namespace

ExplainedReport explain(OopsReport report, const Resolver& resolver) {
    ExplainedReport out;
    const Blame b = blame(report);  // first: it may add lockdep's site as a frame
    for (const auto& f : report.frames) {
        ExplainedFrame ef{f, resolve_frame(f, resolver)};
        ef.resolution.input = std::string(trim(report.lines[f.line].text));
        if (!f.user) ++out.kernel_frames;
        if (!f.user && ef.resolution.resolved()) ++out.resolved_frames;
        out.frames.push_back(std::move(ef));
    }
    out.guilty = b.frame;
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
    return out;
}

}  // namespace kaddr
