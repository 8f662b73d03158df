#include "kaddr/dwarf_source.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <cstring>
#include <span>
#include <unordered_map>

#include "kaddr/error.h"

namespace kaddr {

namespace {

// One function instance in a CU: an out-of-line subprogram or an inlined
// call; `parent` is the instance it is inlined into.
struct Node {
    const char* name = nullptr;
    int parent = -1;
    bool inlined = false;
    Dwarf_Word call_file = 0;
    int call_line = 0, call_column = 0;
};

struct Segment {
    Dwarf_Addr start;
    int node;  // -1: no function covers [start, next start)
};

struct Interval {
    Dwarf_Addr lo, hi;
    int depth, node;
};

// One top-level function's inline tree, built the first time an address
// lands in it: a crash report needs a function or two per CU, not all.
struct FunctionIndex {
    Dwarf_Die die;
    std::vector<std::pair<Dwarf_Addr, Dwarf_Addr>> ranges;  // [lo, hi)
    bool built = false;
    std::vector<Node> nodes;  // node 0 is the function itself
    std::vector<Segment> segments;
};

struct TopRange {
    Dwarf_Addr lo, hi;
    std::size_t function;
};

struct CuIndex {
    Dwarf_Die cudie;
    Dwarf_Files* files = nullptr;
    // libdw's file names (stable pointers into the CU's file table),
    // cleaned once: a CU's rows name a few dozen files millions of times.
    std::unordered_map<const char*, std::string> clean_names;
    std::vector<FunctionIndex> functions;
    std::vector<TopRange> ranges;  // sorted by lo
};

int attr_int(Dwarf_Die* die, int name) {
    Dwarf_Attribute a;
    Dwarf_Word w = 0;
    if (!dwarf_attr(die, name, &a) || dwarf_formudata(&a, &w) != 0) return 0;
    return static_cast<int>(w);
}

Node make_node(Dwarf_Die* die, int parent, bool inlined) {
    Node n;
    n.name = dwarf_diename(die);  // follows DW_AT_abstract_origin
    n.parent = parent;
    n.inlined = inlined;
    if (inlined) {
        n.call_file = static_cast<Dwarf_Word>(attr_int(die, DW_AT_call_file));
        n.call_line = attr_int(die, DW_AT_call_line);
        n.call_column = attr_int(die, DW_AT_call_column);
    }
    return n;
}

void collect(Dwarf_Die* parent_die, int parent, int depth, std::vector<Node>& nodes, std::vector<Interval>& out) {
    Dwarf_Die child;
    if (dwarf_child(parent_die, &child) != 0) return;
    do {
        int tag = dwarf_tag(&child);
        if (tag == DW_TAG_lexical_block) {
            collect(&child, parent, depth, nodes, out);
        } else if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
            Dwarf_Addr base, lo, hi;
            std::ptrdiff_t off = 0;
            int id = -1;
            while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0) {
                if (id < 0) {
                    id = static_cast<int>(nodes.size());
                    nodes.push_back(make_node(&child, parent, tag == DW_TAG_inlined_subroutine));
                }
                if (hi > lo) out.push_back({lo, hi, depth, id});
            }
            // Abstract instances (no code) have nothing to locate.
            if (id >= 0) collect(&child, id, depth + 1, nodes, out);
        }
    } while (dwarf_siblingof(&child, &child) == 0);
}

// Properly nested intervals -> non-overlapping segments naming the deepest
// instance covering each address.
std::vector<Segment> flatten(std::vector<Interval> ivs) {
    std::sort(ivs.begin(), ivs.end(), [](const Interval& a, const Interval& b) {
        return a.lo != b.lo ? a.lo < b.lo : a.depth < b.depth;
    });
    std::vector<Segment> segs;
    auto emit = [&](Dwarf_Addr at, int node) {
        if (!segs.empty() && segs.back().start == at) segs.back().node = node;
        else if (segs.empty() || segs.back().node != node) segs.push_back({at, node});
    };
    std::vector<std::pair<Dwarf_Addr, int>> open;  // (hi, node)
    auto close_until = [&](Dwarf_Addr limit) {
        while (!open.empty() && open.back().first <= limit) {
            Dwarf_Addr hi = open.back().first;
            open.pop_back();
            while (!open.empty() && open.back().first <= hi) open.pop_back();  // malformed overlap
            emit(hi, open.empty() ? -1 : open.back().second);
        }
    };
    for (const auto& iv : ivs) {
        close_until(iv.lo);
        emit(iv.lo, iv.node);
        open.emplace_back(iv.hi, iv.node);
    }
    close_until(~Dwarf_Addr{0});
    return segs;
}

