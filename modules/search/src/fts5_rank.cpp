#include "fts5_rank.hpp"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

namespace bookspace::search {

namespace {

using namespace sqlite_api;

constexpr double k1 = 1.2, b = 0.75;

/// What does not change from row to row within one query: the IDF of each phrase and the
/// average row length.
struct QueryData {
  std::vector<double> idf;
  double average_length = 1;
};

void delete_query_data(void* p) {
  delete static_cast<QueryData*>(p);
}

/// The per-query constants, computed on the first row. Arguments: the column weights, then the
/// phrases' document counts.
QueryData* query_data(Fts5ExtensionApi const* api, Fts5Context* fts, int columns, int n_args,
                      sqlite3_value** args) {
  if (auto* kept = static_cast<QueryData*>(api->xGetAuxdata(fts, 0))) return kept;
  sqlite3_int64 rows = 0, tokens = 0;
  if (api->xRowCount(fts, &rows) != SQLITE_OK || api->xColumnTotalSize(fts, -1, &tokens) != SQLITE_OK)
    return nullptr;
  auto data = std::make_unique<QueryData>();
  data->average_length = rows > 0 ? static_cast<double>(tokens) / static_cast<double>(rows) : 1.0;
  if (data->average_length <= 0) data->average_length = 1;
  const int phrases = api->xPhraseCount(fts);
  data->idf.resize(static_cast<std::size_t>(phrases));
  for (int i = 0; i < phrases; ++i) {
    const int arg = columns + i;
    const double hits = arg < n_args ? sqlite3_value_double(args[arg]) : 0.0;
    // As FTS5's bm25: a word in more than half the rows gets a tiny positive weight, never a
    // negative one.
    const double idf = std::log((static_cast<double>(rows) - hits + 0.5) / (hits + 0.5));
    data->idf[static_cast<std::size_t>(i)] = idf > 0 ? idf : 1e-6;
  }
  if (api->xSetAuxdata(fts, data.get(), delete_query_data) != SQLITE_OK) return nullptr;
  return data.release();
}

void bm25(Fts5ExtensionApi const* api, Fts5Context* fts, sqlite3_context* ctx, int n_args,
          sqlite3_value** args) {
  const int columns = api->xColumnCount(fts);
  QueryData* data = query_data(api, fts, columns, n_args, args);
  if (!data) {
    sqlite3_result_error(ctx, "bookspace_bm25: no query statistics", -1);
    return;
  }
  std::vector<double> frequency(data->idf.size(), 0.0);
  int instances = 0;
  if (api->xInstCount(fts, &instances) != SQLITE_OK) {
    sqlite3_result_error(ctx, "bookspace_bm25: no instances", -1);
    return;
  }
  for (int i = 0; i < instances; ++i) {
    int phrase = 0, column = 0, offset = 0;
    if (api->xInst(fts, i, &phrase, &column, &offset) != SQLITE_OK) continue;
    const double weight = column < n_args ? sqlite3_value_double(args[column]) : 1.0;
    if (phrase >= 0 && static_cast<std::size_t>(phrase) < frequency.size())
      frequency[static_cast<std::size_t>(phrase)] += weight;
  }
  int length = 0;
  if (api->xColumnSize(fts, -1, &length) != SQLITE_OK) length = 0;
  const double norm = k1 * (1 - b + b * static_cast<double>(length) / data->average_length);
  double score = 0;
  for (std::size_t i = 0; i < frequency.size(); ++i) {
    score += data->idf[i] * (frequency[i] * (k1 + 1)) / (frequency[i] + norm);
  }
  sqlite3_result_double(ctx, -score);  // as bm25(): lower is better
}

fts5_api* fts5_of(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, nullptr) == SQLITE_OK) {
    sqlite3_bind_pointer(st, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
    sqlite3_step(st);
  }
  sqlite3_finalize(st);
  return api;
}

}  // namespace

void register_fts5_rank(soci::session& sql) {
  auto* db = static_cast<soci::sqlite3_session_backend*>(sql.get_backend())->conn_;
  fts5_api* api = fts5_of(db);
  if (!api || api->xCreateFunction(api, "bookspace_bm25", nullptr, bm25, nullptr) != SQLITE_OK)
    throw std::runtime_error("FTS5 is not available to register bookspace_bm25");
}

bool missing_fts5_rank(std::string const& what) {
  return what.find("no such function: bookspace_bm25") != std::string::npos;
}

std::int64_t DocumentCounts::get(std::string const& phrase, std::function<std::int64_t()> const& count) {
  const auto now = std::chrono::steady_clock::now();
  return kept_.get_or_make(phrase, now, now + ttl_, count);
}

}  // namespace bookspace::search
