// Errors as values with context: where (file:line or file), what went wrong,
// and what the user can do about it. Parsers and loaders throw kaddr::Error;
// the CLI turns it into one line on stderr and an exit status.
#pragma once
#include <stdexcept>
#include <string>

namespace kaddr {

class Error : public std::runtime_error {
public:
    Error(std::string where, std::string what, std::string hint = {})
        : std::runtime_error(compose(where, what, hint)),
          where_(std::move(where)), what_(std::move(what)), hint_(std::move(hint)) {}

    const std::string& where() const { return where_; }
    const std::string& problem() const { return what_; }
    const std::string& hint() const { return hint_; }

private:
    static std::string compose(const std::string& where, const std::string& what,
                               const std::string& hint) {
        std::string s = where.empty() ? what : where + ": " + what;
        if (!hint.empty()) s += " (" + hint + ")";
        return s;
    }
    std::string where_, what_, hint_;
};

// "FILE:LINE" for messages.
inline std::string at(const std::string& file, std::size_t line) {
    return file + ":" + std::to_string(line);
}

}  // namespace kaddr
