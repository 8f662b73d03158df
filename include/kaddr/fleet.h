// Crash reports at fleet scale: what a record needs so that many processes
// on many hosts give the same answers as one (identity), so that duplicates
// group (crash signatures and their buckets), so that reports are routed
// to their own kernel before any kernel file is opened (route), and a
// record small enough to ship for every report (summary).
// Nothing here keeps state between inputs.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kaddr/oops.h"
#include "kaddr/oops_explain.h"
#include "kaddr/snapshot.h"

namespace kaddr {

// ---- identity ---------------------------------------------------------

// "xxh3-128:" + 32 hex digits of the bytes (the text as kaddr read it,
// after decompression).
std::string content_hash(std::string_view bytes);

// What a record was resolved with: a digest over the kernel files used
// (every file given, by path and size; every ELF file the snapshot chose,
// by build-id and size, else path and size), the chosen vmlinux and its
// build-id. Equal inputs give equal digests on any host.
struct KernelInputs {
    std::string digest;     // "xxh3-128:..."
    std::string vmlinux;    // "" when none was used
    std::string build_id;   // the vmlinux's, else the dump's; "" when unknown
    std::string release;    // the snapshot's release ("" when unknown)
};
KernelInputs kernel_inputs(const SnapshotInputs& given, const Snapshot& used);
nlohmann::json to_json(const KernelInputs& k);

// ---- crash signatures -------------------------------------------------

// Version 1 of the signature (see man kaddr, CRASH SIGNATURES): the kind,
// the guilty function as the report printed it, and the function names of
// the first kSignatureFrames reliable kernel frames from the guilty frame
// outwards (consecutive repeats once; compiler clone suffixes such as
// .isra.0, .constprop.0, .part.0, .cold dropped). No address, offset,
// module base, timestamp or file name goes in, so KASLR, reboots and
// debug files never change it. The id is "v1:" + XXH3-64 of those parts.
inline constexpr int kSignatureVersion = 1;
inline constexpr std::size_t kSignatureFrames = 5;

struct CrashSignature {
    std::string id;                   // "v1:0123456789abcdef"
    std::string kind, guilty;         // guilty: "" when nothing was blamed
    std::vector<std::string> frames;  // normalised function names
};
// From the printed report alone (no kernel files): blames it in place
// (which the parser already did; it is idempotent).
CrashSignature crash_signature(OopsReport& r);
// A function name without compiler clone suffixes: "f.isra.0" -> "f".
std::string normalise_function(std::string_view name);
nlohmann::json to_json(const CrashSignature& s);

// ---- when a report was seen ------------------------------------------

// The key buckets order reports by: the report's own wall-clock time when
// its first line carries one (an ISO 8601 "YYYY-MM-DDTHH:MM:SS" prefix, as
// journalctl -o short-iso prints; or the time a JSON-lines request gives),
// else none; then the input order key "SOURCE:LINE" (LINE zero-padded).
// Keys with a time sort before keys without one.
struct SeenKey {
    std::string time;   // "" when the report has none
    std::string order;  // source and line
    bool operator==(const SeenKey&) const = default;
    bool operator<(const SeenKey& o) const {
        if (time.empty() != o.time.empty()) return !time.empty();  // timed keys first
        return time != o.time ? time < o.time : order < o.order;
    }
};
// "YYYY-MM-DDTHH:MM:SS" from the start of a line, or "".
std::string leading_iso_time(std::string_view raw_line);
SeenKey seen_key(const OopsReport& r, const std::string& source, const std::string& given_time = {});
nlohmann::json to_json(const SeenKey& k);

// ---- records ---------------------------------------------------------

// What every batch record says of its input: where it came from, its
// content hash, and the kaddr version.
struct InputIdentity {
    std::string source;        // the file name, or the request's id
    std::string content_hash;  // of the input's text
    std::string time;          // a JSON-lines request's "time", else ""
};
// Adds source_file, source_line, input_hash, kaddr_version, kernel_inputs
// and signature to a report record.
void add_identity(nlohmann::json& record, const InputIdentity& id, std::size_t source_line,
                  const KernelInputs& kernel, const CrashSignature& sig, const SeenKey& seen);

// The compact record ("summary"): title, kind, signature, guilty frame with
// file:line, release, build-id and source; at most kMaxSummaryBytes as a
// JSON line (long strings are clipped to fit).
inline constexpr std::size_t kMaxSummaryBytes = 2048;
nlohmann::json summary_json(const ExplainedReport& e, const InputIdentity& id, const KernelInputs& kernel,
                            const CrashSignature& sig, const SeenKey& seen);
// The same from the parse alone (exemplar mode's other reports): nothing
// symbolized, so the guilty frame has no file:line.
nlohmann::json summary_json(const OopsReport& r, const InputIdentity& id, const CrashSignature& sig,
                            const SeenKey& seen);
// `s` cut to at most `max` bytes on a UTF-8 boundary, "..." marking a cut.
std::string clip(std::string_view s, std::size_t max);

// ---- routing ---------------------------------------------------------

// What an input says of its kernel, read without parsing reports: the
// release (`CPU: .. Tainted: .. RELEASE #..`, `Linux version RELEASE`), the
// architecture (the release's suffix, else the register lines' shapes),
// build-ids printed with frames (`[mod BUILDID]`) and the first headline.
struct Route {
    std::string release, arch, headline, kind;  // "" when not found
    std::string build_id;                       // the kernel's (dumps), else ""
    std::map<std::string, std::string> module_build_ids;
    std::size_t lines = 0;
    std::string input_hash;  // content_hash of a text input ("" for dumps: not read whole)
};
Route route_text(std::string_view text);
// A report file or a kdump vmcore (its VMCOREINFO only).
Route route_file(const std::string& path);
nlohmann::json to_json(const Route& r, const std::string& source);

// ---- buckets ---------------------------------------------------------

// Reports grouped by signature. Merging is associative and commutative:
// counts add, first/last seen are the least/greatest SeenKey, and the
// exemplar (source, title) is that of the least key, so any grouping of
// partial results merges to the same buckets.
struct Bucket {
    CrashSignature sig;
    std::uint64_t count = 0;
    SeenKey first, last;
    std::string title, exemplar_source;
    std::size_t exemplar_line = 0;
};
class Buckets {
public:
    // A record line of `kaddr batch` (report or summary) or of `kaddr
    // buckets` (bucket); other records are ignored. Returns false for a
    // line that is none of those.
    bool add_record(const nlohmann::json& record);
    void merge(const Bucket& b);
    // By signature id.
    const std::map<std::string, Bucket>& all() const { return buckets_; }

private:
    std::map<std::string, Bucket> buckets_;
};
nlohmann::json to_json(const Bucket& b);

}  // namespace kaddr
