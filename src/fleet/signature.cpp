// Crash signatures (version 1) and the key reports are ordered by in
// buckets. See fleet.h and man kaddr, CRASH SIGNATURES.
#include <xxhash.h>

#include <cctype>
#include <cstdio>

#include "kaddr/fleet.h"
#include "kaddr/oops_blame.h"

namespace kaddr {

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// Frames that say where the crash went: the stack as printed, not lockdep's
// history, user space, `?` guesses, or the pc printed a second time.
bool counts(const OopsFrame& f) { return f.reliable && !f.user && !f.lock_history && !f.restated_pc; }

std::string hex16(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

// Digits and hex numbers of a headline as '#' (a report without any frame
// is known by its headline's words only).
std::string headline_words(std::string_view h) {
    std::string out;
    for (std::size_t i = 0; i < h.size();) {
        if (std::isdigit(static_cast<unsigned char>(h[i]))) {
            while (i < h.size() && (std::isxdigit(static_cast<unsigned char>(h[i])) || h[i] == 'x' || h[i] == '.')) ++i;
            out += '#';
        } else {
            out += h[i++];
        }
    }
    return out;
}

}  // namespace

std::string normalise_function(std::string_view name) {
    // Clone suffixes GCC and clang add: f.isra.0, f.constprop.3, f.part.1,
    // f.cold, f.cold.12, f.llvm.123456; a frame's "f+0x.." was cut already.
    for (;;) {
        const auto dot = name.rfind('.');
        if (dot == std::string_view::npos || dot == 0) return std::string(name);
        const std::string_view tail = name.substr(dot + 1);
        if (all_digits(tail)) {
            name = name.substr(0, dot);  // the clone's number; its kind comes next
            continue;
        }
        if (tail == "isra" || tail == "constprop" || tail == "part" || tail == "cold" || tail == "llvm" ||
            tail == "lto_priv" || tail == "localalias") {
            name = name.substr(0, dot);
            continue;
        }
        return std::string(name);
    }
}

CrashSignature crash_signature(OopsReport& r) {
    const Blame b = blame(r);
    CrashSignature s;
    s.kind = kind_name(r.kind);
    s.guilty = normalise_function(b.frame ? frame_function(r.frames[*b.frame]) : b.function);
    const std::size_t from = b.frame ? *b.frame : 0;
    for (std::size_t i = from; i < r.frames.size() && s.frames.size() < kSignatureFrames; ++i) {
        const OopsFrame& f = r.frames[i];
        if (i != from && !counts(f)) continue;
        std::string fn = normalise_function(frame_function(f));
        if (fn.empty() || (!s.frames.empty() && s.frames.back() == fn)) continue;
        s.frames.push_back(std::move(fn));
    }
    std::string canon = "v1\n" + s.kind + '\n' + s.guilty + '\n';
    for (const auto& f : s.frames) canon += f + '\n';
    if (s.frames.empty() && s.guilty.empty()) canon += headline_words(r.headline) + '\n';
    s.id = "v1:" + hex16(XXH3_64bits(canon.data(), canon.size()));
    return s;
}

nlohmann::json to_json(const CrashSignature& s) {
    return {{"id", s.id}, {"version", kSignatureVersion}, {"kind", s.kind},
            {"guilty", s.guilty.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.guilty)}, {"frames", s.frames}};
}

std::string leading_iso_time(std::string_view l) {
    // YYYY-MM-DDTHH:MM:SS (or a space for the T)
    if (l.size() < 19) return {};
    static constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        const char c = l[i];
        if (shape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(c)) : shape[i] == 'T' ? (c != 'T' && c != ' ') : c != shape[i])
            return {};
    }
    std::string t(l.substr(0, 19));
    t[10] = 'T';
    return t;
}

SeenKey seen_key(const OopsReport& r, const std::string& source, const std::string& given_time) {
    SeenKey k;
    k.time = !given_time.empty() ? given_time : r.lines.empty() ? std::string() : leading_iso_time(r.lines.front().raw);
    char line[24];
    std::snprintf(line, sizeof line, "%010zu", r.first_line());
    k.order = source + ":" + line;
    return k;
}

nlohmann::json to_json(const SeenKey& k) {
    return {{"time", k.time.empty() ? nlohmann::json(nullptr) : nlohmann::json(k.time)}, {"order", k.order}};
}

}  // namespace kaddr