// libdw joins the include directory and the file name with a '/', even
// when the directory already ends in one ("asm/trace/" + "fpu.h").
std::string clean_path(const char* p) {
    std::string out;
    if (!p) return out;
    for (; *p; ++p)
        if (!(*p == '/' && !out.empty() && out.back() == '/')) out += *p;
    return out;
}

std::string file_name(Dwarf_Files* files, Dwarf_Word idx) {
    if (!files) return {};
    return clean_path(dwarf_filesrc(files, idx, nullptr, nullptr));
}

int no_debuginfo(Dwfl_Module*, void**, const char*, Dwarf_Addr, const char*, const char*, GElf_Word, char**) {
    return -1;  // the DWARF is in the main file or nowhere; never search the system
}

}  // namespace

// One libdwfl session with its own CU index. libdw is not thread-safe
// within a session, so each session has a lock; several sessions over the
// same file let threads resolve in parallel.
struct Session {
    Dwfl_Callbacks callbacks{};
    Dwfl* dwfl = nullptr;
    Dwfl_Module* mod = nullptr;
    Dwarf* dwarf = nullptr;      // for CU look-ups through the persisted index
    bool dwarf_checked = false;
    std::vector<char> elf_copy;  // a compressed module's bytes, for libdwfl to relocate
    std::mutex mutex;
    std::unordered_map<Dwarf_Off, std::unique_ptr<CuIndex>> cus;

    ~Session() {
        if (dwfl) dwfl_end(dwfl);
    }

    CuIndex* index_for(Dwarf_Die* cudie) {
        Dwarf_Off off = dwarf_dieoffset(cudie);
        auto& slot = cus[off];
        if (slot) return slot.get();
        slot = std::make_unique<CuIndex>();
        CuIndex& cu = *slot;
        cu.cudie = *cudie;
        std::size_t nfiles = 0;
        if (dwarf_getsrcfiles(cudie, &cu.files, &nfiles) != 0) cu.files = nullptr;
        // Only the top level now: each function's ranges.
        Dwarf_Die child;
        if (dwarf_child(&cu.cudie, &child) == 0) do {
            if (dwarf_tag(&child) != DW_TAG_subprogram) continue;
            FunctionIndex f{child, {}};
            Dwarf_Addr base, lo, hi;
            for (std::ptrdiff_t r = 0; (r = dwarf_ranges(&child, r, &base, &lo, &hi)) > 0;)
                if (hi > lo) {
                    cu.ranges.push_back({lo, hi, cu.functions.size()});
                    f.ranges.emplace_back(lo, hi);
                }
            if (!f.ranges.empty()) cu.functions.push_back(std::move(f));
        } while (dwarf_siblingof(&child, &child) == 0);
        std::sort(cu.ranges.begin(), cu.ranges.end(), [](const TopRange& a, const TopRange& b) { return a.lo < b.lo; });
        return slot.get();
    }

    // The function containing `a`, its inline tree built on first use.
    static FunctionIndex* function_at(CuIndex& cu, Dwarf_Addr a) {
        auto it = std::upper_bound(cu.ranges.begin(), cu.ranges.end(), a,
                                   [](Dwarf_Addr x, const TopRange& r) { return x < r.lo; });
        if (it == cu.ranges.begin() || a >= std::prev(it)->hi) return nullptr;
        FunctionIndex& f = cu.functions[std::prev(it)->function];
        build(f);
        return &f;
    }

    static void build(FunctionIndex& f) {
        if (f.built) return;
        f.built = true;
        f.nodes.push_back(make_node(&f.die, -1, false));
        std::vector<Interval> ivs;
        for (const auto& [lo, hi] : f.ranges) ivs.push_back({lo, hi, 0, 0});
        collect(&f.die, 0, 1, f.nodes, ivs);
        f.segments = flatten(std::move(ivs));
    }
};

