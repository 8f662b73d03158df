// The lockless printk ring buffer (kernel/printk/printk_ringbuffer.h):
// `prb` points to a printk_ringbuffer {desc_ring, text_data_ring}. The
// descriptor ring holds 2^count_bits prb_desc {state_var, text_blk_lpos}
// and as many printk_info {seq, ts_nsec, text_len, ...}; ids run from
// tail_id to head_id. A descriptor's text block starts with its id (one
// unsigned long) and lives at begin % data size; a block that wraps is
// stored whole from the start of the data ring.
#include <cctype>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "kaddr/error.h"
#include "struct_bytes.h"
#include "kaddr/vmcore_log.h"

namespace kaddr {

namespace {

constexpr unsigned kSvBits = 64;
constexpr unsigned kFlagsShift = kSvBits - 2;
constexpr std::uint64_t kFlagsMask = 3ULL << kFlagsShift;
constexpr std::uint64_t kIdMask = ~kFlagsMask;
enum DescState : unsigned { Reserved = 0, Committed = 1, Finalized = 2, Reusable = 3 };

struct Offsets {
    std::uint64_t prb, rb_desc_ring, rb_text_ring;
    std::uint64_t dr_count_bits, dr_descs, dr_infos, dr_head, dr_tail;
    std::uint64_t desc_size, desc_state, desc_lpos, lpos_begin, lpos_next;
    std::uint64_t info_size, info_seq, info_ts, info_len, info_caller;
    std::uint64_t tr_size_bits, tr_data, counter;
};

Offsets offsets(const Vmcore& dump) {
    const VmcoreInfo& vi = dump.info();
    std::string missing;
    auto need = [&](std::optional<std::uint64_t> v, const char* what) {
        if (!v && missing.empty()) missing = what;
        return v.value_or(0);
    };
    Offsets o{};
    o.prb = need(vi.symbol("prb"), "SYMBOL(prb)");
    o.rb_desc_ring = need(vi.offset("printk_ringbuffer.desc_ring"), "OFFSET(printk_ringbuffer.desc_ring)");
    o.rb_text_ring = need(vi.offset("printk_ringbuffer.text_data_ring"), "OFFSET(printk_ringbuffer.text_data_ring)");
    o.dr_count_bits = need(vi.offset("prb_desc_ring.count_bits"), "OFFSET(prb_desc_ring.count_bits)");
    o.dr_descs = need(vi.offset("prb_desc_ring.descs"), "OFFSET(prb_desc_ring.descs)");
    o.dr_infos = need(vi.offset("prb_desc_ring.infos"), "OFFSET(prb_desc_ring.infos)");
    o.dr_head = need(vi.offset("prb_desc_ring.head_id"), "OFFSET(prb_desc_ring.head_id)");
    o.dr_tail = need(vi.offset("prb_desc_ring.tail_id"), "OFFSET(prb_desc_ring.tail_id)");
    o.desc_size = need(vi.size("prb_desc"), "SIZE(prb_desc)");
    o.desc_state = need(vi.offset("prb_desc.state_var"), "OFFSET(prb_desc.state_var)");
    o.desc_lpos = need(vi.offset("prb_desc.text_blk_lpos"), "OFFSET(prb_desc.text_blk_lpos)");
    o.lpos_begin = need(vi.offset("prb_data_blk_lpos.begin"), "OFFSET(prb_data_blk_lpos.begin)");
    o.lpos_next = need(vi.offset("prb_data_blk_lpos.next"), "OFFSET(prb_data_blk_lpos.next)");
    o.info_size = need(vi.size("printk_info"), "SIZE(printk_info)");
    o.info_seq = need(vi.offset("printk_info.seq"), "OFFSET(printk_info.seq)");
    o.info_ts = need(vi.offset("printk_info.ts_nsec"), "OFFSET(printk_info.ts_nsec)");
    o.info_len = need(vi.offset("printk_info.text_len"), "OFFSET(printk_info.text_len)");
    o.info_caller = need(vi.offset("printk_info.caller_id"), "OFFSET(printk_info.caller_id)");
    o.tr_size_bits = need(vi.offset("prb_data_ring.size_bits"), "OFFSET(prb_data_ring.size_bits)");
    o.tr_data = need(vi.offset("prb_data_ring.data"), "OFFSET(prb_data_ring.data)");
    o.counter = vi.offset("atomic_long_t.counter").value_or(0);
    if (!missing.empty())
        throw Error(dump.path(), "VMCOREINFO has no " + missing + ": not a lockless printk ring buffer (Linux 5.10+)",
                    "older kernels keep the log in log_buf; use the dmesg file kdump-tools saved beside the dump");
    return o;
}


std::vector<unsigned char> read_block(const Vmcore& dump, std::uint64_t addr, std::uint64_t len, const char* what) {
    if (len > (1ULL << 30)) throw Error(dump.path(), std::string(what) + " is implausibly large (" + std::to_string(len) + " bytes)",
                                        "the dump is damaged");
    std::vector<unsigned char> buf(len);
    dump.read_exact(addr, buf.data(), buf.size(), what);
    return buf;
}

}  // namespace

std::vector<LogRecord> read_kernel_log(const Vmcore& dump) {
    const Offsets o = offsets(dump);
    const std::uint64_t rb = dump.read_u64(o.prb, "the printk ring buffer pointer (prb)");
    const auto desc_ring = read_block(dump, rb + o.rb_desc_ring, o.rb_text_ring - o.rb_desc_ring, "prb->desc_ring");
    const auto text_ring = read_block(dump, rb + o.rb_text_ring, o.tr_data + 8, "prb->text_data_ring");

    const auto count_bits = struct_field<std::uint32_t>(desc_ring, o.dr_count_bits);
    const auto size_bits = struct_field<std::uint32_t>(text_ring, o.tr_size_bits);
    if (count_bits > 30 || size_bits > 34)
        throw Error(dump.path(), "printk ring buffer sizes are implausible (2^" + std::to_string(count_bits) +
                                     " descriptors, 2^" + std::to_string(size_bits) + " bytes)",
                    "the dump is damaged");
    const std::uint64_t count = 1ULL << count_bits, data_size = 1ULL << size_bits;
    const auto descs = read_block(dump, struct_field<std::uint64_t>(desc_ring, o.dr_descs), count * o.desc_size, "the printk descriptors");
    const auto infos = read_block(dump, struct_field<std::uint64_t>(desc_ring, o.dr_infos), count * o.info_size, "the printk infos");
    const auto data = read_block(dump, struct_field<std::uint64_t>(text_ring, o.tr_data), data_size, "the printk text ring");
    const std::uint64_t head = struct_field<std::uint64_t>(desc_ring, o.dr_head + o.counter) & kIdMask;
    const std::uint64_t tail = struct_field<std::uint64_t>(desc_ring, o.dr_tail + o.counter) & kIdMask;

    std::vector<LogRecord> out;
    auto record = [&](std::uint64_t id) {
        const std::uint64_t d = (id % count) * o.desc_size, i = (id % count) * o.info_size;
        const auto sv = struct_field<std::uint64_t>(descs, d + o.desc_state + o.counter);
        const unsigned state = static_cast<unsigned>((sv & kFlagsMask) >> kFlagsShift);
        if (state != Committed && state != Finalized) return;  // being written or already recycled
        std::uint64_t begin = struct_field<std::uint64_t>(descs, d + o.desc_lpos + o.lpos_begin);
        std::uint64_t next = struct_field<std::uint64_t>(descs, d + o.desc_lpos + o.lpos_next);
        LogRecord r;
        r.seq = struct_field<std::uint64_t>(infos, i + o.info_seq);
        r.ts_nsec = struct_field<std::uint64_t>(infos, i + o.info_ts);
        r.caller_id = struct_field<std::uint32_t>(infos, i + o.info_caller);
        std::uint64_t len = struct_field<std::uint16_t>(infos, i + o.info_len);
        if (begin & 1) {
            len = 0;  // a data-less block (the text did not fit)
        } else {
            begin %= data_size;
            next %= data_size;
            if (begin > next) begin = 0;  // wrapped: the block is stored from the start
            begin += sizeof(std::uint64_t);  // skip the block's id
            if (next < begin) len = 0;
            else if (next - begin < len) len = next - begin;  // truncated message
            if (begin + len > data_size) len = begin < data_size ? data_size - begin : 0;  // damaged lpos
            r.text.assign(reinterpret_cast<const char*>(data.data() + begin), len);
        }
        out.push_back(std::move(r));
    };
    for (std::uint64_t id = tail; id != head; id = (id + 1) & kIdMask) record(id);
    record(head);
    return out;
}

void print_log(std::ostream& out, const std::vector<LogRecord>& log) {
    std::string line;
    for (const auto& r : log) {
        char ts[48];
        std::snprintf(ts, sizeof ts, "[%5llu.%06llu] ", static_cast<unsigned long long>(r.ts_nsec / 1000000000),
                      static_cast<unsigned long long>(r.ts_nsec % 1000000000 / 1000));
        line = ts;
        const std::size_t indent = line.size();
        for (unsigned char c : r.text) {
            if (c == '\n') {  // a multi-line record: later lines line up under the text
                line += '\n';
                line.append(indent, ' ');
            } else if (std::isprint(c) || std::isspace(c)) {
                line += static_cast<char>(c);
            } else {
                char esc[8];
                std::snprintf(esc, sizeof esc, "\\x%02x", c);
                line += esc;
            }
        }
        line += '\n';
        out << line;
    }
}

std::string format_log(const std::vector<LogRecord>& log) {
    std::ostringstream s;
    print_log(s, log);
    return s.str();
}

}  // namespace kaddr
