// Modules ship as .ko.xz / .ko.zst / .ko.gz. libdw only knows some of these,
// so kaddr decompresses into memory itself, recognising the format by magic.
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

#include "kaddr/elf_file.h"
#include "kaddr/error.h"

namespace kaddr {

namespace {

void fail(const std::string& path, const std::string& format) {
    throw Error(path, "corrupt or truncated " + format + " data", "re-fetch the file");
}

void xz(const char* data, std::size_t size, std::vector<char>& out, const std::string& path) {
    lzma_stream s = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) fail(path, "xz");
    s.next_in = reinterpret_cast<const uint8_t*>(data);
    s.avail_in = size;
    out.resize(size * 4 + 4096);
    lzma_ret r;
    do {
        if (s.total_out == out.size()) out.resize(out.size() * 2);
        s.next_out = reinterpret_cast<uint8_t*>(out.data()) + s.total_out;
        s.avail_out = out.size() - s.total_out;
        r = lzma_code(&s, LZMA_FINISH);
    } while (r == LZMA_OK);
    out.resize(s.total_out);
    lzma_end(&s);
    if (r != LZMA_STREAM_END) fail(path, "xz");
}

void gz(const char* data, std::size_t size, std::vector<char>& out, const std::string& path) {
    z_stream s{};
    if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) fail(path, "gzip");
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    s.avail_in = static_cast<uInt>(size);
    out.resize(size * 4 + 4096);
    int r;
    do {
        if (s.total_out == out.size()) out.resize(out.size() * 2);
        s.next_out = reinterpret_cast<Bytef*>(out.data()) + s.total_out;
        s.avail_out = static_cast<uInt>(out.size() - s.total_out);
        r = inflate(&s, Z_NO_FLUSH);
    } while (r == Z_OK);
    out.resize(s.total_out);
    inflateEnd(&s);
    if (r != Z_STREAM_END) fail(path, "gzip");
}

void zst(const char* data, std::size_t size, std::vector<char>& out, const std::string& path) {
    ZSTD_DStream* s = ZSTD_createDStream();
    ZSTD_initDStream(s);
    ZSTD_inBuffer in{data, size, 0};
    out.resize(size * 4 + 4096);
    std::size_t produced = 0, r = 0;
    do {
        if (produced == out.size()) out.resize(out.size() * 2);
        ZSTD_outBuffer o{out.data() + produced, out.size() - produced, 0};
        r = ZSTD_decompressStream(s, &o, &in);
        produced += o.pos;
        if (ZSTD_isError(r)) break;
    } while (r != 0 && (in.pos < in.size || produced == out.size()));
    ZSTD_freeDStream(s);
    out.resize(produced);
    if (ZSTD_isError(r) || r != 0) fail(path, "zstd");
}

}  // namespace

bool decompress(const char* data, std::size_t size, std::vector<char>& out, const std::string& path) {
    auto starts = [&](const char* magic, std::size_t n) { return size >= n && std::memcmp(data, magic, n) == 0; };
    if (starts("\xFD" "7zXZ\0", 6)) xz(data, size, out, path);
    else if (starts("\x1F\x8B", 2)) gz(data, size, out, path);
    else if (starts("\x28\xB5\x2F\xFD", 4)) zst(data, size, out, path);
    else return false;
    return true;
}

}  // namespace kaddr