struct DwarfSource::Impl {
    std::shared_ptr<const ElfFile> file;
    std::span<const CuRange> cus;  // sorted; empty: ask libdwfl
    std::shared_ptr<const void> cus_storage;
    bool is_module = false;
    std::vector<PlacedSection> sections;  // modules only
    std::mutex pool_mutex;
    std::vector<std::unique_ptr<Session>> sessions;
    std::size_t max_sessions = 1;

    // libdwfl's per-module user data: the shared description and the session
    // (which keeps its own copy of a compressed file for libdwfl to relocate).
    struct ModuleUserData {
        Impl* impl;
        Session* session;
    };

    static int find_elf(Dwfl_Module*, void** userdata, const char*, Dwarf_Addr, char** file_name, Elf** elfp) {
        auto* ud = static_cast<ModuleUserData*>(*userdata);
        Impl* me = ud->impl;
        *file_name = strdup(me->file->path().c_str());
        if (!me->file->decompressed().empty()) {
            ud->session->elf_copy = me->file->decompressed();
            *elfp = elf_memory(ud->session->elf_copy.data(), ud->session->elf_copy.size());
            return -1;
        }
        return ::open(me->file->path().c_str(), O_RDONLY | O_CLOEXEC);
    }

    static int section_address(Dwfl_Module*, void** userdata, const char*, Dwarf_Addr, const char*,
                               GElf_Word shndx, const GElf_Shdr*, Dwarf_Addr* addr) {
        for (const auto& s : static_cast<ModuleUserData*>(*userdata)->impl->sections)
            if (s.elf_index == shndx) {
                *addr = s.placement == Placement::Undetermined ? static_cast<Dwarf_Addr>(-1) : s.addr;
                return DWARF_CB_OK;
            }
        *addr = static_cast<Dwarf_Addr>(-1);  // not loaded
        return DWARF_CB_OK;
    }

    std::vector<std::unique_ptr<ModuleUserData>> userdata;

