// One lexer for every frame format the kernel (or systemtap) prints.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "kaddr/oops.h"

namespace kaddr {

namespace {


// A symbol reference that looks like %pS output: it must carry +off.
std::optional<SymbolRef> frame_symbol(std::string_view s) {
    // 2.6 x86_64 printed a module's frames module first: `:ext3:ext3_get_block+0x0/0xe4`.
    std::string module;
    if (s.starts_with(":")) {
        std::size_t close = s.find(':', 1);
        if (close == std::string_view::npos || close == 1 || s.find('+') < close) return std::nullopt;
        module = std::string(s.substr(1, close - 1));
        s.remove_prefix(close + 1);
    }
    auto with_module = [&](std::optional<SymbolRef> ref) {
        if (ref && !module.empty() && ref->module.empty()) ref->module = module;
        return ref;
    };
    std::size_t used = 0;
    // a paste cut after the `+` or inside the offset (`__show_regs+0xac/0x`):
    // the function is printed, its offset is not (whole)
    if (std::size_t plus = s.find('+'); plus != std::string_view::npos && plus > 0 &&
                                        s.find(' ') == std::string_view::npos &&
                                        s.substr(plus + 1).find_first_not_of("0123456789abcdefx/") == std::string_view::npos) {
        std::string_view off = s.substr(plus + 1);
        if (off.empty() || off.ends_with("/") || off.ends_with("x")) {
            auto ref = parse_symbol_ref(s.substr(0, plus), &used);
            if (ref && used == plus) return with_module(ref);
        }
    }
    auto ref = parse_symbol_ref(s, &used);
    if (!ref || s.substr(0, used).find('+') == std::string_view::npos) return std::nullopt;
    if (ref->module == "kernel") ref->module.clear();  // systemtap's name for the core image
    // ppc64 ELFv1 prints the function's entry symbol: ".kfree" is kfree
    // (".3+1-sparc64" is the rest of a release a mail client cut).
    if (ref->name.size() > 1 && ref->name[0] == '.' && std::isdigit(static_cast<unsigned char>(ref->name[1])))
        return std::nullopt;
    if (ref->name.size() > 1 && ref->name[0] == '.' && is_symbol_char(ref->name[1])) ref->name.erase(0, 1);
    return with_module(ref);
}

std::string_view skip_space(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    return s;
}

// `mm/slub.c:3567` or `mm/slub.c:3567:5`: a path (with a '/' or a '.')
// and a line, as addr2line prints them.
std::optional<PrintedSource> source_token(std::string_view t) {
    PrintedSource at;
    int numbers[2] = {0, 0};
    int count = 0;
    for (int k = 0; k < 2; ++k) {
        std::size_t colon = t.rfind(':');
        if (colon == std::string_view::npos) break;
        std::string_view digits = t.substr(colon + 1);
        if (digits.empty() || digits.size() > 7 ||
            !std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
            break;
        numbers[count++] = std::atoi(std::string(digits).c_str());
        t = t.substr(0, colon);
    }
    if (count == 0 || t.empty() || t.find_first_of("/.") == std::string_view::npos ||
        t.find_first_of("()[]<> ") != std::string_view::npos)
        return std::nullopt;
    at.file = std::string(t);
    at.line = count == 2 ? numbers[1] : numbers[0];
    at.column = count == 2 ? numbers[0] : 0;
    return at;
}

// scripts/decode_stacktrace.sh's frames: the offset replaced by the source
// lines addr2line gave, innermost first, a module's name after them, bare:
// `kasan_report (mm/kasan/report.c:590)`, `kfree (mm/slub.c:3567 mm/slub.c:4558)`,
// `nft_do_chain (net/netfilter/nf_tables_core.c:264) nf_tables`; addr2line's
// ` (discriminator N)` may follow a line.
std::optional<SymbolRef> decoded_symbol(std::string_view s, std::vector<PrintedSource>& at) {
    std::size_t n = 0;
    while (n < s.size() && is_symbol_char(s[n])) ++n;
    if (n == 0 || s.substr(n, 2) != " (") return std::nullopt;
    SymbolRef ref;
    ref.name = std::string(s.substr(0, n));
    std::string_view r = s.substr(n + 2);
    std::vector<PrintedSource> found;
    // A paste cut inside the parentheses (`kernfs_encode_fh (`, `f (fs/na`):
    // the function is printed, its lines are not (whole).
    auto cut_path = [](std::string_view t) {
        return std::all_of(t.begin(), t.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '/' || c == ':';
        });
    };
    for (;;) {
        r = skip_space(r);
        if (r.empty()) return ref;  // cut
        if (r.starts_with("(discriminator ")) {
            std::size_t close = r.find(')');
            if (close == std::string_view::npos) return std::nullopt;
            r.remove_prefix(close + 1);
            continue;
        }
        if (r.starts_with(")")) break;
        std::size_t end = r.find_first_of(" )");
        if (end == std::string_view::npos) {
            if (!cut_path(r)) return std::nullopt;
            if (auto whole = source_token(r)) found.push_back(std::move(*whole));
            at = std::move(found);
            return ref;  // cut
        }
        auto one = source_token(r.substr(0, end));
        if (!one) return std::nullopt;
        found.push_back(std::move(*one));
        r.remove_prefix(end);
    }
    if (found.empty()) return std::nullopt;
    r = skip_space(r.substr(1));
    while (!r.empty() && (r.back() == ' ' || r.back() == '\t')) r.remove_suffix(1);
    if (r.starts_with("[") && r.ends_with("]")) r = r.substr(1, r.size() - 2);
    if (!r.empty()) {
        if (!std::all_of(r.begin(), r.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }))
            return std::nullopt;
        ref.module = std::string(r);
    }
    at = std::move(found);
    return ref;
}

// A frame's symbol as the kernel prints it, or as decode_stacktrace.sh
// rewrote it.
bool take_symbol(std::string_view r, OopsFrame& f) {
    if (auto sym = frame_symbol(r)) f.symbol = sym;
    else if (auto dec = decoded_symbol(r, f.decoded_source)) {
        f.symbol = dec;
        f.decoded = true;
    }
    return f.symbol.has_value();
}

bool all_of_class(std::string_view v, int (*is)(int)) {
    return !v.empty() && std::all_of(v.begin(), v.end(), [&](char c) { return is(static_cast<unsigned char>(c)) != 0; });
}

// `[a+b]`: the two parts of a bracket holding a `+`, or false.
bool plus_bracket(std::string_view s, std::string_view& before, std::string_view& after, std::size_t& end) {
    if (!s.starts_with("[") || s.starts_with("[<")) return false;
    std::size_t close = s.find(']'), plus = s.find('+');
    if (close == std::string_view::npos || plus > close || plus == 1) return false;
    before = s.substr(1, plus - 1);
    after = s.substr(plus + 1, close - plus - 1);
    while (after.starts_with(" ")) after.remove_prefix(1);
    end = close + 1;
    return true;
}

// What a frame line may print before the frame itself, one shape a row;
// each returns the characters it covers, or 0.
struct FramePrefix {
    const char* shape;
    std::size_t (*match)(std::string_view s);
};
constexpr FramePrefix kFramePrefixes[] = {
    // vendor 4.x arm64 kernels print the stack slot: `[ffffff80201c7800+  32][<ffffff80091f0e2c>] f+..`
    {"stack slot", [](std::string_view s) -> std::size_t {
         std::string_view before, after;
         std::size_t end = 0;
         return plus_bracket(s, before, after, end) && all_of_class(before, ::isxdigit) && all_of_class(after, ::isdigit)
                    ? end
                    : 0;
     }},
    // 2.6 kallsyms brackets: `[clear_inode+206/304] clear_inode+0xce/0x130`, `[_end+129598927/2130485360] ..`
    {"kallsyms bracket", [](std::string_view s) -> std::size_t {
         std::string_view before, after;
         std::size_t end = 0;
         if (!plus_bracket(s, before, after, end) || !is_symbol_char(before.front())) return 0;
         std::size_t slash = after.find('/');
         return slash != std::string_view::npos && all_of_class(after.substr(0, slash), ::isdigit) &&
                        all_of_class(after.substr(slash + 1), ::isdigit)
                    ? end
                    : 0;
     }},
    // sparc64: `[000000000055eaa4] cache_flusharray+0xac/0xf4` (not powerpc's `[sp] [pc] f`)
    {"sparc64 pc", [](std::string_view s) -> std::size_t {
         if (!s.starts_with("[") || s.starts_with("[<")) return 0;
         std::size_t close = s.find(']');
         if (close == std::string_view::npos || close < 9 || !all_of_class(s.substr(1, close - 1), ::isxdigit)) return 0;
         std::size_t k = close + 1;
         if (k >= s.size() || s[k] != ' ') return 0;
         while (k < s.size() && s[k] == ' ') ++k;
         return k < s.size() && s[k] != '[' ? k : 0;
     }},
    // sparc64's die_if_kernel(): `Caller[000000000055eaa4]: cache_flusharray+0xac/0xf4`
    {"sparc64 caller", [](std::string_view s) -> std::size_t {
         if (!s.starts_with("Caller[")) return 0;
         std::size_t close = s.find("]: ");
         return close != std::string_view::npos && all_of_class(s.substr(7, close - 7), ::isxdigit) ? close + 3 : 0;
     }},
};

std::size_t frame_prefix(std::string_view s) {
    for (const FramePrefix& p : kFramePrefixes)
        if (std::size_t n = p.match(s)) {
            while (n < s.size() && s[n] == ' ') ++n;
            return n;
        }
    return 0;
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

// Lines that name the pc or the link register, per architecture: the
// register's word, what separates it from the value, and which it is. The
// value may come after addresses (`[<c0123456>]`, `[c000...]`, hex words).
struct RegisterLine {
    std::string_view word, separator;
    FrameKind kind;
};
constexpr RegisterLine kRegisterLines[] = {
    {"pc", ":", FrameKind::Pc},          // arm64
    {"lr", ":", FrameKind::Link},        // arm64
    {"PC", "is at", FrameKind::Pc},      // 32-bit ARM
    {"LR", "is at", FrameKind::Link},    // 32-bit ARM
    {"EIP", "is at", FrameKind::Pc},     // i386
    {"NIP", "[", FrameKind::Pc},         // powerpc `NIP [c0000000000a1b2c] func+0x1c/0x40`
    {"LR", "[", FrameKind::Link},        // powerpc
    {"epc", ":", FrameKind::Pc},         // MIPS `epc   : 8003ab3c func+0x4/0xc`, RISC-V `epc : func+0xc/0x14`
    {"ra", ":", FrameKind::Link},        // MIPS, RISC-V
    {"Krnl PSW", ":", FrameKind::Pc},    // s390 `Krnl PSW : 0704... 000003ff8086d03a (func+0x3a/0x1000 [mod])`
    {"IAOQ[0]", ":", FrameKind::Pc},     // parisc
    {"IAOQ[1]", ":", FrameKind::Link},   // parisc
    {"RP(r2)", ":", FrameKind::Link},    // parisc
    {"IP", ":", FrameKind::Pc},          // x86 page-fault line, 4.x form `IP: apply_paravirt+0x104/0x150`
    {"TPC", ":", FrameKind::Pc},         // sparc64 `TPC: <free_block+0x60/0x16c>`
    {"RPC", ":", FrameKind::Link},       // sparc64 (%o7)
    {"I7", ":", FrameKind::Link},        // sparc64 (the caller's return address)
};

// What follows the register's separator, or a null view when the line is
// not about that register.
std::string_view after_register(std::string_view s, const RegisterLine& reg) {
    if (!s.starts_with(reg.word)) return {};
    std::string_view r = s.substr(reg.word.size());
    while (r.starts_with(" ")) r.remove_prefix(1);
    if (!r.starts_with(reg.separator)) return {};
    if (reg.separator == "[") return r;  // the address is the value's first part
    r.remove_prefix(reg.separator.size());
    return skip_space(r);
}

// `[<c0123456>]`, `[c000000008068dfc]`, bare hex words of 8 or more digits.
std::string_view skip_addresses(std::string_view r) {
    for (;;) {
        r = skip_space(r);
        std::size_t end = 0;
        if (r.starts_with("[")) {
            end = r.find(']');
            if (end == std::string_view::npos) return r;
            ++end;
        } else {
            while (end < r.size() && std::isxdigit(static_cast<unsigned char>(r[end]))) ++end;
            if (end < 8 || (end < r.size() && r[end] != ' ')) return r;
        }
        r.remove_prefix(end);
    }
}

}  // namespace

std::optional<OopsFrame> arm_callee_frame(const std::string& text) {
    std::string_view s = trim(text);
    std::size_t from = s.find(" from ");
    if (from == std::string_view::npos) return std::nullopt;
    std::string_view callee = s.substr(0, from);
    OopsFrame f;
    std::uint64_t a = 0;
    if (std::size_t n = bracket_address(callee, a)) {
        f.address = a;
        callee = skip_space(callee.substr(n));
    }
    if (!callee.starts_with("(") || !callee.ends_with(")")) return std::nullopt;
    callee = callee.substr(1, callee.size() - 2);
    std::size_t used = 0;
    auto ref = parse_symbol_ref(callee, &used);
    if (!ref || used != callee.size()) return std::nullopt;
    f.symbol = ref;
    return f;
}

std::optional<OopsFrame> parse_frame_text(const std::string& text, bool* pc_line) {
    std::string_view s = trim(text);
    if (std::size_t n = frame_prefix(s)) s.remove_prefix(n);
    OopsFrame f;
    if (pc_line) *pc_line = false;
    auto as_pc = [&](OopsFrame& fr) {
        fr.kind = FrameKind::Pc;
        if (pc_line) *pc_line = true;
    };

    // RIP: 0010:func+0x1d/0x40 [mod], RIP: 0033:0x47b7a0, old RIP: 0010:[<addr>]  [<addr>] func+..
    // Old x86 restates the pc after the trace: `RIP  [<ffffffff81171b02>] f+0x42/0xc0`.
    if (s.starts_with("RIP  [<")) {
        std::uint64_t a = 0;
        std::size_t n = bracket_address(s.substr(5), a);
        if (auto sym = n ? frame_symbol(skip_space(s.substr(5 + n))) : std::nullopt) {
            as_pc(f);
            f.address = a;
            f.symbol = sym;
            f.restated_pc = true;
            return f;
        }
        return std::nullopt;
    }
    if (s.starts_with("RIP: ") || s.starts_with("EIP: ")) {
        std::string_view r = s.substr(5);
        f.restated_pc = r.starts_with("[<") && r.find(" SS:ESP") != std::string_view::npos;  // i386, after the trace
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
        if (!take_symbol(r, f))
            if (auto addr = parse_address_text(std::string(r.substr(0, r.find(' '))))) f.address = addr;
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
    // The pc and link registers of every architecture (kRegisterLines).
    for (const RegisterLine& reg : kRegisterLines) {
        std::string_view r = after_register(s, reg);
        if (r.data() == nullptr) continue;
        r = skip_addresses(r);
        if (r.starts_with("(") || r.starts_with("<")) r.remove_prefix(1);  // s390 `(f+0x3a/0x1000 [mod])`, sparc64 `<f+..>`
        auto sym = frame_symbol(r);
        if (!sym) return std::nullopt;  // a register dump line; the line with the symbol follows
        f.symbol = sym;
        if (reg.kind == FrameKind::Pc) as_pc(f);
        else f.kind = reg.kind;
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
    // s390 prints the frame it took from a register in parentheses:
    // `([<000003ff8086d036>] will_oops_init+0x36/0x1000 [will_oops])`.
    if (s.starts_with("([<") && s.ends_with(")")) {
        auto inner = parse_frame_text(std::string(s.substr(1, s.size() - 2)));
        if (inner) inner->reliable = false;
        return inner;
    }
    // A mail client ate the address: `[] dump_stack+0x45/0x56`.
    if (s.starts_with("[] ")) return parse_frame_text(std::string(s.substr(3)), pc_line);
    // x86 old: ` [<ffffffff8107a4b5>] ? func+0x95/0xe0`
    std::uint64_t a = 0;
    if (std::size_t n = bracket_address(s, a)) {
        f.address = a;
        std::string_view r = skip_space(s.substr(n));
        if (r.starts_with("? ")) {
            f.reliable = false;
            r = skip_space(r.substr(2));
        }
        take_symbol(r, f);
        return f;
    }
    // Current formats: `? __die+0x20/0x70`, `ktoops_write+0x2a/0x60 [ktoops]`.
    std::string_view r = s;
    if (r.starts_with("? ")) {
        f.reliable = false;
        r = skip_space(r.substr(2));
    }
    if (take_symbol(r, f)) return f;
    return std::nullopt;
}

}  // namespace kaddr
