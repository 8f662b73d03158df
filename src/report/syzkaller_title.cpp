// syzkaller's names for the kinds kaddr titles differently: one table of
// (kaddr's title prefix, syzkaller's), checked against the TITLE lines of
// syzkaller's own report corpus (tests/test_syzkaller_title.cpp).
#include <regex>

#include "kaddr/oops_report.h"

namespace kaddr {

namespace {

struct Rename {
    std::regex kaddr;        // the whole prefix of kaddr's title (before " in ")
    const char* syzkaller;   // its syzkaller name
};

const std::vector<Rename>& renames() {
    static const std::vector<Rename> t = [] {
        const std::pair<const char*, const char*> rows[] = {
            {"BUG: unable to handle page fault", "BUG: unable to handle kernel paging request"},
            {"BUG: kernel NULL pointer dereference", "BUG: unable to handle kernel NULL pointer dereference"},
            {"possible circular locking dependency detected", "possible deadlock"},
            {"possible recursive locking detected", "possible deadlock"},
            {"(HARD|SOFT)IRQ-safe -> (HARD|SOFT)IRQ-unsafe lock order detected", "possible deadlock"},
            {"(WARNING: )?suspicious RCU usage\\.?", "WARNING: suspicious RCU usage"},
            {"INFO: suspicious RCU usage\\.?", "INFO: suspicious RCU usage"},
            {"UBSAN: Undefined behaviour", "UBSAN: undefined-behaviour"},
            {"INFO: trying to register non-static key\\.", "INFO: trying to register non-static key"},
            {"BUG: bad unlock balance detected!", "BUG: bad unlock balance"},
            {"bad unlock balance detected!", "WARNING: bad unlock balance"},
            {"inconsistent lock state", "inconsistent lock state"},
        };
        std::vector<Rename> v;
        for (const auto& [k, s] : rows) v.push_back({std::regex(k), s});
        return v;
    }();
    return t;
}

// KASAN titles carry the access: "KASAN: use-after-free Read in f".
std::string kasan_access(const OopsReport& r) {
    static const std::regex access(R"(^(Read|Write) of size \d+)");
    std::smatch m;
    for (const auto& l : r.lines)
        if (std::regex_search(l.text, m, access)) return " " + m[1].str();
    return "";
}

}  // namespace

std::string syzkaller_title(const ExplainedReport& e) {
    const std::size_t in = e.title.rfind(" in ");
    std::string prefix = e.title.substr(0, in);
    const std::string rest = in == std::string::npos ? "" : e.title.substr(in);
    for (const auto& r : renames())
        if (std::regex_match(prefix, r.kaddr)) {
            prefix = r.syzkaller;
            break;
        }
    if (prefix.rfind("KASAN: ", 0) == 0 && !prefix.ends_with(" Read") && !prefix.ends_with(" Write"))
        prefix += kasan_access(e.report);
    const std::string title = prefix + rest;
    return title == e.title ? "" : title;
}

}  // namespace kaddr
