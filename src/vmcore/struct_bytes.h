// One field of a kernel struct read out of the bytes copied from a dump: a
// value of type T at `off`, or T{} when the copy is too short (a struct of
// another layout than expected must not read past what was copied).
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

namespace kaddr {

template <class T>
T struct_field(const std::vector<unsigned char>& bytes, std::uint64_t off) {
    T v{};
    if (off <= bytes.size() && sizeof v <= bytes.size() - off) std::memcpy(&v, bytes.data() + off, sizeof v);
    return v;
}

}  // namespace kaddr
