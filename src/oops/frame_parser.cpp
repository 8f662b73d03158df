// One lexer for every frame format the kernel (or systemtap) prints.
#include <cctype>

#include "kaddr/oops.h"

namespace kaddr {

namespace {


// A symbol reference that looks like %pS output: it must carry +off.
std::optional<SymbolRef> frame_symbol(std::string_view s) {
    std::size_t used = 0;
    auto ref = parse_symbol_ref(s, &used);
    if (!ref || s.substr(0, used).find('+') == std::string_view::npos) return std::nullopt;
    if (ref->module == "kernel") ref->module.clear();  // systemtap's name for the core image
    return ref;
}

// `[<ffffffff8107a4b5>]`; returns the characters used.
std::size_t bracket_address(std::string_view s, std::uint64_t& addr) {
    if (!s.starts_with("[<")) return 0;
    std::size_t close = s.find(">]");
    if (close == std::string_view::npos) return 0;
    auto a = parse_hex(s.substr(2, close - 2));
    if (!a) return 0;
    addr = *a;
    return close + 2;
}

std::string_view skip_space(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    return s;
}

}  // namespace

std::optional<OopsFrame> parse_frame_text(const std::string& text, bool* pc_line) {
    std::string_view s = trim(text);
    OopsFrame f;
    if (pc_line) *pc_line = false;
    auto as_pc = [&](OopsFrame& fr) {
        fr.kind = FrameKind::Pc;
        if (pc_line) *pc_line = true;
    };

    // RIP: 0010:func+0x1d/0x40 [mod], RIP: 0033:0x47b7a0, old RIP: 0010:[<addr>]  [<addr>] func+..
    if (s.starts_with("RIP: ") || s.starts_with("EIP: ")) {
        std::string_view r = s.substr(5);
        bool user = false;
        if (r.size() > 5 && r[4] == ':') {
            user = r.substr(0, 4) == "0033" || r.substr(0, 4) == "0073" || r.substr(0, 4) == "0023";
            r.remove_prefix(5);
        }
        as_pc(f);
        std::uint64_t a = 0;
        while (std::size_t n = bracket_address(r, a)) {
            f.address = a;
            r = skip_space(r.substr(n));
        }
        if (auto sym = frame_symbol(r)) f.symbol = sym;
        else if (auto addr = parse_address_text(std::string(r.substr(0, r.find(' '))))) f.address = addr;
        f.user = user;
        if (!f.symbol && !f.address) return std::nullopt;
        return f;
    }
    // IP: [<ffffffff82d4e304>] __memset+0x24/0x30 (old x86 page-fault line)
    if (s.starts_with("IP: [<")) {
        std::uint64_t a = 0;
        std::size_t n = bracket_address(s.substr(4), a);
        if (!n) return std::nullopt;
        as_pc(f);
        f.address = a;
        f.symbol = frame_symbol(skip_space(s.substr(4 + n)));
        return f;
    }
    // arm64 `pc : func+0x1c/0x40 [mod]`, `lr : ...`; ARM `PC is at ...`, `LR is at ...`.
    for (std::string_view p : {"pc : ", "lr : ", "PC is at ", "LR is at "}) {
        if (!s.starts_with(p)) continue;
        std::string_view r = skip_space(s.substr(p.size()));
        if (r.starts_with("[<")) return std::nullopt;  // ARM register dump line; PC is at carries the symbol
        auto sym = frame_symbol(r);
        if (!sym) return std::nullopt;
        f.symbol = sym;
        if (p[0] == 'p' || p[0] == 'P') as_pc(f);
        else f.kind = FrameKind::Link;
        return f;
    }
    // systemtap: ` 0xffffffffa7106cd6 : load_module+0x1576/0x2620 [kernel] (inexact)`
    if (s.starts_with("0x")) {
        std::size_t colon = s.find(" : ");
        if (colon != std::string_view::npos) {
            auto a = parse_hex(s.substr(0, colon));
            if (a) {
                f.address = a;
                std::string_view r = s.substr(colon + 3);
                f.symbol = frame_symbol(r);
                f.reliable = r.find("(inexact)") == std::string_view::npos;
                return f;
            }
        }
    }
    // 32-bit ARM: `callee from caller+0x18/0x1c [mod]` and the older
    // `[<c010f4f0>] (callee) from [<c010b8c8>] (caller+0x10/0x14)`.
    if (std::size_t from = s.find(" from "); from != std::string_view::npos) {
        std::string_view callee = s.substr(0, from);
        std::string_view r = skip_space(s.substr(from + 6));
        std::uint64_t a = 0;
        if (std::size_t n = bracket_address(r, a)) {
            f.address = a;
            r = skip_space(r.substr(n));
            if (r.starts_with("(")) r.remove_prefix(1);
        }
        bool callee_ok = !callee.empty() && (callee.starts_with("[<") || is_symbol_char(callee.front()));
        if (callee_ok) {
            if (auto sym = frame_symbol(r)) {
                f.symbol = sym;
                return f;
            }
            if (f.address) return f;
        }
    }
    // powerpc: `[c000000049a87780] [c000000001385b4c] __schedule+0x3cc/0xed0` (stack pointer, then pc)
    if (s.starts_with("[") && !s.starts_with("[<")) {
        std::size_t c1 = s.find("] [");
        std::size_t c2 = c1 == std::string_view::npos ? c1 : s.find(']', c1 + 3);
        if (c2 != std::string_view::npos && parse_hex(s.substr(1, c1 - 1)) && parse_hex(s.substr(c1 + 3, c2 - c1 - 3))) {
            f.address = parse_hex(s.substr(c1 + 3, c2 - c1 - 3));
            std::string_view r = skip_space(s.substr(c2 + 1));
            f.symbol = frame_symbol(r);
            f.reliable = r.find("(unreliable)") == std::string_view::npos;
            return f;
        }
    }
    // x86 old: ` [<ffffffff8107a4b5>] ? func+0x95/0xe0`
    std::uint64_t a = 0;
    if (std::size_t n = bracket_address(s, a)) {
        f.address = a;
        std::string_view r = skip_space(s.substr(n));
        if (r.starts_with("? ")) {
            f.reliable = false;
            r = skip_space(r.substr(2));
        }
        f.symbol = frame_symbol(r);
        return f;
    }
    // Current formats: `? __die+0x20/0x70`, `ktoops_write+0x2a/0x60 [ktoops]`.
    std::string_view r = s;
    if (r.starts_with("? ")) {
        f.reliable = false;
        r = skip_space(r.substr(2));
    }
    if (auto sym = frame_symbol(r)) {
        f.symbol = sym;
        return f;
    }
    return std::nullopt;
}

}  // namespace kaddr
