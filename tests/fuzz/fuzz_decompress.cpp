// xz / gzip / zstd decoding within the input size limit.
#include <vector>

#include "fuzz_support.h"
#include "kaddr/decompress.h"
#include "kaddr/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    kfuzz::small_limit();
    std::vector<char> out;
    try {
        (void)kaddr::decompress(reinterpret_cast<const char*>(data), size, out, "fuzz");
        if (out.size() > kaddr::input_size_limit()) __builtin_trap();
    } catch (const kaddr::Error&) {
    }
    return 0;
}
