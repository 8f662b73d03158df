#include <gelf.h>

#include <charconv>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

#include "kaddr/json_schema.h"
#include "kaddr/lexemes.h"
#include "kaddr/report.h"

namespace kaddr {

namespace {

// The text answer is appended to one string, not streamed: for 100,000
// answers the stream operators (a sentry per <<) cost more than the lookups.
struct Text {
    std::string& s;
    Text& operator<<(std::string_view v) {
        s.append(v);
        return *this;
    }
    Text& operator<<(char c) {
        s.push_back(c);
        return *this;
    }
    struct Hex {
        std::uint64_t v;
    };
    Text& operator<<(Hex h) {  // as hex() spells it, without a string per number
        char buf[19];
        s.append(hex_into(h.v, buf));
        return *this;
    }
    template <std::integral I>  // line and column numbers (chars take the overload above)
    Text& operator<<(I v) {
        char buf[24];
        const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
        s.append(buf, static_cast<std::size_t>(end - buf));
        return *this;
    }
};

void append_locations(Text out, const std::vector<SourceLocation>& locs, std::string_view indent) {
    for (std::size_t i = 0; i < locs.size(); ++i) {
        const auto& l = locs[i];
        out << indent << (l.function.empty() ? "??" : l.function) << " at " << (l.file.empty() ? "??" : l.file) << ':'
            << l.line;
        if (l.column) out << ':' << l.column;
        if (i + 1 < locs.size()) out << " (inlined)";
        out << '\n';
    }
}

}  // namespace

void print_locations(std::ostream& out, const std::vector<SourceLocation>& locs, const std::string& indent) {
    std::string s;
    append_locations(Text{s}, locs, indent);
    out << s;
}

void append_text(std::string& s, const Resolution& r) {
    using Hex = Text::Hex;
    Text out{s};
    out << r.input;
    if (r.address) {
        // " = ADDRESS" unless the input already is that address, spelt so.
        const std::size_t at = s.size();
        out << Hex{*r.address};
        const bool same = std::string_view(s).substr(at) == r.input;
        s.resize(at);
        if (!same) out << " = " << Hex{*r.address};
    }
    out << '\n';
    if (r.error) {
        out << "  error: " << *r.error << '\n';
        if (!r.region.empty()) out << "  region: " << r.region << '\n';
        for (const auto& n : r.notes) out << "  note: " << n << '\n';
        return;
    }
    if (!r.symbol.empty()) {
        out << "  " << r.symbol << '+' << Hex{r.offset} << '/' << Hex{r.size};
        if (r.module) out << " [" << *r.module << ']';
        if (!r.section.empty()) out << " in " << r.section;
        if (!r.address && r.section_offset) out << " at " << r.section << '+' << Hex{*r.section_offset};
        // The kernel prints the distance to the next symbol, not st_size.
        if (r.span && r.span != r.size) out << " (the kernel prints /" << Hex{r.span} << ')';
        if (!r.aliases.empty()) {
            out << " (also";
            for (const auto& a : r.aliases) out << ' ' << a;
            out << ')';
        }
        out << '\n';
    }
    if (!r.region.empty()) out << "  region: " << r.region << '\n';
    append_locations(out, r.locations, "  ");
    for (const auto& c : r.candidates) {
        out << "  candidate: " << Hex{c.address};
        if (!c.module.empty()) out << " [" << c.module << ']';
        out << " size " << Hex{c.size};
        if (!c.file.empty()) out << ' ' << c.file << ':' << c.line;
        out << '\n';
    }
    out << "  found by: ";
    for (std::size_t i = 0; i < r.found_by.size(); ++i) out << (i ? ", " : "") << r.found_by[i];
    out << "; confidence: " << r.confidence << '\n';
    for (const auto& n : r.notes) out << "  note: " << n << '\n';
}

void print_text(std::ostream& out, const Resolution& r) {
    std::string s;
    append_text(s, r);
    out << s;
}

void print_gdb_symbols(std::ostream& out, const Module& m) {
    if (!m.ko) {
        out << "# " << m.name << ": no .ko file found (give --modules, --ko or --debug-root)\n";
        return;
    }
    const PlacedSection* text = nullptr;
    for (const auto& s : m.sections)
        if (s.name == ".text" && is_runtime(s.placement)) text = &s;
    if (!text) {
        out << "# " << m.name << ": the load address of .text is unknown (give /proc/modules or sysfs sections)\n";
        return;
    }
    out << "# " << m.name << ": " << placement_name(m.layout) << " section addresses"
        << (m.layout == Placement::Exact          ? " (" + m.exact_from + ")"
            : m.layout_how.empty()                 ? std::string(" (reconstructed from the /proc/modules base)")
                                                   : " (reconstructed, " + m.layout_how + ")")
        << "\n";
    std::string skipped;
    out << "add-symbol-file " << m.ko->path() << " " << hex(text->addr);
    for (const auto& s : m.sections) {
        if (&s == text) continue;
        if (!is_runtime(s.placement)) {
            skipped += " " + s.name;
            continue;
        }
        out << " -s " << s.name << " " << hex(s.addr);
    }
    out << "\n";
    if (!skipped.empty()) out << "# " << m.name << ": left out (address unknown):" << skipped << "\n";
}

namespace {

std::string module_answers_from(const Module& m) {
    if (m.ko) return m.ko->path();
    if (!m.listed.empty()) return "no file: symbols from " + m.listed_from;
    return "no file, no symbols";
}

}  // namespace

void print_dump_modules(std::ostream& out, const Snapshot& snap) {
    if (!snap.vmcore) return;
    out << "== kaddr: " << snap.modules.size() << " modules in the dump (" << era_name(snap.module_memory.era) << ", "
        << snap.module_memory.how << ") ==\n";
    for (const auto& m : snap.modules) {
        out << m->name << "  " << (m->proc ? m->proc->state : std::string("?"));
        if (m->proc && !m->proc->taint.empty()) out << " (" << m->proc->taint << ")";
        out << "  " << module_answers_from(*m) << "\n";
        for (const auto& a : m->memory) out << "    " << a.name << "  " << hex(a.base) << " + " << hex(a.size) << "\n";
        out << "    sections: " << placement_name(m->layout) << " (" << (m->layout == Placement::Exact ? m->exact_from : m->layout_how)
            << ")\n";
    }
}

nlohmann::json dump_modules_json(const Snapshot& snap) {
    nlohmann::json mods = nlohmann::json::array();
    for (const auto& m : snap.modules) {
        nlohmann::json mem = nlohmann::json::array();
        for (const auto& a : m->memory) mem.push_back({{"type", a.name}, {"base", hex(a.base)}, {"size", a.size}});
        nlohmann::json j = {{"name", m->name},
                            {"state", m->proc ? nlohmann::json(m->proc->state) : nlohmann::json()},
                            {"taint", m->proc ? nlohmann::json(m->proc->taint) : nlohmann::json()},
                            {"memory", mem},
                            {"sections_from", m->layout == Placement::Exact ? m->exact_from : m->layout_how},
                            {"file", m->ko ? nlohmann::json(m->ko->path()) : nlohmann::json()},
                            {"symbols_from", m->symbols_from()}};
        mods.push_back(std::move(j));
    }
    return {{"schema_version", kJsonSchemaVersion},
            {"record", "dump_modules"},
            {"dump_modules", {{"era", era_name(snap.module_memory.era)}, {"era_from", snap.module_memory.how}, {"modules", mods}}}};
}

}  // namespace kaddr
