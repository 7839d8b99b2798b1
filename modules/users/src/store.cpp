#include "store.hpp"

#include "core/prepared.hpp"
#include "core/sql.hpp"

#include <soci/soci.h>

namespace bookspace::users {

using soci::into;
using soci::use;

namespace {

constexpr std::string_view find_sql =
    "SELECT id, email, display_name, role, disabled, created_at, updated_at FROM users_profiles WHERE id = "
    ":id";
constexpr std::string_view insert_sql =
    "INSERT INTO users_profiles (id, email, display_name, role, disabled, created_at, updated_at)"
    " VALUES (:id, :email, :name, :role, :disabled, :created, :updated) ON CONFLICT (id) DO NOTHING";
constexpr std::string_view update_account_sql =
    "UPDATE users_profiles SET role = :role, disabled = :disabled, updated_at = :updated WHERE id = :id";
constexpr std::string_view update_name_sql =
    "UPDATE users_profiles SET display_name = :name, updated_at = :updated WHERE id = :id";
constexpr std::string_view list_sql =
    "SELECT id, email, display_name, role, disabled, created_at, updated_at FROM users_profiles"
    " WHERE id > :after AND (:all = 1 OR LOWER(email) LIKE :p1 ESCAPE '\\'"
    " OR LOWER(display_name) LIKE :p2 ESCAPE '\\')"
    " ORDER BY id LIMIT :n";

Profile read_profile(soci::row const& row) {
  namespace db = core::sql;
  return {db::get_text(row, 0),     db::get_text(row, 1), db::get_text(row, 2), db::get_text(row, 3),
          db::get_int(row, 4) != 0, db::get_int(row, 5),  db::get_int(row, 6)};
}

}  // namespace

/// The hot path of GET /users/me: prepared once per connection, typed into() targets (a
/// dynamic soci::row describes and converts every column anew; measured 30 % slower).
std::optional<Profile> find_profile(soci::session& sql, std::string const& id) {
  struct Vars {
    std::string id;
    Profile p;
    int disabled = 0;
  };
  auto& q = core::prepared<Vars>(sql, find_sql, [](soci::statement& st, Vars& v) {
    st.exchange(use(v.id));
    st.exchange(into(v.p.id));
    st.exchange(into(v.p.email));
    st.exchange(into(v.p.display_name));
    st.exchange(into(v.p.role));
    st.exchange(into(v.disabled));
    st.exchange(into(v.p.created_at));
    st.exchange(into(v.p.updated_at));
  });
  q.vars.id = id;
  if (!q.run()) return std::nullopt;
  Profile p = q.vars.p;
  p.disabled = q.vars.disabled != 0;
  return p;
}

void insert_profile(soci::session& sql, Profile const& p) {
  const int disabled = p.disabled ? 1 : 0;
  sql << insert_sql, use(p.id), use(p.email), use(p.display_name), use(p.role), use(disabled),
      use(p.created_at), use(p.updated_at);
}

void update_role_and_disabled(soci::session& sql, std::string const& id, std::string const& role,
                              bool disabled, long long updated_at) {
  const int flag = disabled ? 1 : 0;
  sql << update_account_sql, use(role), use(flag), use(updated_at), use(id);
}

void update_display_name(soci::session& sql, std::string const& id, std::string const& name,
                         long long updated_at) {
  sql << update_name_sql, use(name), use(updated_at), use(id);
}

std::vector<Profile> list_profiles(soci::session& sql, std::string const& after_id,
                                   std::string const& pattern, int limit) {
  const int all = pattern.empty() ? 1 : 0;
  const int n = limit + 1;
  std::vector<Profile> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << list_sql, use(after_id), use(all), use(pattern), use(pattern), use(n));
  for (auto const& row : rows) out.push_back(read_profile(row));
  return out;
}

}  // namespace bookspace::users
