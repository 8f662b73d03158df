// /sys/kernel/notes and /sys/module/*/notes/.note.gnu.build-id are the raw
// ELF notes of the running image: (namesz, descsz, type) words in the
// kernel's byte order, then the name and the descriptor, each padded to 4.
#include <cstring>
#include <fstream>
#include <iterator>

#include "kaddr/error.h"
#include "kaddr/inputs.h"

namespace kaddr {

std::string build_id_from_notes(std::string_view bytes) {
    constexpr std::uint32_t kGnuBuildId = 3;  // NT_GNU_BUILD_ID
    auto pad = [](std::uint64_t n) { return (n + 3) & ~std::uint64_t{3}; };
    std::uint64_t at = 0;
    while (at + 12 <= bytes.size()) {
        std::uint32_t namesz, descsz, type;
        std::memcpy(&namesz, bytes.data() + at, 4);
        std::memcpy(&descsz, bytes.data() + at + 4, 4);
        std::memcpy(&type, bytes.data() + at + 8, 4);
        const std::uint64_t name_at = at + 12, desc_at = name_at + pad(namesz), next = desc_at + pad(descsz);
        if (next > bytes.size()) break;  // cut short: no more whole notes
        if (type == kGnuBuildId && namesz == 4 && std::memcmp(bytes.data() + name_at, "GNU", 4) == 0) {
            static const char digits[] = "0123456789abcdef";
            std::string id;
            for (std::uint32_t i = 0; i < descsz; ++i) {
                const auto c = static_cast<unsigned char>(bytes[desc_at + i]);
                id += digits[c >> 4];
                id += digits[c & 15];
            }
            return id;
        }
        at = next;
    }
    return {};
}

std::string read_build_id_notes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path, "cannot read file");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string id = build_id_from_notes(bytes);
    if (id.empty()) throw Error(path, "holds no GNU build-id note", "expected a copy of /sys/kernel/notes or /sys/module/NAME/notes/.note.gnu.build-id");
    return id;
}

}  // namespace kaddr
