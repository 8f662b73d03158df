#include "kaddr/symbol_table.h"

#include <algorithm>
#include <atomic>

namespace kaddr {

constexpr unsigned kScanLookups = 64;

struct SymbolTable::NameIndex {
    std::atomic<unsigned> lookups{0};
    std::once_flag once;
    std::unordered_multimap<std::string_view, std::size_t> map;
};

SymbolTable::SymbolTable() : names_(std::make_unique<NameIndex>()) {}
SymbolTable::~SymbolTable() = default;
SymbolTable::SymbolTable(SymbolTable&&) noexcept = default;
SymbolTable& SymbolTable::operator=(SymbolTable&&) noexcept = default;

bool is_mapping_symbol(std::string_view n) {
    if (n.size() >= 2 && n[0] == '$' && (n[1] == 'a' || n[1] == 'd' || n[1] == 't' || n[1] == 'x'))
        return n.size() == 2 || n[2] == '.';
    return n.substr(0, 2) == ".L";
}

void SymbolTable::add(const Entry& e) {
    if (is_mapping_symbol(e.name)) return;
    Symbol s;
    s.addr = e.addr;
    s.size = e.size;
    s.size_known = e.size_known;
    s.is_function = e.is_function;
    s.rank = (e.size_known && e.size ? 4 : 0) + (e.is_function ? 2 : 0) + (e.global ? 1 : 0);
    s.name = e.copy_name ? std::string_view(arena_.emplace_back(e.name)) : e.name;
    syms_.push_back(s);
}

void SymbolTable::finalize(std::uint64_t end) {
    // Best alias first at each address, so lookup() lands on it; names
    // break ties so the order does not depend on the input's.
    std::sort(syms_.begin(), syms_.end(), [](const Symbol& a, const Symbol& b) {
        if (a.addr != b.addr) return a.addr < b.addr;
        if (a.rank != b.rank) return a.rank > b.rank;
        return a.name < b.name;
    });
    for (std::size_t i = 0; i < syms_.size();) {
        std::size_t j = i;
        while (j < syms_.size() && syms_[j].addr == syms_[i].addr) ++j;
        std::uint64_t next = j < syms_.size() ? syms_[j].addr : std::max(end, syms_[i].addr + syms_[i].size);
        for (std::size_t k = i; k < j; ++k) {
            syms_[k].span = next - syms_[k].addr;
            if (!syms_[k].size_known) syms_[k].size = syms_[k].span;
        }
        i = j;
    }
}

const Symbol* SymbolTable::nearest(std::uint64_t addr) const {
    auto it = std::upper_bound(syms_.begin(), syms_.end(), addr,
                               [](std::uint64_t a, const Symbol& s) { return a < s.addr; });
    if (it == syms_.begin()) return nullptr;
    std::size_t idx = static_cast<std::size_t>(it - syms_.begin()) - 1;
    while (idx > 0 && syms_[idx - 1].addr == syms_[idx].addr) --idx;
    return &syms_[idx];
}

const Symbol* SymbolTable::lookup(std::uint64_t addr) const {
    const Symbol* nearest_sym = nearest(addr);
    if (!nearest_sym) return nullptr;
    std::size_t idx = static_cast<std::size_t>(nearest_sym - syms_.data());
    if (nearest_sym->size_known && nearest_sym->size > 0 && addr >= nearest_sym->addr + nearest_sym->size) {
        // Past the end of the nearest sized symbol: an enclosing sized symbol
        // (asm labels inside a function) may still contain it. Look back a
        // bounded distance rather than scanning the whole table.
        for (std::size_t k = idx, steps = 0; k-- > 0 && steps < 64; ++steps) {
            const Symbol& s = syms_[k];
            if (s.size_known && addr < s.addr + s.size) {
                while (k > 0 && syms_[k - 1].addr == s.addr) --k;
                return &syms_[k];
            }
        }
    }
    // Among aliases prefer one that is sized and contains the address.
    for (std::size_t k = idx; k < syms_.size() && syms_[k].addr == nearest_sym->addr; ++k)
        if (syms_[k].size_known && addr < syms_[k].addr + syms_[k].size) return &syms_[k];
    return nearest_sym;
}

std::vector<const Symbol*> SymbolTable::aliases(const Symbol& s) const {
    std::vector<const Symbol*> out;
    auto it = std::lower_bound(syms_.begin(), syms_.end(), s.addr,
                               [](const Symbol& x, std::uint64_t a) { return x.addr < a; });
    for (; it != syms_.end() && it->addr == s.addr; ++it)
        if (&*it != &s && it->name != s.name) out.push_back(&*it);
    return out;
}

void SymbolTable::assign_sorted(std::vector<Symbol> syms, std::vector<std::uint32_t> by_name) {
    syms_ = std::move(syms);
    sorted_names_ = std::move(by_name);
}

std::vector<const Symbol*> SymbolTable::by_name(std::string_view name) const {
    std::vector<const Symbol*> out;
    if (!sorted_names_.empty()) {
        auto it = std::lower_bound(sorted_names_.begin(), sorted_names_.end(), name,
                                   [&](std::uint32_t i, std::string_view n) { return syms_[i].name < n; });
        for (; it != sorted_names_.end() && syms_[*it].name == name; ++it) out.push_back(&syms_[*it]);
        return out;  // ties are in address order
    }
    // A crash report asks for a few dozen names: scanning is cheaper than
    // hashing 150,000. Batches of lookups switch to the hash index.
    if (names_->lookups.fetch_add(1) < kScanLookups) {
        for (const auto& s : syms_)
            if (s.name == name) out.push_back(&s);
        return out;  // already in address order
    }
    std::call_once(names_->once, [&] {
        names_->map.reserve(syms_.size());
        for (std::size_t i = 0; i < syms_.size(); ++i) names_->map.emplace(syms_[i].name, i);
    });
    auto [b, e] = names_->map.equal_range(name);
    for (auto it = b; it != e; ++it) out.push_back(&syms_[it->second]);
    std::sort(out.begin(), out.end(), [](const Symbol* a, const Symbol* b) { return a->addr < b->addr; });
    return out;
}

}  // namespace kaddr
