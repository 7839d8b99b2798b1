#include "core/sql.hpp"

#include <soci/soci.h>

#include <stdexcept>

namespace bookspace::core::sql {

std::optional<long long> get_opt_int(soci::row const& row, std::size_t column) {
  if (row.get_indicator(column) == soci::i_null) return std::nullopt;
  switch (row.get_properties(column).get_data_type()) {
    case soci::dt_integer:
      return row.get<int>(column);
    case soci::dt_long_long:
      return row.get<long long>(column);
    case soci::dt_unsigned_long_long:
      return static_cast<long long>(row.get<unsigned long long>(column));
    case soci::dt_double:
      return static_cast<long long>(row.get<double>(column));
    case soci::dt_string:
      return std::stoll(row.get<std::string>(column));
    default:
      throw std::runtime_error("column is not an integer");
  }
}

long long get_int(soci::row const& row, std::size_t column) {
  auto value = get_opt_int(row, column);
  if (!value) throw std::runtime_error("unexpected NULL integer column");
  return *value;
}

std::optional<std::string> get_opt_text(soci::row const& row, std::size_t column) {
  if (row.get_indicator(column) == soci::i_null) return std::nullopt;
  switch (row.get_properties(column).get_data_type()) {
    case soci::dt_string:
      return row.get<std::string>(column);
    case soci::dt_integer:
      return std::to_string(row.get<int>(column));
    case soci::dt_long_long:
      return std::to_string(row.get<long long>(column));
    default:
      throw std::runtime_error("column is not text");
  }
}

std::string get_text(soci::row const& row, std::size_t column) {
  auto value = get_opt_text(row, column);
  if (!value) throw std::runtime_error("unexpected NULL text column");
  return *value;
}

}  // namespace bookspace::core::sql
