// Buckets of reports by crash signature, merged from any partial results
// (records of `kaddr batch`, buckets of earlier `kaddr buckets` runs).
#include <cstdio>

#include "kaddr/fleet.h"
#include "kaddr/json_schema.h"

namespace kaddr {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

CrashSignature signature_of(const json& s) {
    CrashSignature sig;
    sig.id = str(s, "id");
    sig.kind = str(s, "kind");
    sig.guilty = str(s, "guilty");
    if (const auto f = s.find("frames"); f != s.end() && f->is_array())
        for (const auto& x : *f)
            if (x.is_string()) sig.frames.push_back(x.get<std::string>());
    return sig;
}

SeenKey seen_of(const json& j) { return {str(j, "time"), str(j, "order")}; }

std::string order_key(const std::string& source, std::size_t line) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%010zu", line);
    return source + ":" + buf;
}

}  // namespace

void Buckets::merge(const Bucket& b) {
    auto [it, added] = buckets_.emplace(b.sig.id, b);
    if (added) return;
    Bucket& a = it->second;
    a.count += b.count;
    if (b.first < a.first) {
        a.first = b.first;
        a.title = b.title;
        a.exemplar_source = b.exemplar_source;
        a.exemplar_line = b.exemplar_line;
        a.sig = b.sig;
    }
    if (a.last < b.last) a.last = b.last;
}

bool Buckets::add_record(const json& r) {
    if (!r.is_object()) return false;
    const std::string kind = str(r, "record");
    if (kind == "bucket") {
        Bucket b;
        b.sig = signature_of(r.value("signature", json::object()));
        b.count = r.value("count", std::uint64_t{0});
        b.first = seen_of(r.value("first_seen", json::object()));
        b.last = seen_of(r.value("last_seen", json::object()));
        b.title = str(r, "title");
        const json ex = r.value("exemplar", json::object());
        b.exemplar_source = str(ex, "source_file");
        b.exemplar_line = ex.value("source_line", std::size_t{0});
        if (b.sig.id.empty()) return false;
        merge(b);
        return true;
    }
    if (kind != "report" && kind != "summary") return kind == "no-report" || kind == "input-error" ||
                                                      kind == "batch-totals" || kind == "stack";
    const auto s = r.find("signature");
    if (s == r.end() || !s->is_object()) return true;  // a report of a dump: no signature
    Bucket b;
    b.sig = signature_of(*s);
    b.count = 1;
    b.exemplar_source = str(r, "source_file");
    b.exemplar_line = r.value("source_line", std::size_t{0});
    b.first = b.last = {str(r, "seen_time"), order_key(b.exemplar_source, b.exemplar_line)};
    b.title = str(r, "title");
    merge(b);
    return true;
}

json to_json(const Bucket& b) {
    return {{"schema_version", kJsonSchemaVersion},
            {"record", "bucket"},
            {"signature", to_json(b.sig)},
            {"title", b.title},
            {"count", b.count},
            {"first_seen", to_json(b.first)},
            {"last_seen", to_json(b.last)},
            {"exemplar", {{"source_file", b.exemplar_source}, {"source_line", b.exemplar_line}}}};
}

}  // namespace kaddr
