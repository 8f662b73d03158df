#include <sstream>

#include "kaddr/error.h"
#include "kaddr/inputs.h"
#include "kaddr/lexemes.h"

namespace kaddr {

std::vector<ProcModule> parse_proc_modules(std::istream& in, const std::string& file) {
    std::vector<ProcModule> out;
    LineReader reader(in, file);
    std::string line;
    while (reader.next(line)) {
        if (trim(line).empty()) continue;
        std::istringstream words(line);
        std::string name, size, refs, deps, state, base, taint;
        words >> name >> size >> refs >> deps >> state >> base;
        std::getline(words, taint);
        auto sz = parse_number(size);
        auto b = parse_hex(base);
        if (name.empty() || !sz || !b || state.empty())
            throw Error(reader.where(), "not a /proc/modules line: '" + line.substr(0, 80) + "'",
                        "expected 'name size refcount deps state base'");
        ProcModule m;
        m.name = canonical_module_name(name);
        m.size = *sz;
        m.base = *b;
        m.state = state;
        std::string_view t = trim(taint);
        if (t.size() >= 2 && t.front() == '(' && t.back() == ')') t = t.substr(1, t.size() - 2);
        m.taint.assign(t);
        if (m.base == 0)
            throw Error(reader.where(), "module " + m.name + " has base address 0",
                        "/proc/modules was read without privilege (kptr_restrict); capture it as root");
        out.push_back(std::move(m));
    }
    return out;
}

}  // namespace kaddr
