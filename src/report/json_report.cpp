// The JSON record of one address (schema/kaddr-record.schema.json,
// "address"): typed fields only. Addresses are "0x..." strings, sizes and
// offsets integers, and what is unknown is null, never 0 or "".
#include <map>

#include "kaddr/json_schema.h"
#include "kaddr/lexemes.h"
#include "kaddr/report.h"

namespace kaddr {

using nlohmann::json;

std::string json_line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }

namespace {

json opt_string(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
json opt_positive(int v) { return v > 0 ? json(v) : json(nullptr); }

// The architecture maps' region names (src/model/arch.cpp) as the schema's
// enum. A name missing here is a bug the schema test catches ("unlisted").
const std::map<std::string, std::string, std::less<>>& region_tokens() {
    static const std::map<std::string, std::string, std::less<>> t{
        {"NULL page", "null-page"},
        {"user", "user"},
        {"non-canonical", "non-canonical"},
        {"direct map", "direct-map"},
        {"direct map, vmalloc or vmemmap", "direct-map-vmalloc-or-vmemmap"},
        {"vmalloc/ioremap", "vmalloc"},
        {"vmalloc", "vmalloc"},
        {"vmemmap", "vmemmap"},
        {"cpu_entry_area", "cpu-entry-area"},
        {"kernel text mapping", "kernel-text"},
        {"modules", "modules"},
        {"fixmap", "fixmap"},
        {"vsyscall", "vsyscall"},
        {"%esp fixup stacks", "espfix"},
        {"EFI runtime services", "efi-runtime"},
        {"KASAN shadow", "kasan-shadow"},
        {"unused hole", "unused-hole"},
        {"guard hole / LDT remap", "guard-hole"},
        {"linear map", "linear-map"},
        {"lowmem (direct map) or vmalloc", "lowmem-or-vmalloc"},
        {"PCI I/O", "pci-io"},
        {"vectors", "vectors"},
        {"unknown", "unknown"},
    };
    return t;
}

json region_token(const std::string& name) {
    if (name.empty()) return nullptr;
    auto it = region_tokens().find(name);
    return it == region_tokens().end() ? json("unlisted") : json(it->second);
}

json owner_token(Owner o) {
    switch (o) {
        case Owner::Kernel: return "kernel";
        case Owner::Module: return "module";
        default: return nullptr;
    }
}

}  // namespace

std::string_view error_code_name(ResolveErrorCode c) {
    switch (c) {
        case ResolveErrorCode::None: return "none";
        case ResolveErrorCode::NoSymbols: return "no-symbols";
        case ResolveErrorCode::UserAddress: return "user-address";
        case ResolveErrorCode::NullPage: return "null-page";
        case ResolveErrorCode::UnmappedAddress: return "unmapped-address";
        case ResolveErrorCode::UnknownModule: return "unknown-module";
        case ResolveErrorCode::UnknownSymbol: return "unknown-symbol";
        case ResolveErrorCode::BadInput: return "bad-input";
        case ResolveErrorCode::DebugFileMismatch: return "debug-file-mismatch";
    }
    return "none";
}

json error_json(std::string_view code, const std::string& message) {
    return {{"code", std::string(code)}, {"message", message}};
}

json to_json(const SourceLocation& l) {
    return {{"function", opt_string(l.function)},
            {"file", opt_string(l.file)},
            {"line", opt_positive(l.line)},
            {"column", opt_positive(l.column)}};
}

json to_json(const Resolution& r) {
    const bool has_symbol = !r.symbol.empty();
    json j;
    j["schema_version"] = kJsonSchemaVersion;
    j["record"] = "address";
    j["input"] = r.input;
    j["address"] = r.address ? json(hex(*r.address)) : json(nullptr);
    j["lookup_address"] = r.lookup ? json(hex(*r.lookup)) : json(nullptr);
    j["address_kind"] = r.kind == AddressKind::Return ? "return" : "pc";
    j["region"] = region_token(r.static_region);
    j["region_assumption"] = opt_string(r.region_assumption);
    j["owner"] = owner_token(r.owner);
    j["module"] = r.module ? json(*r.module) : json(nullptr);
    j["section"] = opt_string(r.section);
    j["section_offset"] = r.section_offset ? json(*r.section_offset) : json(nullptr);
    j["symbol"] = opt_string(r.symbol);
    j["offset"] = has_symbol ? json(r.offset) : json(nullptr);
    j["size"] = has_symbol && r.size ? json(r.size) : json(nullptr);  // st_size 0: unknown
    j["size_kind"] = has_symbol ? opt_string(r.size_kind) : json(nullptr);
    j["span"] = has_symbol && r.span ? json(r.span) : json(nullptr);
    j["aliases"] = r.aliases;
    json locs = json::array();
    for (const auto& l : r.locations) locs.push_back(to_json(l));
    j["locations"] = std::move(locs);
    j["found_by"] = r.found_by;
    j["confidence"] = r.error ? json(nullptr) : opt_string(r.confidence);
    json c = json::array();
    for (const auto& x : r.candidates)
        c.push_back({{"module", opt_string(x.module)},
                     {"address", hex(x.address)},
                     {"size", x.size ? json(x.size) : json(nullptr)},
                     {"file", opt_string(x.file)},
                     {"line", opt_positive(x.line)}});
    j["candidates"] = std::move(c);
    j["notes"] = r.notes;
    j["error"] = r.error ? error_json(error_code_name(r.error_code), *r.error) : json(nullptr);
    return j;
}

}  // namespace kaddr
