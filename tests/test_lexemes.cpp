#include <doctest/doctest.h>

#include "kaddr/lexemes.h"
#include "kaddr/resolver.h"

using namespace kaddr;

TEST_CASE("hex numbers with and without 0x") {
    CHECK(parse_hex("0xffffffffc037c046") == 0xffffffffc037c046ULL);
    CHECK(parse_hex("ffffffffc037c046") == 0xffffffffc037c046ULL);
    CHECK_FALSE(parse_hex("0x"));
    CHECK_FALSE(parse_hex("12g4"));
    CHECK_FALSE(parse_hex("1ffffffffffffffff"));  // 17 digits overflow
    CHECK(hex(0x1d) == "0x1d");
}

TEST_CASE("symbol references in every form the kernel prints") {
    auto r = parse_symbol_ref("ktoops_write+0x2a/0x60 [ktoops]");
    REQUIRE(r);
    CHECK(r->name == "ktoops_write");
    CHECK(r->offset == 0x2a);
    CHECK(r->size == 0x60);
    CHECK(r->module == "ktoops");

    r = parse_symbol_ref("sym+0x1d");
    REQUIRE(r);
    CHECK(r->offset == 0x1d);
    CHECK_FALSE(r->size);

    std::size_t used = 0;
    r = parse_symbol_ref("foo.constprop.0+0x4/0x10 [mod 8c5e0102abcd] rest", &used);
    REQUIRE(r);
    CHECK(r->name == "foo.constprop.0");
    CHECK(r->module == "mod");
    CHECK(r->build_id == "8c5e0102abcd");
    CHECK(used == std::string("foo.constprop.0+0x4/0x10 [mod 8c5e0102abcd]").size());

    CHECK_FALSE(parse_symbol_ref("+0x4"));
    CHECK_FALSE(parse_symbol_ref("foo+zz"));
}

TEST_CASE("resolve input: addresses versus symbol names") {
    CHECK(parse_address_text("0xffffffffc037c046") == 0xffffffffc037c046ULL);
    CHECK(parse_address_text("ffffffffc037c046") == 0xffffffffc037c046ULL);
    CHECK_FALSE(parse_address_text("add"));     // a symbol, though all hex digits
    CHECK_FALSE(parse_address_text("vfs_write"));
}
