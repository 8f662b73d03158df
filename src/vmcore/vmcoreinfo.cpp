// VMCOREINFO text: one KEY=VALUE per line, SYMBOL() and KERNELOFFSET in
// hex without 0x, OFFSET()/SIZE()/LENGTH()/NUMBER() in decimal (NUMBER may
// be negative).
#include <charconv>

#include "kaddr/error.h"
#include "kaddr/vmcore.h"

namespace kaddr {

namespace {

template <class T>
std::optional<T> to_number(const std::optional<std::string>& s, int base) {
    if (!s || s->empty()) return std::nullopt;
    T v{};
    const char* b = s->data();
    const char* e = b + s->size();
    auto [p, ec] = std::from_chars(b, e, v, base);
    if (ec != std::errc() || p != e) return std::nullopt;
    return v;
}

}  // namespace

VmcoreInfo VmcoreInfo::parse(std::string_view text, const std::string& file) {
    VmcoreInfo info;
    std::size_t line = 0;
    while (!text.empty()) {
        ++line;
        std::size_t nl = text.find('\n');
        std::string_view l = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (l.empty()) continue;
        std::size_t eq = l.find('=');
        if (eq == std::string_view::npos || eq == 0)
            throw Error(file, "VMCOREINFO line " + std::to_string(line) + " is not KEY=VALUE: '" + std::string(l) + "'",
                        "the note is damaged");
        info.map_.emplace(std::string(l.substr(0, eq)), std::string(l.substr(eq + 1)));
    }
    return info;
}

std::optional<std::string> VmcoreInfo::value(const std::string& key) const {
    auto it = map_.find(key);
    return it == map_.end() ? std::nullopt : std::optional<std::string>(it->second);
}

std::optional<std::int64_t> VmcoreInfo::kernel_offset() const {
    auto v = to_number<std::uint64_t>(value("KERNELOFFSET"), 16);
    return v ? std::optional<std::int64_t>(static_cast<std::int64_t>(*v)) : std::nullopt;
}
std::optional<std::uint64_t> VmcoreInfo::page_size() const { return to_number<std::uint64_t>(value("PAGESIZE"), 10); }
std::optional<std::int64_t> VmcoreInfo::crash_time() const { return to_number<std::int64_t>(value("CRASHTIME"), 10); }
std::optional<std::uint64_t> VmcoreInfo::symbol(const std::string& n) const {
    return to_number<std::uint64_t>(value("SYMBOL(" + n + ")"), 16);
}
std::optional<std::uint64_t> VmcoreInfo::offset(const std::string& m) const {
    return to_number<std::uint64_t>(value("OFFSET(" + m + ")"), 10);
}
std::optional<std::uint64_t> VmcoreInfo::size(const std::string& t) const {
    return to_number<std::uint64_t>(value("SIZE(" + t + ")"), 10);
}
std::optional<std::int64_t> VmcoreInfo::number(const std::string& n) const {
    return to_number<std::int64_t>(value("NUMBER(" + n + ")"), 10);
}
std::optional<std::uint64_t> VmcoreInfo::length(const std::string& n) const {
    return to_number<std::uint64_t>(value("LENGTH(" + n + ")"), 10);
}

}  // namespace kaddr
