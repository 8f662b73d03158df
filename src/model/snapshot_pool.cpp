#include "kaddr/snapshot_pool.h"

#include "kaddr/lexemes.h"

namespace kaddr {

std::string report_facts_key(const SnapshotInputs& in) {
    std::string k = in.report_release + '\n' + std::string(arch_name(in.report_arch)) + '\n';
    if (in.kaslr_offset) k += hex(static_cast<std::uint64_t>(*in.kaslr_offset));
    k += '\n';
    for (const auto& m : in.report_modules) k += m + ' ';
    k += '\n';
    for (const auto& [m, id] : in.report_build_ids) k += m + '=' + id + ' ';
    k += '\n';
    for (const auto& a : in.anchors)
        k += hex(a.address) + ' ' + a.symbol.name + '+' + hex(a.symbol.offset) + ' ' + a.symbol.module + '\n';
    return k;
}

std::shared_ptr<const Snapshot> SnapshotPool::get(const SnapshotInputs& in, bool* fresh) {
    const std::string key = report_facts_key(in);
    std::lock_guard lock(mu_);  // loads are serialised: they share files and caches
    if (fresh) *fresh = false;
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (it->key == key) {
            entries_.splice(entries_.begin(), entries_, it);
            return entries_.front().snap;
        }
    std::shared_ptr<const Snapshot> snap = load_snapshot(in);
    if (fresh) *fresh = true;
    entries_.push_front({key, snap});
    if (entries_.size() > keep_) entries_.pop_back();
    return snap;
}

}  // namespace kaddr
