// The result model every resolver fills and every formatter prints.
// "Not found" is a result with a reason (error), not an exception.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kaddr/dwarf_source.h"

namespace kaddr {

// A frame address knows what it is: the faulting pc (looked up as is) or a
// return address (looked up one instruction back, printed as given).
enum class AddressKind { Precise, Return };

// Why an input has no answer, as a stable code for programs reading the
// JSON (the message beside it is for people and may change).
enum class ResolveErrorCode {
    None,
    NoSymbols,        // nothing to look anything up in
    UserAddress,      // a user-space address
    NullPage,         // NULL + offset: never mapped
    UnmappedAddress,  // outside the kernel image and every known module
    UnknownModule,    // `[mod]` names a module the snapshot does not have
    UnknownSymbol,    // no symbol of that name
    BadInput,         // neither an address nor a symbol reference
    DebugFileMismatch,  // the debug file is not the crashed kernel's (build-id)
};

// Who the address belongs to, apart from where in the address space it is.
enum class Owner { Unknown, Kernel, Module };

struct Candidate {  // one of several same-named symbols
    std::string module;
    std::uint64_t address = 0;
    std::uint64_t size = 0;
    std::string file;
    int line = 0;
};

struct Resolution {
    std::string input;
    std::optional<std::uint64_t> address;   // runtime address
    std::optional<std::uint64_t> lookup;    // where source was looked up (address - 1 insn for return addresses)
    std::string region;                     // for people: "module ktoops (modules)"
    std::string static_region;              // the architecture's map alone: "modules", "direct map", ...
    std::string region_assumption;
    Owner owner = Owner::Unknown;
    std::optional<std::string> module;      // nullopt: core kernel (or unknown owner)
    std::string section;
    std::optional<std::uint64_t> section_offset;  // address - the section's start (gdb's `.text+0x4f`)
    std::string symbol;
    std::uint64_t offset = 0, size = 0;
    std::string size_kind;                  // "exact" (st_size) or "inferred" (distance to next symbol)
    std::uint64_t span = 0;                 // distance to the next symbol: the size the kernel prints after the slash
    std::vector<std::string> aliases;
    std::vector<SourceLocation> locations;  // innermost first
    std::vector<std::string> found_by;
    std::string confidence;                 // exact, reconstructed-layout, symbol-only, guess
    std::vector<Candidate> candidates;      // when a name was ambiguous
    std::vector<std::string> notes;         // what a missing input costs, what was assumed
    std::optional<std::string> error;
    ResolveErrorCode error_code = ResolveErrorCode::None;  // set with error
    AddressKind kind = AddressKind::Precise;                // how the address was looked up

    bool resolved() const { return !error && (!symbol.empty() || !locations.empty()); }
};

}  // namespace kaddr
