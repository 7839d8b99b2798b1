// The S3 store's resumable (tus) uploads: a multipart upload of their own, the bytes short of a
// part in a pending object, and the state to continue from saved with the offset (decision 0015).

#include "core/ids.hpp"
#include "s3_store.hpp"

#include "store.hpp"

#include <soci/soci.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <thread>

namespace bookspace::files::s3 {

// --- S3Partial -----------------------------------------------------------------------------------

S3Partial::S3Partial(S3Store& store, std::string id, std::uint64_t offset, std::string const& state)
    : store_(store), s3_(store.client()), id_(std::move(id)), key_(std::string(tus_prefix) + id_) {
  state_ = PartialState::parse(state);
  if (state_.total() != offset)
    throw std::runtime_error("the upload's stored state does not match its offset");
  if (state_.pending_size > 0) {
    buffer_.reserve(state_.pending_size);
    s3_.get_object(state_.pending_key, 0, std::nullopt, [this](std::string_view bytes) {
      buffer_.append(bytes);
      return true;
    });
    if (buffer_.size() != state_.pending_size)
      throw std::runtime_error("the upload's pending bytes are short");
  }
  // Pending objects of earlier requests that the saved state no longer names.
  for (auto const& o : s3_.list_objects("uploads/" + id_ + "/", ""))
    if (o.key != state_.pending_key) s3_.delete_object(o.key);
}

void S3Partial::write(std::string_view bytes) {
  buffer_.append(bytes);
  if (buffer_.size() >= store_.part_size()) send_part();
}

void S3Partial::send_part() {
  if (state_.upload_id.empty()) state_.upload_id = s3_.create_multipart(key_);
  const int number = static_cast<int>(state_.parts.size()) + 1;
  const std::string etag = s3_.upload_part(key_, state_.upload_id, number, buffer_);
  state_.parts.push_back({S3Part{number, etag}, buffer_.size()});
  state_.pending_key.clear();
  state_.pending_size = 0;
  buffer_.clear();
}

std::uint64_t S3Partial::sync() {
  if (buffer_.size() >= min_part) {
    send_part();
  } else if (buffer_.size() != state_.pending_size) {
    // Short of a part: kept in an object of its own, named by its place, until it fills.
    const std::string key = "uploads/" + id_ + "/pending-" +
                            std::to_string(state_.total() - state_.pending_size) + "-" +
                            std::to_string(buffer_.size());
    s3_.put_object(key, buffer_, core::sha256_hex(buffer_));
    state_.pending_key = key;
    state_.pending_size = buffer_.size();
  }
  return state_.total();
}

std::optional<BlobStore::Stored> S3Store::adopt_partial(std::string const& id, std::string const& state,
                                                        std::function<void(std::string_view)> const& head) {
  const auto st = PartialState::parse(state);
  const std::string key = std::string(tus_prefix) + id;
  std::string pending;
  if (st.pending_size > 0)
    s3_.get_object(st.pending_key, 0, std::nullopt, [&](std::string_view bytes) {
      pending.append(bytes);
      return true;
    });
  if (st.upload_id.empty()) {
    s3_.put_object(key, pending, core::sha256_hex(pending));
  } else {
    std::vector<S3Part> parts;
    for (auto const& p : st.parts) parts.push_back(p.first);
    if (!pending.empty())
      parts.push_back({static_cast<int>(parts.size()) + 1,
                       s3_.upload_part(key, st.upload_id, static_cast<int>(parts.size()) + 1, pending)});
    s3_.complete_multipart(key, st.upload_id, parts);
  }
  // The hash needs every byte once: read back (the bytes came over several requests, maybe
  // to several instances, so no one process saw them all).
  core::Sha256 sha;
  std::string first;
  std::uint64_t size = 0;
  s3_.get_object(key, 0, std::nullopt, [&](std::string_view bytes) {
    sha.update(bytes);
    size += bytes.size();
    if (first.size() < 256 * 1024) first.append(bytes.substr(0, 256 * 1024 - first.size()));
    return true;
  });
  head(first);
  const std::string sha256 = sha.hex();
  map(sha256, key, size);
  for (auto const& o : s3_.list_objects("uploads/" + id + "/", "")) s3_.delete_object(o.key);
  return Stored{sha256, size};
}

}  // namespace bookspace::files::s3
