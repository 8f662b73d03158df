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

struct SymbolTable::Packed {
    std::span<const PackedSymbol> records;
    std::span<const std::uint32_t> by_name;
    std::string_view strtab;
    std::uint64_t shift = 0;
    std::shared_ptr<const void> keep;
    // The records asked for, as Symbols: one slot per record, filled once
    // (lock-free, so threads resolving in parallel do not queue here), in
    // chunks allocated when first touched (an oops touches a few dozen of
    // 100,000 records).
    static constexpr std::size_t kChunk = 512;
    struct Chunk {
        std::atomic<const Symbol*> slot[kChunk] = {};
    };
    std::once_flag chunks_once;
    std::unique_ptr<std::atomic<Chunk*>[]> chunks;
    std::once_flag all_once;
    std::vector<Symbol> all;

    std::atomic<const Symbol*>& slot(std::size_t i) {
        std::call_once(chunks_once, [&] { chunks = std::make_unique<std::atomic<Chunk*>[]>(records.size() / kChunk + 1); });
        std::atomic<Chunk*>& c = chunks[i / kChunk];
        Chunk* chunk = c.load(std::memory_order_acquire);
        if (!chunk) {
            auto fresh = std::make_unique<Chunk>();
            if (c.compare_exchange_strong(chunk, fresh.get(), std::memory_order_acq_rel)) chunk = fresh.release();
        }
        return chunk->slot[i % kChunk];
    }

    ~Packed() {
        if (!chunks) return;
        for (std::size_t c = 0; c <= records.size() / kChunk; ++c)
            if (Chunk* chunk = chunks[c].load(std::memory_order_relaxed)) {
                for (auto& s : chunk->slot) delete s.load(std::memory_order_relaxed);
                delete chunk;
            }
    }

    Symbol unpack(std::size_t i) const {
        const PackedSymbol& r = records[i];
        Symbol s;
        s.addr = r.addr + shift;
        s.size = r.size;
        s.span = r.span;
        if (std::uint64_t{r.name_off} + r.name_len <= strtab.size()) s.name = strtab.substr(r.name_off, r.name_len);
        s.size_known = r.size_known;
        s.is_function = r.is_function;
        s.rank = r.rank;
        return s;
    }
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
    auto best_first = [](const Symbol& a, const Symbol& b) {
        if (a.addr != b.addr) return a.addr < b.addr;
        if (a.rank != b.rank) return a.rank > b.rank;
        return a.name < b.name;
    };
    auto by_addr = [](const Symbol& a, const Symbol& b) { return a.addr < b.addr; };
    if (std::is_sorted(syms_.begin(), syms_.end(), by_addr)) {
        // kallsyms and System.map list symbols by address already: only the
        // aliases at each address need ordering.
        for (auto i = syms_.begin(); i != syms_.end();) {
            auto j = std::find_if(i + 1, syms_.end(), [&](const Symbol& s) { return s.addr != i->addr; });
            if (j - i > 1) std::sort(i, j, best_first);
            i = j;
        }
    } else {
        std::sort(syms_.begin(), syms_.end(), best_first);
    }
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

void SymbolTable::adopt_packed(std::span<const PackedSymbol> records, std::span<const std::uint32_t> by_name,
                               std::string_view strtab, std::uint64_t shift, std::shared_ptr<const void> keep) {
    syms_.clear();
    packed_ = std::make_unique<Packed>();
    packed_->records = records;
    packed_->by_name = by_name;
    packed_->strtab = strtab;
    packed_->shift = shift;
    packed_->keep = std::move(keep);
}

std::size_t SymbolTable::size() const { return packed_ ? packed_->records.size() : syms_.size(); }

std::uint64_t SymbolTable::addr_at(std::size_t i) const {
    return packed_ ? packed_->records[i].addr + packed_->shift : syms_[i].addr;
}

// The symbol at a position, as a stable object: a packed record is turned
// into a Symbol once, when first asked for.
const Symbol& SymbolTable::at(std::size_t i) const {
    if (!packed_) return syms_[i];
    std::atomic<const Symbol*>& slot = packed_->slot(i);
    if (const Symbol* s = slot.load(std::memory_order_acquire)) return *s;
    auto fresh = std::make_unique<const Symbol>(packed_->unpack(i));
    const Symbol* expected = nullptr;
    if (slot.compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel)) return *fresh.release();
    return *expected;  // another thread filled it first
}

