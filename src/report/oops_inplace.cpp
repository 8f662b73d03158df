#include <cctype>
#include <map>

#include "kaddr/oops_report.h"

namespace kaddr {

namespace {

// "fs/file.c:120 inlined_fn fs/x.h:7": outermost location first (the line
// in the function the frame names), then each inlined function and the
// line inside it.
std::string source_chain(const std::vector<SourceLocation>& locs) {
    auto file_line = [](const SourceLocation& l) { return (l.file.empty() ? "??" : l.file) + ":" + std::to_string(l.line); };
    std::string s = file_line(locs.back());
    for (std::size_t i = locs.size() - 1; i-- > 0;)
        s += " " + (locs[i].function.empty() ? std::string("??") : locs[i].function) + " " + file_line(locs[i]);
    return s;
}

bool symbol_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$'; }

// Where the frame's text ends in the raw line: after `name+0xOFF/0xSIZE`
// (the last such token: ARM prints the callee before `from`), else after
// the printed address, else at the end of the line.
std::size_t frame_end(const std::string& raw, const OopsFrame& f) {
    auto token_end = [&](std::size_t i) {
        while (i < raw.size() && !std::isspace(static_cast<unsigned char>(raw[i])) && raw[i] != ')' && raw[i] != '>' &&
               raw[i] != ']')
            ++i;
        return i;
    };
    if (f.symbol) {
        const std::string needle = f.symbol->name + "+";
        for (std::size_t at = raw.rfind(needle); at != std::string::npos; at = at ? raw.rfind(needle, at - 1) : std::string::npos)
            if (at == 0 || !symbol_char(raw[at - 1])) return token_end(at);
    }
    if (f.address) {
        char digits[17];
        std::snprintf(digits, sizeof digits, "%llx", static_cast<unsigned long long>(*f.address));
        for (std::size_t at = raw.find(digits); at != std::string::npos; at = raw.find(digits, at + 1)) {
            const std::size_t end = at + std::char_traits<char>::length(digits);
            if (end == raw.size() || !std::isxdigit(static_cast<unsigned char>(raw[end]))) return token_end(end);
        }
    }
    std::size_t end = raw.size();
    if (end && raw[end - 1] == '\r') --end;
    return end;
}

}  // namespace

void print_oops_inplace(std::ostream& out, const std::vector<std::string>& log,
                        const std::vector<ExplainedReport>& reports) {
    std::map<std::size_t, const ExplainedFrame*> by_line;  // 1-based line number -> its decoded frame
    for (const auto& e : reports)
        for (const auto& f : e.frames) {
            by_line[e.report.lines[f.frame.line].number] = &f;
        }
    for (std::size_t n = 1; n <= log.size(); ++n) {
        const std::string& raw = log[n - 1];
        auto it = by_line.find(n);
        if (it == by_line.end() || it->second->resolution.locations.empty()) {
            out << raw << "\n";
            continue;
        }
        const std::size_t at = frame_end(raw, it->second->frame);
        out << raw.substr(0, at) << " (" << source_chain(it->second->resolution.locations) << ")" << raw.substr(at) << "\n";
    }
}

}  // namespace kaddr
