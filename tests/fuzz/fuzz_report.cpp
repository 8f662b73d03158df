// The report text pipeline: line normaliser, lexer, segmenter, blame and
// explain against a real snapshot, and both renderings.
#include <sstream>

#include "fuzz_support.h"
#include "kaddr/oops.h"
#include "kaddr/oops_report.h"
#include "kaddr/resolver.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const kaddr::Resolver resolver(kfuzz::capture());
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    for (auto& r : kaddr::parse_reports(in)) {
        kaddr::ExplainedReport e = kaddr::explain(std::move(r), resolver);
        (void)kaddr::oops_to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        std::ostringstream text;
        kaddr::print_oops_text(text, e);
    }
    return 0;
}
