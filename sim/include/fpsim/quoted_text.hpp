// Echoing outside input in messages (docs/architecture.md "Errors": every message names
// the offending input). Input comes from files, pipes and command lines and
// may hold anything: an escape sequence that would drive the terminal, a NUL
// byte that would end a C string early, a megabyte-long line. Every message
// that repeats such text passes it through quoted_text().
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fpsim {

// `text` between single quotes, safe to print on a terminal and short:
// - bytes that are not printable are escaped: \t \n \r, and \xNN for the
//   other C0 controls, DEL, the C1 controls (U+0080..U+009F) and bytes that
//   are not part of well-formed UTF-8; a backslash is written \\ so the
//   escapes stay unambiguous; printable UTF-8 (accents, CJK, ...) is kept;
// - text longer than `max_chars` characters (after escaping) is cut there and
//   ends in "...' (N bytes)", N being the length of the original text.
std::string quoted_text(std::string_view text, size_t max_chars = 60);

// The same escaping without the quotes, for a whole message that repeats
// input (a parser's own message); cut text ends in "...".
std::string escaped_text(std::string_view text, size_t max_chars = 400);

}  // namespace fpsim