    std::unique_ptr<Session> open_session() {
        auto s = std::make_unique<Session>();
        s->callbacks.find_debuginfo = no_debuginfo;
        s->callbacks.find_elf = is_module ? find_elf : dwfl_build_id_find_elf;
        s->callbacks.section_address = is_module ? section_address : dwfl_offline_section_address;
        s->dwfl = dwfl_begin(&s->callbacks);
        if (!s->dwfl) throw Error(file->path(), std::string("libdwfl: ") + dwfl_errmsg(-1));
        if (!is_module) {
            // Base 0 with p_vaddr added keeps link-time addresses for ET_DYN
            // images too (arm64); dwfl_report_offline would rebase those.
            s->mod = dwfl_report_elf(s->dwfl, "vmlinux", file->path().c_str(), -1, 0, true);
            if (!s->mod) throw Error(file->path(), std::string("libdwfl cannot load it: ") + dwfl_errmsg(-1));
        } else {
            Dwarf_Addr lo = ~Dwarf_Addr{0}, hi = 0;
            for (const auto& sec : sections)
                if (sec.placement != Placement::Undetermined) {
                    lo = std::min<Dwarf_Addr>(lo, sec.addr);
                    hi = std::max<Dwarf_Addr>(hi, sec.addr + sec.size);
                }
            if (lo >= hi) throw Error(file->path(), "no section of this module has a known address");
            s->mod = dwfl_report_module(s->dwfl, file->path().c_str(), lo, hi);
            if (!s->mod) throw Error(file->path(), std::string("libdwfl: ") + dwfl_errmsg(-1));
            void** slot = nullptr;
            dwfl_module_info(s->mod, &slot, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
            userdata.push_back(std::make_unique<ModuleUserData>(ModuleUserData{this, s.get()}));
            *slot = userdata.back().get();
        }
        dwfl_report_end(s->dwfl, nullptr, nullptr);
        return s;
    }

    // Each thread keeps to one session (CU indexes are per session, so a
    // thread that resolves nearby addresses reuses what it parsed).
    std::unique_lock<std::mutex> acquire(Session*& out) {
        static std::atomic<unsigned> threads{0};
        thread_local const unsigned slot = threads++;
        std::unique_lock<std::mutex> pool(pool_mutex);
        const std::size_t want = slot % max_sessions;
        while (sessions.size() <= want) sessions.push_back(open_session());
        out = sessions[want].get();
        pool.unlock();
        return std::unique_lock<std::mutex>(out->mutex);
    }
};

DwarfSource::DwarfSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DwarfSource::~DwarfSource() = default;

namespace {
std::size_t default_sessions() {
    if (const char* v = std::getenv("KADDR_DWARF_SESSIONS")) return std::max(1, std::atoi(v));
    return std::max(1u, std::thread::hardware_concurrency());
}
}  // namespace

std::unique_ptr<DwarfSource> DwarfSource::for_image(std::shared_ptr<const ElfFile> image, std::span<const CuRange> cus,
                                                    std::shared_ptr<const void> keep) {
    auto impl = std::make_unique<Impl>();
    impl->file = std::move(image);
    impl->cus = cus;
    impl->cus_storage = std::move(keep);
    impl->max_sessions = default_sessions();
    impl->sessions.push_back(impl->open_session());  // fail early on a bad file
    return std::unique_ptr<DwarfSource>(new DwarfSource(std::move(impl)));
}

std::unique_ptr<DwarfSource> DwarfSource::for_module(std::shared_ptr<const ElfFile> ko,
                                                     std::vector<PlacedSection> sections) {
    auto impl = std::make_unique<Impl>();
    impl->file = std::move(ko);
    impl->is_module = true;
    impl->sections = std::move(sections);
    impl->max_sessions = default_sessions();
    impl->sessions.push_back(impl->open_session());
    return std::unique_ptr<DwarfSource>(new DwarfSource(std::move(impl)));
}

namespace {

// locate() inside one session, its lock held.
std::vector<SourceLocation> locate_in(Session* session, std::span<const CuRange> cus, std::uint64_t addr) {
    std::vector<SourceLocation> out;
    Dwarf_Addr bias = 0;
    Dwarf_Die die;
    Dwarf_Die* cudie = nullptr;
    if (!cus.empty() && !session->dwarf_checked) {
        session->dwarf_checked = true;
        Dwarf_Addr b = 0;
        session->dwarf = dwfl_module_getdwarf(session->mod, &b);
        if (b != 0) session->dwarf = nullptr;  // the index holds link-time ranges
    }
    // Only the CU whose ranges hold the address answers. libdwfl's own rule
    // (the greatest range start <= addr) also gives the gaps between CUs to
    // the CU before: 6.12's __pfx_ padding then takes the line of the
    // previous function's last row, where gdb and llvm-symbolizer rightly
    // give none.
    if (session->dwarf) {
        auto it = std::upper_bound(cus.begin(), cus.end(), addr, [](std::uint64_t a, const CuRange& c) { return a < c.lo; });
        if (it == cus.begin()) return out;
        --it;
        if (addr >= it->hi) return out;
        cudie = dwarf_offdie(session->dwarf, it->cu_offset, &die);
    } else {
        cudie = dwfl_module_addrdie(session->mod, addr, &bias);
        if (cudie && dwarf_haspc(cudie, addr - bias) != 1) return out;
    }
    if (!cudie) return out;
    const Dwarf_Addr a = addr - bias;
    CuIndex* idx = session->index_for(cudie);

    SourceLocation inner;
    if (Dwarf_Line* line = dwarf_getsrc_die(&idx->cudie, a)) {
        const char* raw = dwarf_linesrc(line, nullptr, nullptr);
        auto [name, fresh] = idx->clean_names.try_emplace(raw);
        if (fresh) name->second = clean_path(raw);
        inner.file = name->second;
        dwarf_lineno(line, &inner.line);
        dwarf_linecol(line, &inner.column);
    }
    FunctionIndex* fn = Session::function_at(*idx, a);
    int node = -1;
    if (fn) {
        auto seg = std::upper_bound(fn->segments.begin(), fn->segments.end(), a,
                                    [](Dwarf_Addr x, const Segment& s) { return x < s.start; });
        node = seg == fn->segments.begin() ? -1 : std::prev(seg)->node;
    }
    if (node >= 0 && fn->nodes[node].name) inner.function = fn->nodes[node].name;
    out.push_back(inner);
    // Each inlined instance's call site is a location in its parent.
    while (node >= 0 && fn->nodes[node].inlined) {
        const Node& n = fn->nodes[node];
        SourceLocation caller;
        caller.file = file_name(idx->files, n.call_file);
        caller.line = n.call_line;
        caller.column = n.call_column;
        node = n.parent;
        if (node >= 0 && fn->nodes[node].name) caller.function = fn->nodes[node].name;
        out.push_back(std::move(caller));
    }
    return out;
}

}  // namespace

std::vector<SourceLocation> DwarfSource::locate(std::uint64_t addr) {
    Session* session = nullptr;
    auto lock = impl_->acquire(session);
    return locate_in(session, impl_->cus, addr);
}

namespace {

// Calls f(lo, hi) for each address range of a compile unit, moved by bias.
template <class F>
void for_each_range(Dwarf_Die* cu, Dwarf_Addr bias, F f) {
    Dwarf_Addr base, lo, hi;
    for (std::ptrdiff_t r = 0; (r = dwarf_ranges(cu, r, &base, &lo, &hi)) > 0;)
        if (hi > lo) f(lo + bias, hi + bias);
}

}  // namespace

std::vector<std::pair<std::uint64_t, std::uint64_t>> DwarfSource::cu_ranges() {
    Session* session = nullptr;
    auto lock = impl_->acquire(session);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    Dwarf_Addr bias = 0;
    for (Dwarf_Die* cu = nullptr; (cu = dwfl_module_nextcu(session->mod, cu, &bias));)
        for_each_range(cu, bias, [&](std::uint64_t lo, std::uint64_t hi) { out.emplace_back(lo, hi); });
    std::sort(out.begin(), out.end());
    return out;
}

void DwarfSource::tabulate(std::atomic<std::size_t>& next_cu, const TabulateSink& at) {
    Session* session = nullptr;
    auto lock = impl_->acquire(session);
    // Every place where one of locate()'s inputs changes: a CU's range ends
    // (in the persisted ranges and in the DWARF), a line-table row, a
    // function's range, an inline segment. The answer is constant between
    // them except exactly at an end_sequence row or a last range's end
    // (both answer for the point itself), so the address after those counts too.
    std::vector<std::uint64_t> points;
    auto range_ends = [&](std::uint64_t lo, std::uint64_t hi) {
        points.push_back(lo);
        points.push_back(hi);
        points.push_back(hi + 1);
    };
    // Compile units are taken from the shared counter in runs of
    // kCuChunk, in order: their sizes differ by orders of magnitude, and
    // halves by count left one thread idle for a third of the build. (Runs,
    // not single units: an answer at a unit's edge may need its neighbour,
    // which a session then reads too.)
    constexpr std::size_t kCuChunk = 64;
    std::size_t claimed = next_cu.fetch_add(kCuChunk);
    Dwarf_Addr bias = 0;
    std::size_t i = 0;
    for (Dwarf_Die* cu = nullptr; (cu = dwfl_module_nextcu(session->mod, cu, &bias)); ++i) {
        if (i < claimed) continue;
        if (i == claimed + kCuChunk) claimed = next_cu.fetch_add(kCuChunk);
        if (i < claimed) continue;
        points.clear();
        if (i == 0)
            for (const auto& c : impl_->cus) range_ends(c.lo, c.hi);
        for_each_range(cu, bias, range_ends);
        Dwarf_Lines* lines = nullptr;
        std::size_t nlines = 0;
        if (dwarf_getsrclines(cu, &lines, &nlines) == 0)
            for (std::size_t l = 0; l < nlines; ++l) {
                Dwarf_Line* line = dwarf_onesrcline(lines, l);
                Dwarf_Addr a = 0;
                bool end_sequence = false;
                if (!line || dwarf_lineaddr(line, &a) != 0) continue;
                dwarf_lineendsequence(line, &end_sequence);
                points.push_back(a + bias);
                if (end_sequence) points.push_back(a + bias + 1);
            }
        CuIndex* idx = session->index_for(cu);
        for (auto& f : idx->functions) {
            Session::build(f);
            for (const auto& [flo, fhi] : f.ranges) {
                points.push_back(flo + bias);
                points.push_back(fhi + bias);
            }
            for (const auto& seg : f.segments) points.push_back(seg.start + bias);
        }
        std::sort(points.begin(), points.end());
        points.erase(std::unique(points.begin(), points.end()), points.end());
        for (std::uint64_t p : points) at(p, locate_in(session, impl_->cus, p));
    }
}

}  // namespace kaddr
