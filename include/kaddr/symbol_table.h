// A sorted symbol table searched by address (upper_bound) and by name.
// Sizes say what they mean: an ELF st_size is `exact`; a kallsyms or
// System.map symbol only has the distance to the next symbol, the size the
// kernel itself prints after the slash in `func+0x1d/0x40`, and is labelled
// `inferred`.
//
// Speed: names are views. ELF names point into the mapped file's string
// table (the ElfFile must outlive the table); text-capture names are copied
// into an arena. The name index is built on the first name look-up only.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
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
    // Adopts symbols already sorted and finalized (from a persisted index),
    // with a permutation of them sorted by name (then address) when known.
    void assign_sorted(std::vector<Symbol> syms, std::vector<std::uint32_t> by_name = {});
    bool empty() const { return syms_.empty(); }
    std::size_t size() const { return syms_.size(); }

    // The symbol an address belongs to: the innermost sized symbol that
    // contains it, else the nearest preceding one. nullptr before the first.
    const Symbol* lookup(std::uint64_t addr) const;
    // The nearest preceding symbol, sized or not: the label the kernel's
    // kallsyms would print (asm labels inside functions included).
    const Symbol* nearest(std::uint64_t addr) const;
    // Other names at the same address as `s`.
    std::vector<const Symbol*> aliases(const Symbol& s) const;
    // Every symbol of that name (static functions may share one). Thread-safe.
    std::vector<const Symbol*> by_name(std::string_view name) const;
    const std::vector<Symbol>& all() const { return syms_; }

private:
    struct NameIndex;
    std::vector<Symbol> syms_;
    std::vector<std::uint32_t> sorted_names_;  // optional: binary search by name
    std::deque<std::string> arena_;
    std::unique_ptr<NameIndex> names_;
};

// ARM mapping symbols ($x, $d, $a, $t) and assembler locals mark code/data,
// they are not functions; the kernel skips them too.
bool is_mapping_symbol(std::string_view name);

}  // namespace kaddr
