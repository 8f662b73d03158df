// What a batch record says of its input and of the kernel files it was
// resolved with, and the compact summary record.
#include <xxhash.h>

#include <cstdio>
#include <filesystem>

#include "kaddr/fleet.h"
#include "kaddr/json_schema.h"
#include "kaddr/oops_blame.h"
#include "kaddr/version.h"

namespace kaddr {

using nlohmann::json;

namespace {

json opt(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

std::string hex128(const XXH128_hash_t& h) {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                  static_cast<unsigned long long>(h.low64));
    return buf;
}

std::string xxh128(std::string_view bytes) { return "xxh3-128:" + hex128(XXH3_128bits(bytes.data(), bytes.size())); }

// "PATH SIZE" of a given input ("PATH dir" for a directory, "PATH -" when
// it cannot be read: the loader said so already).
std::string given(const char* what, const std::string& path) {
    if (path.empty()) return {};
    std::error_code ec;
    std::string size = "-";
    if (std::filesystem::is_directory(path, ec)) size = "dir";
    else if (const auto n = std::filesystem::file_size(path, ec); !ec) size = std::to_string(n);
    return std::string(what) + ' ' + path + ' ' + size + '\n';
}

// An ELF file the snapshot chose: by build-id where it has one, so that
// the same files at other paths give the same digest.
std::string chosen(const char* what, const ElfFile& f) {
    const std::string id = f.build_id().empty() ? f.path() : "build-id:" + f.build_id();
    return std::string(what) + ' ' + id + ' ' + std::to_string(f.file_size()) + '\n';
}

}  // namespace

std::string content_hash(std::string_view bytes) { return xxh128(bytes); }

KernelInputs kernel_inputs(const SnapshotInputs& in, const Snapshot& used) {
    std::string d;
    d += given("snapshot", in.snapshot_dir) + given("vmlinux", in.vmlinux) + given("system-map", in.system_map) +
         given("kallsyms", in.kallsyms) + given("proc-modules", in.proc_modules) + given("sections", in.sections) +
         given("proc-version", in.version) + given("kernel-notes", in.kernel_notes) + given("debug-root", in.debug_root) +
         given("vmcore", in.vmcore);
    for (const auto& m : in.module_dirs) d += given("modules", m);
    for (const auto& k : in.ko_files) d += given("ko", k);
    for (const auto& k : in.link_time_modules) d += given("ko-link-time", k);
    KernelInputs k;
    if (used.core.vmlinux) {
        d += chosen("core", *used.core.vmlinux);
        k.vmlinux = used.core.vmlinux->path();
        k.build_id = used.core.vmlinux->build_id();
    }
    if (k.build_id.empty() && used.vmcore) k.build_id = used.vmcore->build_id;
    for (const auto& m : used.modules)
        if (m->ko) d += chosen(m->name.c_str(), *m->ko);
    k.release = used.version.release;
    k.digest = xxh128(d);
    return k;
}

json to_json(const KernelInputs& k) {
    return {{"digest", k.digest}, {"vmlinux", opt(k.vmlinux)}, {"build_id", opt(k.build_id)}, {"release", opt(k.release)}};
}

void add_identity(json& j, const InputIdentity& id, std::size_t source_line, const KernelInputs& kernel,
                  const CrashSignature& sig, const SeenKey& seen) {
    j["source_file"] = id.source;
    j["source_line"] = source_line;
    j["input_hash"] = id.content_hash;
    j["kaddr_version"] = kVersion;
    j["kernel_inputs"] = to_json(kernel);
    j["signature"] = to_json(sig);
    j["seen_time"] = opt(seen.time);
}

std::string clip(std::string_view s, std::size_t max) {
    if (s.size() <= max) return std::string(s);
    std::size_t n = max > 3 ? max - 3 : 0;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;  // not inside a UTF-8 sequence
    return std::string(s.substr(0, n)) + "...";
}

namespace {

struct SummaryParts {
    std::string title, kind, release, build_id, guilty_function, guilty_module, guilty_file;
    int guilty_line = 0;
    bool guilty = false;
};

// The record with every string clipped to `max` bytes.
json summary_record(const SummaryParts& p, const InputIdentity& id, std::size_t source_line, const CrashSignature& sig,
                    const SeenKey& seen, const std::string& kernel_digest, std::size_t max) {
    auto c = [&](const std::string& s) { return s.empty() ? json(nullptr) : json(clip(s, max)); };
    json frames = json::array();
    for (const auto& f : sig.frames) frames.push_back(clip(f, max));
    json j{{"schema_version", kJsonSchemaVersion},
           {"record", "summary"},
           {"title", clip(p.title, max)},
           {"kind", p.kind},
           {"signature",
            {{"id", sig.id}, {"version", kSignatureVersion}, {"kind", sig.kind}, {"guilty", c(sig.guilty)}, {"frames", frames}}},
           {"guilty", p.guilty ? json({{"function", clip(p.guilty_function, max)},
                                       {"module", c(p.guilty_module)},
                                       {"file", c(p.guilty_file)},
                                       {"line", p.guilty_line > 0 ? json(p.guilty_line) : json(nullptr)}})
                               : json(nullptr)},
           {"release", c(p.release)},
           {"build_id", c(p.build_id)},
           {"source_file", clip(id.source, std::max<std::size_t>(max, 64))},
           {"source_line", source_line},
           {"seen_time", opt(seen.time)},
           {"input_hash", id.content_hash},
           {"kernel_inputs", kernel_digest.empty() ? json(nullptr) : json(kernel_digest)},
           {"kaddr_version", kVersion}};
    return j;
}

json fit(const SummaryParts& p, const InputIdentity& id, std::size_t source_line, const CrashSignature& sig,
         const SeenKey& seen, const std::string& kernel_digest) {
    for (std::size_t max = 512;; max /= 2) {
        json j = summary_record(p, id, source_line, sig, seen, kernel_digest, max);
        if (j.dump().size() + 1 <= kMaxSummaryBytes || max <= 16) return j;
    }
}

}  // namespace

json summary_json(const ExplainedReport& e, const InputIdentity& id, const KernelInputs& kernel, const CrashSignature& sig,
                  const SeenKey& seen) {
    SummaryParts p;
    p.title = e.title;
    p.kind = kind_name(e.report.kind);
    p.release = !e.report.release.empty() ? e.report.release : kernel.release;
    p.build_id = kernel.build_id;
    if (e.guilty || !e.guilty_function.empty()) {
        p.guilty = true;
        p.guilty_function = e.guilty_function;
        if (e.guilty) {
            const Resolution& r = e.frames[*e.guilty].resolution;
            if (r.module) p.guilty_module = *r.module;
            if (!r.locations.empty()) {
                p.guilty_file = r.locations.front().file;
                p.guilty_line = r.locations.front().line;
            }
        }
    }
    return fit(p, id, e.report.first_line(), sig, seen, kernel.digest);
}

json summary_json(const OopsReport& r, const InputIdentity& id, const CrashSignature& sig, const SeenKey& seen) {
    SummaryParts p;
    OopsReport copy = r;
    const Blame b = blame(copy);
    p.title = report_title(copy, b.function);
    p.kind = kind_name(r.kind);
    p.release = r.release;
    if (b.frame || !b.function.empty()) {
        p.guilty = true;
        p.guilty_function = b.function;
        if (b.frame && copy.frames[*b.frame].symbol) p.guilty_module = copy.frames[*b.frame].symbol->module;
    }
    return fit(p, id, r.first_line(), sig, seen, {});
}

}  // namespace kaddr
