// The crashed thread as text (drgn-like frame lines with kaddr's inline
// chains) and as JSON.
#include "kaddr/json_schema.h"
#include "kaddr/lexemes.h"
#include "kaddr/report.h"
#include "kaddr/vmcore_stack.h"

namespace kaddr {

namespace {

std::string frame_symbol(const StackFrame& f) {
    if (f.kind == StackFrameKind::UserEntry) return "(user space)";
    const Resolution& r = f.where;
    if (r.symbol.empty()) return "?";
    std::string s = r.symbol + "+" + hex(r.offset) + (r.size ? "/" + hex(r.size) : std::string());
    if (r.module) s += " [" + *r.module + "]";
    return s;
}

std::string_view kind_name(StackFrameKind k) {
    switch (k) {
        case StackFrameKind::Interrupted: return "interrupted";
        case StackFrameKind::Call: return "call";
        case StackFrameKind::UserEntry: return "user";
    }
    return "?";
}

}  // namespace

void print_crashed_thread(std::ostream& out, const CpuStack& t) {
    const std::string task = t.comm.empty() ? "" : " (" + t.comm + ")";
    if (t.crashed)
        out << "== kaddr: stack of the crashed task: pid " << t.pid << task << " on CPU " << t.cpu << " (" << t.how_cpu
            << "), from the dump's NT_PRSTATUS and the " << t.how_unwound << " ==\n";
    else
        out << "== kaddr: stack of CPU " << t.cpu << ": pid " << t.pid << task << ", from the dump's NT_PRSTATUS and the "
            << t.how_unwound << " ==\n";
    if (!t.task_unread.empty()) out << "  (task: " << t.task_unread << ")\n";
    for (std::size_t i = 0; i < t.frames.size(); ++i) {
        const StackFrame& f = t.frames[i];
        std::string n = "#" + std::to_string(i);
        n.resize(4, ' ');
        out << n << frame_symbol(f) << "  pc=" << hex(f.pc) << " sp=" << hex(f.sp);
        if (f.kind != StackFrameKind::Call) out << " [" << kind_name(f.kind) << "]";
        out << "\n";
        print_locations(out, f.where.locations, "      ");
    }
    if (!t.stopped.empty()) out << "  (unwinding ended: " << t.stopped << ")\n";
}

nlohmann::json crashed_thread_json(const CpuStack& t) {
    nlohmann::json frames = nlohmann::json::array();
    for (const auto& f : t.frames) {
        nlohmann::json j = {{"pc", hex(f.pc)}, {"sp", hex(f.sp)}, {"kind", kind_name(f.kind)}};
        if (f.kind != StackFrameKind::UserEntry) j["resolution"] = to_json(f.where);
        frames.push_back(std::move(j));
    }
    nlohmann::json body = {{"pid", t.pid}, {"cpu", t.cpu}, {"frames", frames}, {"unwinding_ended", t.stopped},
                           {"unwound_by", t.how_unwound}};
    if (t.crashed) body["cpu_from"] = t.how_cpu;
    body["task"] = t.task ? nlohmann::json(hex(t.task)) : nlohmann::json();
    body["comm"] = t.comm.empty() ? nlohmann::json() : nlohmann::json(t.comm);
    if (!t.task_unread.empty()) body["task_unread"] = t.task_unread;
    const char* record = t.crashed ? "crashed_thread" : "cpu_stack";
    return {{"schema_version", kJsonSchemaVersion}, {"record", record}, {record, body}};
}

}  // namespace kaddr
