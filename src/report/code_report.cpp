#include "kaddr/code_report.h"

#include <iomanip>
#include <sstream>

#include "kaddr/lexemes.h"
#include "kaddr/report.h"

namespace kaddr {

namespace {

std::string hex_bytes(const std::vector<std::uint8_t>& b) {
    std::ostringstream s;
    for (std::size_t i = 0; i < b.size(); ++i)
        s << (i ? " " : "") << std::hex << std::setw(2) << std::setfill('0') << static_cast<unsigned>(b[i]);
    return s.str();
}

std::string signed_hex(std::int64_t v) {
    return (v < 0 ? "-" : "+") + hex(static_cast<std::uint64_t>(v < 0 ? -v : v));
}

std::string masked_summary(const CodeCheck& c) {
    std::string s;
    for (std::size_t k = 0; k < c.masked_by.size(); ++k)
        if (c.masked_by[k])
            s += (s.empty() ? "" : ", ") + std::string(patch_kind_name(static_cast<PatchKind>(k))) + " " +
                 std::to_string(c.masked_by[k]);
    return s;
}

}  // namespace

void print_code_check(std::ostream& out, const CodeCheck& c, const std::string& indent) {
    switch (c.verdict) {
        case CodeVerdict::Match:
            out << indent << "code check: the Code: bytes match " << c.file << " (" << c.compared << " bytes compared, "
                << c.masked << " masked at patch sites: " << masked_summary(c) << ")\n";
            break;
        case CodeVerdict::Mismatch:
            out << indent << "CODE MISMATCH: " << c.detail;
            if (c.first_difference)
                out << "; first at pc" << signed_hex(*c.first_difference) << ": the report has "
                    << hex_bytes({c.reported_byte}) << ", the file " << hex_bytes({c.file_byte});
            out << "\n" << indent << "  " << c.advice() << "\n";
            break;
        case CodeVerdict::NotChecked:
            out << indent << "code check: not made (" << code_skip_name(c.skip) << ": " << c.detail << ")\n";
            break;
    }
    for (const auto& n : c.notes) out << indent << "  note: " << n << "\n";
}

void print_code_listing(std::ostream& out, const CodeListing& l, const std::string& indent) {
    if (!l.ok()) {
        out << indent << "code: not disassembled (" << code_parse_error_name(l.error)
            << (l.detail.empty() ? "" : ": " + l.detail) << ")\n";
        return;
    }
    out << indent << "code: " << arch_name(l.arch) << (l.thumb ? " (Thumb)" : "");
    if (l.skipped) out << ", first " << l.skipped << " bytes skipped (an instruction cut off)";
    out << "\n";
    for (const auto& i : l.instructions) {
        std::ostringstream line;
        line << indent << (i.faulting ? "==> " : "    ") << std::setw(7) << std::left << signed_hex(i.offset) << " ";
        if (i.address) line << hex(*i.address) << "  ";
        line << std::setw(22) << std::left << hex_bytes(i.bytes) << " ";
        if (i.decoded) line << std::setw(32) << std::left << (i.mnemonic + (i.operands.empty() ? "" : " " + i.operands));
        // Undecodable at the end of the line: an instruction the kernel cut off.
        else line << std::setw(32) << std::left << (&i == &l.instructions.back() ? "(cut off)" : "(bad)");
        if (!i.source.empty()) {
            const auto& s = i.source.front();
            line << " " << s.file << ":" << s.line;
            if (!s.function.empty()) line << " (" << s.function << ")";
        }
        std::string text = line.str();
        while (!text.empty() && text.back() == ' ') text.pop_back();
        out << text << "\n";
    }
}

nlohmann::json code_check_json(const CodeCheck& c) {
    nlohmann::json j = {{"verdict", code_verdict_name(c.verdict)},
                        {"reported", c.reported},
                        {"compared", c.compared},
                        {"masked", c.masked},
                        {"outside", c.outside}};
    if (c.skip != CodeSkip::None) j["reason"] = code_skip_name(c.skip);
    if (!c.detail.empty()) j["detail"] = c.detail;
    if (!c.file.empty()) {
        j["file"] = c.file;
        j["module"] = c.module ? nlohmann::json(*c.module) : nlohmann::json(nullptr);
        j["section"] = c.section;
        j["section_offset"] = hex(c.section_offset);
    }
    nlohmann::json by = nlohmann::json::object();
    for (std::size_t k = 0; k < c.masked_by.size(); ++k)
        if (c.masked_by[k]) by[std::string(patch_kind_name(static_cast<PatchKind>(k)))] = c.masked_by[k];
    j["masked_by"] = by;
    if (c.first_difference) {
        j["first_difference"] = *c.first_difference;
        j["reported_byte"] = hex_bytes({c.reported_byte});
        j["file_byte"] = hex_bytes({c.file_byte});
        j["differing"] = c.differing;
    }
    if (c.verdict == CodeVerdict::Mismatch) j["advice"] = c.advice();
    if (!c.notes.empty()) j["notes"] = c.notes;
    return j;
}

nlohmann::json code_listing_json(const CodeListing& l) {
    nlohmann::json j = {{"arch", arch_name(l.arch)}, {"thumb", l.thumb}};
    if (!l.ok()) {
        j["error"] = code_parse_error_name(l.error);
        if (!l.detail.empty()) j["detail"] = l.detail;
        return j;
    }
    j["skipped"] = l.skipped;
    nlohmann::json insns = nlohmann::json::array();
    for (const auto& i : l.instructions) {
        nlohmann::json x = {{"offset", i.offset}, {"bytes", hex_bytes(i.bytes)}, {"faulting", i.faulting}, {"decoded", i.decoded}};
        if (i.address) x["address"] = hex(*i.address);
        if (i.decoded) {
            x["mnemonic"] = i.mnemonic;
            x["operands"] = i.operands;
        }
        nlohmann::json src = nlohmann::json::array();
        for (const auto& s : i.source) src.push_back(to_json(s));
        if (!src.empty()) x["source"] = src;
        insns.push_back(std::move(x));
    }
    j["instructions"] = insns;
    return j;
}

}  // namespace kaddr
