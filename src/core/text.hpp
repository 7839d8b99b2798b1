#pragma once

// Checks for text that people type into one-line fields, shared by every module so that a
// name, title or email is held to the same rules everywhere.

#include <optional>
#include <string>
#include <string_view>

namespace bookspace::core {

/// Why `text` cannot be a one-line name (display name, API-key name, title, tag): not UTF-8, or
/// it holds a control character (Cc: NUL, newline…), a format character (Cf: zero-width space
/// U+200B, bidi overrides U+202A–U+202E and U+2066–U+2069, BOM…) or a line/paragraph separator
/// (U+2028/U+2029). Zero-width (non-)joiners U+200C/U+200D stay allowed: scripts such as
/// Persian and Devanagari and emoji sequences need them. nullopt when the text is fine.
std::optional<std::string> one_line_text_problem(std::string_view text);

/// one_line_text_problem, plus a length of min_chars to max_chars code points.
std::optional<std::string> name_problem(std::string_view text, std::size_t min_chars, std::size_t max_chars);

/// Code points in `text`, which is valid UTF-8 (checked before): its lead bytes, counted.
std::size_t code_points(std::string_view text);
/// Code points in `text` when it is valid UTF-8 (no overlong check beyond lead bytes); nullopt
/// otherwise — for input not checked yet (a password).
std::optional<std::size_t> checked_code_points(std::string_view text);

/// `text` without the spaces and tabs around it (HTTP's optional white space).
std::string_view trim_blanks(std::string_view text);
/// `text` without any ASCII white space around it (space, tab, CR, LF, FF, VT).
std::string_view trim_space(std::string_view text);

/// Why `text` cannot be multi-line text (content, comment bodies): not UTF-8, or a control
/// character other than tab, newline and carriage return. Format characters are allowed.
std::optional<std::string> multi_line_text_problem(std::string_view text);

/// The canonical form of an email address, or nullopt when `raw` is not one.
///
/// The local part must be ASCII (RFC 5321 dot-atom: letters, digits and !#$%&'*+/=?^_`{|}~.-),
/// and is lower-cased. Non-ASCII local parts are refused: few mail systems deliver them
/// (SMTPUTF8) and Unicode case folding of mailbox names is not something servers agree on, so
/// accepting them would let one person hold several accounts. The domain may be Unicode and is
/// stored as IDNA2008 A-labels (UTS #46 mapping: "Bücher.Example" → "xn--bcher-kva.example"),
/// lower-cased. Surrounding white space is trimmed; control and format characters anywhere are
/// refused. At most 64 characters before the @ and 254 in all.
std::optional<std::string> normalize_email(std::string_view raw);

}  // namespace bookspace::core
