// The work of `kaddr batch` on one input, for a one-shot batch over files
// and for a long-lived stage fed on standard input alike: read the input
// (a report file, a kdump-tools crash directory, or text given in a
// JSON-lines request), hash it, find its reports, resolve each with the
// snapshot of its own facts, and write its records. An input that cannot
// be read, or that overruns its time budget, becomes one error record with
// a typed code; the stage goes on with the next. Nothing is kept between
// inputs but the snapshot pool (loaded kernel files, keyed by the facts
// that select them), so any subset of inputs gives the same records.
#pragma once
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kaddr/fleet.h"
#include "kaddr/snapshot_pool.h"
#include "kaddr/time_budget.h"

namespace kaddr {

// Why an input gave no reports (the "code" of its input-error record).
enum class InputErrorCode {
    Unreadable,          // missing, a directory, binary data, over --max-input-size
    TimeBudgetExceeded,  // over --time-budget
    BadRequest,          // a JSON-lines request that is no JSON object of a known shape
};
std::string_view input_error_code_name(InputErrorCode c);
nlohmann::json input_error_json(const std::string& source, InputErrorCode code, const std::string& message);

// One input. JSON-lines requests (`kaddr batch --requests -`), one object a
// line: {"path": "FILE"} or {"id": "NAME", "text": "REPORT TEXT"}, each
// with an optional "time" (the collector's ISO 8601 time of the report,
// used as its seen time by buckets).
struct BatchRequest {
    std::string path;                 // a file or crash directory
    std::optional<std::string> text;  // the report text itself (then `source` names it)
    std::string source;               // what records name as source_file
    std::string time;
};
// Throws Error (code BadRequest) for a line that is no such request.
BatchRequest parse_request(std::string_view json_line);

struct BatchOptions {
    bool summary = false;                           // summary records instead of full ones
    std::optional<std::size_t> exemplars;           // fully symbolize only this many reports per signature
    std::optional<std::chrono::duration<double>> time_budget;  // per input
};

struct BatchResult {
    std::string lines;  // JSON Lines for this input
    // The notes of each snapshot this input loaded first (for stderr: the
    // caller prints them, on the thread that writes the records).
    std::vector<std::string> notes;
    std::size_t reports = 0, resolved = 0, partial = 0, failed = 0;
    bool unreadable = false, no_report = false;
    std::optional<InputErrorCode> error;
};

class BatchStage {
public:
    // `pool` outlives the stage.
    BatchStage(SnapshotInputs in, SnapshotPool& pool, BatchOptions opt);

    // The inputs themselves, checked before any input is read: loads the
    // snapshot of the given files and returns its notes. A debug tree that
    // holds several kernels while nothing given names one is a debug store:
    // each report's release chooses its kernel, so that is a note, not an
    // error. Throws Error on unreadable inputs.
    std::vector<std::string> check_inputs();

    // Reading, hashing and parsing one input (thread-safe).
    struct Prepared;
    Prepared prepare(const BatchRequest& req) const;
    // Resolving and writing its records. Thread-safe without exemplars;
    // with them, call it in input order (which reports are exemplars is
    // decided in that order).
    BatchResult finish(Prepared p);
    BatchResult run(const BatchRequest& req) { return finish(prepare(req)); }

    struct Prepared {
        BatchRequest req;
        InputIdentity id;
        std::vector<OopsReport> reports;
        std::vector<CrashSignature> signatures;
        std::optional<BudgetClock::time_point> deadline;
        BatchResult head;       // records that come first (a dump's, or the input's error)
        bool finished = false;  // head is all: an error, or a dump explained whole
    };

private:
    void add_report(OopsReport r, const CrashSignature& sig, const Prepared& p, const std::string& input_release,
                    BatchResult& res);
    bool exemplar(const std::string& signature);

    SnapshotInputs in_;
    bool store_ = false;  // the debug tree holds several kernels and nothing given names one
    SnapshotPool& pool_;
    BatchOptions opt_;
    std::mutex mu_;
    std::map<std::string, std::size_t> exemplars_;  // signature -> full records written
};

}  // namespace kaddr