const std::vector<Symbol>& SymbolTable::all() const {
    if (!packed_) return syms_;
    std::call_once(packed_->all_once, [&] {
        packed_->all.reserve(packed_->records.size());
        for (std::size_t i = 0; i < packed_->records.size(); ++i) packed_->all.push_back(packed_->unpack(i));
    });
    return packed_->all;
}

// The first position whose address fails `before` (addresses are sorted,
// so `before` holds on a prefix).
// (Written out rather than partition_point over views::iota: clang 14
// cannot compile iota_view against libstdc++ 12, and kaddr builds with both.)
template <class Before>
std::size_t SymbolTable::first_index(Before before) const {
    std::size_t lo = 0;
    for (std::size_t n = size(); n > 0;) {
        const std::size_t half = n / 2;
        if (before(addr_at(lo + half))) {
            lo += half + 1;
            n -= half + 1;
        } else {
            n = half;
        }
    }
    return lo;
}

// The first position of the symbols at the highest address <= addr, or
// size() when there is none.
std::size_t SymbolTable::nearest_index(std::uint64_t addr) const {
    const std::size_t lo = first_index([&](std::uint64_t a) { return a <= addr; });
    if (lo == 0) return size();
    std::size_t idx = lo - 1;
    while (idx > 0 && addr_at(idx - 1) == addr_at(idx)) --idx;
    return idx;
}

const Symbol* SymbolTable::nearest(std::uint64_t addr) const {
    const std::size_t idx = nearest_index(addr);
    return idx == size() ? nullptr : &at(idx);
}

// The index of lookup()'s answer, given the nearest index of `addr`.
std::size_t SymbolTable::lookup_index(std::size_t idx, std::uint64_t addr) const {
    const Symbol& nearest_sym = at(idx);
    auto contains = [&](std::size_t k) {
        const Symbol& s = at(k);
        return s.size_known && addr < s.addr + s.size;
    };
    if (nearest_sym.size_known && nearest_sym.size > 0 && addr >= nearest_sym.addr + nearest_sym.size) {
        // Past the end of the nearest sized symbol: an enclosing sized symbol
        // (asm labels inside a function) may still contain it. Look back a
        // bounded distance rather than scanning the whole table.
        for (std::size_t k = idx, steps = 0; k-- > 0 && steps < 64; ++steps) {
            if (!contains(k)) continue;
            while (k > 0 && addr_at(k - 1) == addr_at(k)) --k;
            return k;
        }
    }
    // Among aliases prefer one that is sized and contains the address.
    for (std::size_t k = idx; k < size() && addr_at(k) == nearest_sym.addr; ++k)
        if (contains(k)) return k;
    return idx;
}

const Symbol* SymbolTable::lookup(std::uint64_t addr) const {
    const std::size_t idx = nearest_index(addr);
    return idx == size() ? nullptr : &at(lookup_index(idx, addr));
}

// The names at s's address other than s's, from `first`, an index at or
// before s in its group of equal addresses.
std::vector<const Symbol*> SymbolTable::aliases_in_group(std::size_t first, const Symbol& s) const {
    std::vector<const Symbol*> out;
    while (first > 0 && addr_at(first - 1) == s.addr) --first;
    for (std::size_t k = first; k < size() && addr_at(k) == s.addr; ++k)
        if (const Symbol& a = at(k); &a != &s && a.name != s.name) out.push_back(&a);
    return out;
}

std::vector<const Symbol*> SymbolTable::aliases(const Symbol& s) const {
    return aliases_in_group(first_index([&](std::uint64_t a) { return a < s.addr; }), s);
}

SymbolTable::Found SymbolTable::find(std::uint64_t addr) const {
    Found f;
    const std::size_t idx = nearest_index(addr);
    if (idx == size()) return f;
    const std::size_t k = lookup_index(idx, addr);
    f.symbol = &at(k);
    f.nearest = &at(idx);
    f.aliases = aliases_in_group(k, *f.symbol);
    return f;
}

std::vector<const Symbol*> SymbolTable::by_name(std::string_view name) const {
    std::vector<const Symbol*> out;
    if (packed_) {
        // The permutation sorted by name; entries out of range are skipped.
        const auto& perm = packed_->by_name;
        const std::size_t n = packed_->records.size();
        auto name_of = [&](std::uint32_t i) { return i < n ? packed_->unpack(i).name : std::string_view(); };
        auto it = std::lower_bound(perm.begin(), perm.end(), name,
                                   [&](std::uint32_t i, std::string_view key) { return name_of(i) < key; });
        for (; it != perm.end() && name_of(*it) == name; ++it)
            if (*it < n) out.push_back(&at(*it));
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
