// LEB128 as DWARF spells it, for the source index's entries and contexts.
// Readers never step past `end` (a damaged file gives nullopt, not a read
// outside the mapping).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace kaddr::varint {

inline void put_uleb(std::string& out, std::uint64_t v) {
    do {
        unsigned char b = v & 0x7f;
        v >>= 7;
        out.push_back(static_cast<char>(v ? b | 0x80 : b));
    } while (v);
}

inline void put_sleb(std::string& out, std::int64_t v) {
    for (;;) {
        unsigned char b = v & 0x7f;
        v >>= 7;  // arithmetic shift: sign-extending
        const bool done = (v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40));
        out.push_back(static_cast<char>(done ? b : b | 0x80));
        if (done) return;
    }
}

inline std::optional<std::uint64_t> get_uleb(const unsigned char*& p, const unsigned char* end) {
    std::uint64_t v = 0;
    for (unsigned shift = 0; p < end && shift < 64; shift += 7) {
        const unsigned char b = *p++;
        v |= std::uint64_t{b & 0x7fu} << shift;
        if (!(b & 0x80)) return v;
    }
    return std::nullopt;
}

inline std::optional<std::int64_t> get_sleb(const unsigned char*& p, const unsigned char* end) {
    std::uint64_t v = 0;
    for (unsigned shift = 0; p < end && shift < 64; shift += 7) {
        const unsigned char b = *p++;
        v |= std::uint64_t{b & 0x7fu} << shift;
        if (!(b & 0x80)) {
            if (shift + 7 < 64 && (b & 0x40)) v |= ~std::uint64_t{0} << (shift + 7);
            return static_cast<std::int64_t>(v);
        }
    }
    return std::nullopt;
}

}  // namespace kaddr::varint
