#include "kaddr/code_bytes.h"

#include <array>

#include "kaddr/lexemes.h"

namespace kaddr {

namespace {

// What kernels print instead of bytes when the pc could not be read
// (x86 show_opcodes(), arm64 dump_kernel_instr(), ARM dump_instr()).
constexpr std::array<std::string_view, 3> kUnreadable = {
    "Unable to access opcode bytes", "Bad RIP value", "bad PC value"};

struct Token {
    std::string_view digits;
    bool fault = false;
};

// "<0f>" / "(d4210000)" -> the digits and whether it is the marked one.
Token split_token(std::string_view t) {
    if (t.size() >= 2 && ((t.front() == '<' && t.back() == '>') || (t.front() == '(' && t.back() == ')')))
        return {t.substr(1, t.size() - 2), true};
    return {t, false};
}

}  // namespace

std::string_view code_parse_error_name(CodeParseError e) {
    switch (e) {
        case CodeParseError::None: return "none";
        case CodeParseError::Empty: return "no-code-line";
        case CodeParseError::Unreadable: return "unreadable";
        case CodeParseError::NoFaultMarker: return "no-fault-marker";
        case CodeParseError::Malformed: return "malformed";
        case CodeParseError::ArchUnknown: return "arch-unknown";
    }
    return "?";
}

CodeBytes parse_code_bytes(std::string_view text, Arch arch) {
    CodeBytes out;
    text = trim(text);
    if (text.starts_with("Code:")) text = trim(text.substr(5));
    if (text.empty()) {
        out.error = CodeParseError::Empty;
        return out;
    }
    for (auto u : kUnreadable)
        if (text.find(u) != std::string_view::npos) {
            out.error = CodeParseError::Unreadable;
            out.detail = std::string(text);
            return out;
        }
    std::vector<Token> tokens;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find_first_of(" \t", pos);
        if (end == std::string_view::npos) end = text.size();
        if (end > pos) tokens.push_back(split_token(text.substr(pos, end - pos)));
        pos = end + 1;
    }
    const std::size_t width = tokens.front().digits.size();
    out.unit = static_cast<unsigned>(width / 2);
    if (width != 2 && width != 4 && width != 8) {
        out.error = CodeParseError::Malformed;
        out.detail = std::string(tokens.front().digits);
        return out;
    }
    if (width == 2) {
        out.arch = arch == Arch::Unknown ? Arch::X86_64 : arch;
    } else if (width == 4) {
        out.arch = Arch::Arm;
        out.thumb = true;
    } else if (arch == Arch::Arm64 || arch == Arch::Arm) {
        out.arch = arch;
    } else {
        out.error = CodeParseError::ArchUnknown;
        out.detail = "32-bit instruction words, and the architecture (arm64 or ARM) is not known";
        return out;
    }
    bool marked = false;
    for (const auto& t : tokens) {
        auto v = t.digits.size() == width ? parse_hex(t.digits) : std::nullopt;
        if (!v) {
            out.error = CodeParseError::Malformed;
            out.detail = std::string(t.digits);
            return out;
        }
        if (t.fault && !marked) {
            out.fault_offset = out.bytes.size();
            marked = true;
        }
        for (unsigned k = 0; k < out.unit; ++k) out.bytes.push_back(static_cast<std::uint8_t>(*v >> (8 * k)));
    }
    if (!marked) out.error = CodeParseError::NoFaultMarker;
    return out;
}

}  // namespace kaddr
