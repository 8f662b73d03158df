#include <filesystem>
#include <sstream>

#include "kaddr/oops_explain.h"
#include "kaddr/oops_report.h"
#include "kaddr/vmcore_explain.h"
#include "kaddr/vmcore_log.h"
#include "kaddr/vmcore_stack.h"

namespace kaddr {

namespace fs = std::filesystem;

namespace {

// What kdump-tools (dump.STAMP, dmesg.STAMP) and Fedora/RHEL's kdump
// (vmcore, vmcore-dmesg.txt) leave in a crash directory.
enum class KdumpFile { Dump, Dmesg, Other };
KdumpFile classify(const std::string& name) {
    if (name.rfind("dump.", 0) == 0 || name == "vmcore" || name == "vmcore.flat") return KdumpFile::Dump;
    if (name.rfind("dmesg.", 0) == 0 || name == "vmcore-dmesg.txt") return KdumpFile::Dmesg;
    return KdumpFile::Other;
}

}  // namespace

bool is_kdump_file_name(const std::string& name) { return classify(name) != KdumpFile::Other; }

std::optional<KdumpDir> kdump_dir(const std::string& dir) {
    KdumpDir k;
    k.dir = dir;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (!e.is_regular_file(ec)) continue;
        const std::string name = e.path().filename().string();
        switch (classify(name)) {
            case KdumpFile::Dump: k.dump = e.path().string(); break;
            case KdumpFile::Dmesg: k.dmesg = e.path().string(); break;
            case KdumpFile::Other: break;
        }
    }
    if (k.dump.empty() && k.dmesg.empty()) return std::nullopt;
    return k;
}

std::vector<nlohmann::json> explain_dump(const std::string& dump, SnapshotInputs base) {
    base.vmcore = dump;
    base.vmcore_facts = read_vmcore_facts(base);
    auto snap = load_snapshot(base);
    const Resolver resolver(*snap);
    std::vector<nlohmann::json> out;
    std::istringstream log(format_log(read_kernel_log(*snap->vmcore->dump)));
    for (auto& r : parse_reports(log)) {
        ExplainedReport e = explain(std::move(r), resolver);
        auto j = oops_to_json(e);
        j["source_file"] = dump;
        j["source_line"] = e.report.first_line();
        out.push_back(std::move(j));
    }
    auto stack = crashed_thread_json(crashed_thread(resolver));
    stack["source_file"] = dump;
    out.push_back(std::move(stack));
    return out;
}

}  // namespace kaddr
