// Turns an address or a `sym+off/size [mod]` reference into a Resolution,
// reading only the immutable Snapshot. Order: region, owner (core image or
// module), section, symbol, DWARF source lines with inline chain.
#pragma once
#include <string_view>

#include "kaddr/lexemes.h"
#include "kaddr/resolution.h"
#include "kaddr/snapshot.h"

namespace kaddr {

class Resolver {
public:
    explicit Resolver(const Snapshot& snap) : snap_(snap) {}

    Resolution resolve_address(std::uint64_t addr, AddressKind kind = AddressKind::Precise) const;
    Resolution resolve_symbol(const SymbolRef& ref, AddressKind kind = AddressKind::Precise) const;
    // An address (`0xffff...`, `ffff...`) or a symbol reference as typed.
    Resolution resolve_text(std::string_view text, AddressKind kind = AddressKind::Precise) const;

    const Snapshot& snapshot() const { return snap_; }

private:
    void fill_core(Resolution& r, std::uint64_t addr, std::uint64_t lookup) const;
    void fill_module(Resolution& r, const Module& m, std::uint64_t addr, std::uint64_t lookup) const;
    // A module with no load address: `addr` is in its section-relative layout.
    Resolution resolve_relative(const Module& m, std::uint64_t addr, AddressKind kind) const;
    // Lowers the confidence of answers that come from a doubted debug file.
    void apply_doubts(Resolution& r, const std::string& file) const;
    const Snapshot& snap_;
};

}  // namespace kaddr
