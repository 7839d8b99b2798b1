#pragma once

#include <optional>
#include <string>

namespace soci {
class row;
}

namespace bookspace::core::sql {

/// Column readers that accept whatever integer or text type the backend reports for a column
/// (SQLite and PostgreSQL disagree on INTEGER vs BIGINT), so one statement serves both.
long long get_int(soci::row const& row, std::size_t column);
std::optional<long long> get_opt_int(soci::row const& row, std::size_t column);
std::string get_text(soci::row const& row, std::size_t column);
std::optional<std::string> get_opt_text(soci::row const& row, std::size_t column);

}  // namespace bookspace::core::sql
