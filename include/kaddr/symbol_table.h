// A sorted symbol table searched by address (upper_bound) and by name.
// Sizes say what they mean: an ELF st_size is `exact`; a kallsyms or
// System.map symbol only has the distance to the next symbol, the size the
// kernel itself prints after the slash in `func+0x1d/0x40`, and is labelled
// `inferred`.
//
// Speed: names are views. ELF names point into the mapped file's string
// table (the ElfFile must outlive the table); text-capture names are copied
// into an arena. The name index is built on the first name look-up only. A
// table can also be searched in place over packed records (a persisted
// index, mapped): only the records a look-up touches are read and turned
// into Symbols.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kaddr {

struct Symbol {
    std::uint64_t addr = 0;
    std::uint64_t size = 0;       // st_size when known, else the span
    std::uint64_t span = 0;       // distance to the next higher symbol (what the kernel prints)
    std::string_view name;
    bool size_known = false;      // true: st_size from an ELF symbol table
    bool is_function = false;
    int rank = 0;                 // higher wins among aliases: sized, function, global
};

// A finalized symbol as stored in a file: position-independent (the name is
// an offset into a string section), link-time address.
struct PackedSymbol {
    std::uint64_t addr;
    std::uint64_t size;
    std::uint64_t span;
    std::uint32_t name_off;
    std::uint32_t name_len;
    std::uint8_t size_known;
    std::uint8_t is_function;
    std::int8_t rank;
    std::uint8_t pad = 0;
};

class SymbolTable {
public:
    struct Entry {
        std::uint64_t addr;
        std::uint64_t size;
        bool size_known;
        bool is_function;
        bool global;
        std::string_view name;
        bool copy_name;  // false: the name outlives the table (mapped ELF strings)
    };
    SymbolTable();
    ~SymbolTable();
    SymbolTable(SymbolTable&&) noexcept;
    SymbolTable& operator=(SymbolTable&&) noexcept;
    SymbolTable(const SymbolTable&) = delete;
    SymbolTable& operator=(const SymbolTable&) = delete;

    void reserve(std::size_t n) { syms_.reserve(n); }
    void add(const Entry& e);
    // Sorts and computes spans. `end` bounds the span of the last symbol.
    void finalize(std::uint64_t end = 0);
    // Searches packed records in place: sorted and finalized, with their
    // permutation sorted by name (then address), names in `strtab`, every
    // address moved by `shift` (KASLR moves an image in one piece). `keep`
    // owns what the views point into. A record whose name lies outside
    // `strtab` reads as unnamed, a bad permutation entry is skipped: a
    // damaged file gives no crash.
    void adopt_packed(std::span<const PackedSymbol> records, std::span<const std::uint32_t> by_name,
                      std::string_view strtab, std::uint64_t shift, std::shared_ptr<const void> keep);
    bool empty() const { return size() == 0; }
    std::size_t size() const;

    // The symbol an address belongs to: the innermost sized symbol that
    // contains it, else the nearest preceding one. nullptr before the first.
    const Symbol* lookup(std::uint64_t addr) const;
    // The nearest preceding symbol, sized or not: the label the kernel's
    // kallsyms would print (asm labels inside functions included).
    const Symbol* nearest(std::uint64_t addr) const;
    // Other names at the same address as `s`.
    std::vector<const Symbol*> aliases(const Symbol& s) const;
    // lookup(), nearest() and the lookup's aliases of one address, with one
    // search of the table instead of three (every resolved address asks all).
    struct Found {
        const Symbol* symbol = nullptr;   // lookup()
        const Symbol* nearest = nullptr;  // nearest()
        std::vector<const Symbol*> aliases;
    };
    Found find(std::uint64_t addr) const;
    // Every symbol of that name (static functions may share one). Thread-safe.
    std::vector<const Symbol*> by_name(std::string_view name) const;
    // Every symbol in address order (a packed table turns them all into
    // Symbols on the first call).
    const std::vector<Symbol>& all() const;

private:
    struct NameIndex;
    struct Packed;
    std::uint64_t addr_at(std::size_t i) const;
    const Symbol& at(std::size_t i) const;
    std::size_t nearest_index(std::uint64_t addr) const;
    std::size_t lookup_index(std::size_t nearest, std::uint64_t addr) const;
    std::vector<const Symbol*> aliases_in_group(std::size_t first, const Symbol& s) const;
    template <class Before>
    std::size_t first_index(Before before) const;

    std::vector<Symbol> syms_;
    std::deque<std::string> arena_;
    std::unique_ptr<NameIndex> names_;
    std::unique_ptr<Packed> packed_;
};

// ARM mapping symbols ($x, $d, $a, $t) and assembler locals mark code/data,
// they are not functions; the kernel skips them too.
bool is_mapping_symbol(std::string_view name);

}  // namespace kaddr
