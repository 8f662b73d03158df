// Modules ship as .ko.xz / .ko.zst / .ko.gz and logs as .gz / .xz / .zst.
// libdw only knows some of these, so kaddr decompresses into memory itself,
// recognising the format by magic, never letting one input grow past the
// input size limit: a small file that expands to gigabytes is refused, not
// allowed to end the whole run in bad_alloc.
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "kaddr/decompress.h"
#include "kaddr/error.h"
#include "kaddr/input_limit.h"

namespace kaddr {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& format) {
    throw Error(path, "corrupt or truncated " + format + " data", "re-fetch the file");
}

// The output buffer: grows geometrically up to the limit, then refuses.
class Output {
public:
    Output(std::vector<char>& out, std::size_t input_size, const std::string& path) : out_(out), path_(path) {
        out_.resize(static_cast<std::size_t>(std::min<std::uint64_t>(input_size * 4 + 4096, input_size_limit())));
    }
    // Room for more output at `produced`.
    void make_room(std::size_t produced) {
        if (produced < out_.size()) return;
        if (out_.size() >= input_size_limit()) throw_over_limit(path_, "decompresses to more than");
        out_.resize(static_cast<std::size_t>(std::min<std::uint64_t>(out_.size() * 2, input_size_limit())));
    }
    char* at(std::size_t produced) { return out_.data() + produced; }
    std::size_t room(std::size_t produced) const { return out_.size() - produced; }
    void finish(std::size_t produced) { out_.resize(produced); }

private:
    std::vector<char>& out_;
    const std::string& path_;
};

void xz(const char* data, std::size_t size, std::vector<char>& out, const std::string& path) {
    lzma_stream s = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) fail(path, "xz");
    struct End {
        lzma_stream* s;
        ~End() { lzma_end(s); }
    } end{&s};
    s.next_in = reinterpret_cast<const uint8_t*>(data);
    s.avail_in = size;
    Output o(out, size, path);
    lzma_ret r;
    do {
        o.make_room(s.total_out);
        s.next_out = reinterpret_cast<uint8_t*>(o.at(s.total_out));
        s.avail_out = o.room(s.total_out);
        r = lzma_code(&s, LZMA_FINISH);
    } while (r == LZMA_OK);
    o.finish(s.total_out);
    if (r != LZMA_STREAM_END) fail(path, "xz");
}

void gz(const char* data, std::size_t size, std::vector<char>& out, const std::string& path) {
    z_stream s{};
    if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) fail(path, "gzip");
    struct End {
        z_stream* s;
        ~End() { inflateEnd(s); }
    } end{&s};
    Output o(out, size, path);
    std::size_t consumed = 0, produced = 0;
    int r;
    for (;;) {
        o.make_room(produced);
        // zlib counts in 32-bit units: feed and drain at most 1 GiB a call.
        const std::size_t in_now = std::min<std::size_t>(size - consumed, 1u << 30);
        const std::size_t out_now = std::min<std::size_t>(o.room(produced), 1u << 30);
        s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data + consumed));
        s.avail_in = static_cast<uInt>(in_now);
        s.next_out = reinterpret_cast<Bytef*>(o.at(produced));
        s.avail_out = static_cast<uInt>(out_now);
        r = inflate(&s, Z_NO_FLUSH);
        consumed += in_now - s.avail_in;
        produced += out_now - s.avail_out;
        // Concatenated members (`cat a.gz b.gz`) are one stream to gunzip.
        if (r == Z_STREAM_END && consumed < size && data[consumed] == '\x1f') {
            if (inflateReset(&s) != Z_OK) break;
            continue;
        }
        if (r != Z_OK) break;
        if (consumed == size && out_now - s.avail_out == 0) break;  // input ended mid-stream
    }
    o.finish(produced);
    if (r != Z_STREAM_END) fail(path, "gzip");
}

void zst(const char* data, std::size_t size, std::vector<char>& out, const std::string& path) {
    ZSTD_DStream* s = ZSTD_createDStream();
    if (!s) fail(path, "zstd");
    struct End {
        ZSTD_DStream* s;
        ~End() { ZSTD_freeDStream(s); }
    } end{s};
    ZSTD_initDStream(s);
    ZSTD_inBuffer in{data, size, 0};
    Output o(out, size, path);
    std::size_t produced = 0, r = 0;
    for (;;) {
        o.make_room(produced);
        ZSTD_outBuffer ob{o.at(produced), o.room(produced), 0};
        r = ZSTD_decompressStream(s, &ob, &in);
        produced += ob.pos;
        if (ZSTD_isError(r)) break;
        // Everything consumed and the output not full: all is flushed (more
        // frames may follow a finished one, hence not stopping at r == 0).
        if (in.pos == in.size && ob.pos < ob.size) break;
    }
    o.finish(produced);
    if (ZSTD_isError(r) || r != 0) fail(path, "zstd");
}

bool starts(const char* data, std::size_t size, const char* magic, std::size_t n) {
    return size >= n && std::memcmp(data, magic, n) == 0;
}

}  // namespace

bool is_compressed(const char* data, std::size_t size) {
    return starts(data, size, "\xFD" "7zXZ\0", 6) || starts(data, size, "\x1F\x8B", 2) ||
           starts(data, size, "\x28\xB5\x2F\xFD", 4);
}

bool decompress(const char* data, std::size_t size, std::vector<char>& out, const std::string& path) {
    if (starts(data, size, "\xFD" "7zXZ\0", 6)) xz(data, size, out, path);
    else if (starts(data, size, "\x1F\x8B", 2)) gz(data, size, out, path);
    else if (starts(data, size, "\x28\xB5\x2F\xFD", 4)) zst(data, size, out, path);
    else return false;
    return true;
}

}  // namespace kaddr
