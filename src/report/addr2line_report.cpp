#include <cstdio>

#include "kaddr/report.h"

namespace kaddr {

namespace {

std::string file_line(const SourceLocation& l, bool basenames) {
    if (l.file.empty()) return "??:0";
    std::string file = l.file;
    if (basenames)
        if (auto slash = file.rfind('/'); slash != std::string::npos) file.erase(0, slash + 1);
    return file + ":" + std::to_string(l.line);
}

}  // namespace

void print_addr2line(std::ostream& out, const Resolution& r, const Addr2lineStyle& style) {
    if (style.addresses) {
        // addr2line pads to the address width of the file: 16 digits on 64-bit.
        char buf[24];
        std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(r.address.value_or(0)));
        out << buf << (style.pretty ? ": " : "\n");
    }
    std::vector<SourceLocation> locs = r.locations;
    if (locs.empty()) {  // no line table: addr2line still names the function when it has a symbol
        SourceLocation unknown;
        unknown.function = r.symbol;
        locs.push_back(unknown);
    }
    if (!style.inlines) locs.resize(1);
    for (std::size_t i = 0; i < locs.size(); ++i) {
        const std::string fn = locs[i].function.empty() ? "??" : locs[i].function;
        if (style.pretty) {
            if (i) out << " (inlined by) ";
            if (style.functions) out << fn << " at ";
            out << file_line(locs[i], style.basenames) << "\n";
        } else {
            if (style.functions) out << fn << "\n";
            out << file_line(locs[i], style.basenames) << "\n";
        }
    }
}

}  // namespace kaddr
