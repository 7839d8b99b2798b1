#include "s3_client.hpp"
#include "core/ids.hpp"

#include <curl/curl.h>

#include <strings.h>
#include <algorithm>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <thread>

namespace bookspace::files {

namespace {

constexpr std::string_view empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr int max_attempts = 4;

std::string amz_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &tm);
  return text;
}

std::string decode_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    static constexpr std::pair<std::string_view, char> entities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool matched = false;
    for (auto const& [name, ch] : entities) {
      if (text.substr(i, name.size()) == name) {
        out += ch;
        i += name.size() - 1;
        matched = true;
        break;
      }
    }
    if (!matched) out += '&';
  }
  return out;
}

/// ISO 8601 (2026-12-08T01:02:03.000Z) → ms since the epoch; 0 when unreadable.
long long parse_iso_ms(std::string const& text) {
  std::tm tm{};
  if (!::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return static_cast<long long>(::timegm(&tm)) * 1000;
}

std::string error_code_of(std::string const& body) {
  auto codes = xml_values(body, "Code");
  return codes.empty() ? std::string() : codes.front();
}

std::size_t collect(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

struct Feed {
  std::string_view bytes;
  std::size_t at = 0;
};

std::size_t feed(char* out, std::size_t size, std::size_t n, void* user) {
  auto* f = static_cast<Feed*>(user);
  const std::size_t k = std::min(size * n, f->bytes.size() - f->at);
  std::memcpy(out, f->bytes.data() + f->at, k);
  f->at += k;
  return k;
}

int rewind_feed(void* user, curl_off_t offset, int origin) {
  auto* f = static_cast<Feed*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::size_t>(offset) > f->bytes.size())
    return CURL_SEEKFUNC_FAIL;
  f->at = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

}  // namespace

S3Error::S3Error(std::string operation, int status, std::string code, std::string message)
    : core::ApiError([] {
        core::Error e{
            core::ErrorCode::overloaded, "The file storage is not available; try again shortly.", {}};
        e.retry_after_s = 5;
        return e;
      }()),
      status_(status),
      code_(std::move(code)),
      message_("S3 " + std::move(operation) + ": " + std::move(message)) {}

std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
  for (std::size_t at = 0;;) {
    const auto begin = xml.find(open, at);
    if (begin == std::string_view::npos) break;
    const auto end = xml.find(close, begin + open.size());
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(begin + open.size(), end - begin - open.size()));
    at = end + close.size();
  }
  return out;
}

std::vector<std::string> xml_values(std::string_view xml, std::string_view tag) {
  std::vector<std::string> out;
  for (auto e : xml_elements(xml, tag)) out.push_back(decode_entities(e));
  return out;
}

/// One request: what to sign and send, and where the answer goes.
struct S3Client::Call {
  std::string method, key;  ///< key empty: the bucket itself
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  ///< sent and signed
  std::string_view body;
  bool has_body = false;
  std::string payload_hash = std::string(empty_sha256);
  std::function<bool(std::string_view)> sink;  ///< GET: the body goes here instead
  bool sink_stopped = false;
  std::string* etag = nullptr;  ///< set: the answer's ETag header goes here
  std::int64_t length = -1;     ///< the answer's Content-Length
};

namespace {

/// A GET's state while curl writes: 2xx bytes go to the sink, an error's body is kept for its code.
struct SinkState {
  CURL* curl;
  S3Client::Call* call;
  std::string* error_body;
};

std::size_t write_to_sink(char* data, std::size_t size, std::size_t n, void* user) {
  auto* s = static_cast<SinkState*>(user);
  long status = 0;
  curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status / 100 != 2) {
    if (s->error_body->size() < 65536) s->error_body->append(data, size * n);
    return size * n;
  }
  if (!s->call->sink(std::string_view(data, size * n))) {
    s->call->sink_stopped = true;
    return 0;  // aborts the transfer
  }
  return size * n;
}

std::size_t read_etag(char* data, std::size_t size, std::size_t n, void* user) {
  std::string_view line(data, size * n);
  if (line.size() > 5 && strncasecmp(line.data(), "etag:", 5) == 0) {
    line.remove_prefix(5);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' '))
      line.remove_suffix(1);
    *static_cast<std::string*>(user) = std::string(line);
  }
  return size * n;
}

}  // namespace

S3Client::S3Client(S3Config config) : config_(std::move(config)) {
  const auto scheme_end = config_.endpoint.find("://");
  if (scheme_end == std::string::npos) throw std::invalid_argument("files.s3.endpoint: scheme://host[:port]");
  scheme_ = config_.endpoint.substr(0, scheme_end);
  authority_ = config_.endpoint.substr(scheme_end + 3);
  while (!authority_.empty() && authority_.back() == '/') authority_.pop_back();
  if ((scheme_ != "http" && scheme_ != "https") || authority_.empty() ||
      authority_.find('/') != std::string::npos)
    throw std::invalid_argument("files.s3.endpoint: http(s)://host[:port], without a path");
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

S3Client::~S3Client() {
  for (void* h : handles_) curl_easy_cleanup(static_cast<CURL*>(h));
}

std::string S3Client::host() const {
  return config_.path_style ? authority_ : config_.bucket + "." + authority_;
}

std::string S3Client::url_path(std::string const& key) const {
  std::string path = config_.path_style ? "/" + config_.bucket : std::string();
  if (!key.empty()) path += "/" + sigv4::uri_encode(config_.prefix + key, true);
  return path.empty() ? "/" : path;
}

S3Client::Signed S3Client::sign(Call const& call) const {
  const std::string amz_date = amz_now();
  sigv4::Request sr{call.method, host(), url_path(call.key), call.query, call.headers, call.payload_hash};
  sr.headers.emplace_back("x-amz-content-sha256", call.payload_hash);
  sr.headers.emplace_back("x-amz-date", amz_date);
  Signed out;
  out.url = scheme_ + "://" + host() + sr.path;
  char separator = '?';
  for (auto const& [k, v] : call.query) {
    out.url += separator;
    separator = '&';
    out.url += sigv4::uri_encode(k, false);
    if (!(v.empty() && k == "uploads")) {
      out.url += '=';
      out.url += sigv4::uri_encode(v, false);
    }
  }
  for (auto const& [k, v] : sr.headers) {
    std::string line = k;
    line += ": ";
    line += v;
    out.header_lines.push_back(std::move(line));
  }
  std::string authorization = "Authorization: ";
  authorization +=
      sigv4::authorization(sr, amz_date, config_.region, config_.access_key_id, config_.secret_access_key);
  out.header_lines.push_back(std::move(authorization));
  out.header_lines.emplace_back("Expect:");  // no 100-continue round trip
  out.header_lines.emplace_back("Content-Type:");
  return out;
}

namespace {

void set_method(CURL* curl, S3Client::Call const& call, Feed& source) {
  if (call.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (call.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &feed);
    curl_easy_setopt(curl, CURLOPT_READDATA, &source);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, &rewind_feed);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &source);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  } else if (call.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  } else if (call.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  }
}

}  // namespace

S3Client::Answer S3Client::perform(Call& call) {
  CURL* curl = nullptr;
  {
    std::lock_guard lock(handles_mutex_);
    if (!handles_.empty()) {
      curl = static_cast<CURL*>(handles_.back());
      handles_.pop_back();
    }
  }
  if (!curl) curl = curl_easy_init();
  if (!curl) throw std::runtime_error("curl_easy_init failed");
  curl_easy_reset(curl);
  struct Give {
    S3Client& client;
    CURL* curl;
    bool keep = true;
    ~Give() {
      if (!keep) {
        curl_easy_cleanup(curl);
        return;
      }
      std::lock_guard lock(client.handles_mutex_);
      client.handles_.push_back(curl);
    }
  } give{*this, curl};

  const Signed request = sign(call);
  curl_slist* headers = nullptr;
  for (auto const& line : request.header_lines) headers = curl_slist_append(headers, line.c_str());
  struct FreeList {
    curl_slist* list;
    ~FreeList() { curl_slist_free_all(list); }
  } free_list{headers};

  Answer answer;
  Feed source{call.body};
  std::string error_body;
  long status_seen = 0;
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);  // a stalled transfer fails after 30 s
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 30L);
  if (!config_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, config_.ca_file.c_str());
  set_method(curl, call, source);
  SinkState sink_state{curl, &call, &error_body};
  if (call.sink) {
    curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &write_to_sink);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink_state);
  } else {
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  }
  if (call.etag) {
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &read_etag);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, call.etag);
  }
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status_seen);
  if (call.sink && !error_body.empty()) answer.body = std::move(error_body);
  if (rc != CURLE_OK && !(call.sink_stopped && rc == CURLE_WRITE_ERROR)) {
    give.keep = false;
    throw S3Error(call.method + " " + (call.key.empty() ? config_.bucket : call.key), 0, "",
                  curl_easy_strerror(rc));
  }
  answer.status = status_seen;
  curl_off_t length = -1;
  if (curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK) call.length = length;
  return answer;
}

S3Client::Answer S3Client::send(Call& call, bool idempotent, std::string_view operation) {
  for (int attempt = 1;; ++attempt) {
    try {
      auto answer = perform(call);
      if (answer.status / 100 == 2) return answer;
      S3Error error(std::string(operation), static_cast<int>(answer.status), error_code_of(answer.body),
                    "HTTP " + std::to_string(answer.status) + " " + error_code_of(answer.body));
      if (!idempotent || !error.transient() || attempt == max_attempts) throw error;
    } catch (S3Error const& e) {
      if (!idempotent || !e.transient() || attempt == max_attempts || call.sink) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100 << (2 * (attempt - 1))));  // 0.1, 0.4, 1.6 s
  }
}

void S3Client::check_bucket() {
  Call call{"HEAD", ""};
  send(call, true, "HEAD bucket " + config_.bucket);
}

void S3Client::create_bucket() {
  Call call{"PUT", ""};
  call.has_body = true;
  try {
    send(call, true, "create bucket " + config_.bucket);
  } catch (S3Error const& e) {
    if (e.code() != "BucketAlreadyOwnedByYou" && e.code() != "BucketAlreadyExists") throw;
  }
}

void S3Client::put_object(std::string const& key, std::string_view bytes, std::string const& sha256_hex) {
  Call call{"PUT", key};
  call.body = bytes;
  call.has_body = true;
  call.payload_hash = sha256_hex;
  send(call, true, "PUT " + key);
}

void S3Client::get_object(std::string const& key, std::uint64_t first, std::optional<std::uint64_t> last,
                          std::function<bool(std::string_view)> const& sink) {
  Call call{"GET", key};
  if (first > 0 || last)
    call.headers.emplace_back("range",
                              "bytes=" + std::to_string(first) + "-" + (last ? std::to_string(*last) : ""));
  call.sink = sink;
  send(call, false, "GET " + key);
}

std::optional<std::uint64_t> S3Client::head_object(std::string const& key) {
  Call call{"HEAD", key};
  try {
    send(call, true, "HEAD " + key);
  } catch (S3Error const& e) {
    if (e.status() == 404) return std::nullopt;
    throw;
  }
  return call.length >= 0 ? static_cast<std::uint64_t>(call.length) : 0;
}

void S3Client::delete_object(std::string const& key) {
  Call call{"DELETE", key};
  try {
    send(call, true, "DELETE " + key);
  } catch (S3Error const& e) {
    if (e.status() != 404) throw;
  }
}

std::string S3Client::create_multipart(std::string const& key) {
  Call call{"POST", key};
  call.query = {{"uploads", ""}};
  call.has_body = true;
  auto answer = send(call, false, "create multipart " + key);
  auto ids = xml_values(answer.body, "UploadId");
  if (ids.empty())
    throw S3Error("create multipart " + key, static_cast<int>(answer.status), "", "no UploadId");
  return ids.front();
}

std::string S3Client::upload_part(std::string const& key, std::string const& upload_id, int number,
                                  std::string_view bytes) {
  Call call{"PUT", key};
  call.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}};
  call.body = bytes;
  call.has_body = true;
  call.payload_hash = core::sha256_hex(bytes);
  std::string etag;
  call.etag = &etag;
  send(call, true, "upload part " + std::to_string(number) + " of " + key);
  if (etag.empty()) throw S3Error("upload part " + key, 200, "", "no ETag");
  return etag;
}

void S3Client::complete_multipart(std::string const& key, std::string const& upload_id,
                                  std::vector<S3Part> const& parts) {
  std::string xml = "<CompleteMultipartUpload>";
  for (auto const& p : parts)
    xml +=
        "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>" + p.etag + "</ETag></Part>";
  xml += "</CompleteMultipartUpload>";
  Call call{"POST", key};
  call.query = {{"uploadId", upload_id}};
  call.body = xml;
  call.has_body = true;
  call.payload_hash = core::sha256_hex(xml);
  // Completing twice is harmless (the second finds no upload: NoSuchUpload), so it is retried.
  auto answer = send(call, true, "complete multipart " + key);
  // S3 may answer 200 with an error in the body when it fails late.
  if (answer.body.find("<Error>") != std::string::npos)
    throw S3Error("complete multipart " + key, 200, error_code_of(answer.body), "failed");
}

void S3Client::abort_multipart(std::string const& key, std::string const& upload_id) {
  Call call{"DELETE", key};
  call.query = {{"uploadId", upload_id}};
  try {
    send(call, true, "abort multipart " + key);
  } catch (S3Error const& e) {
    if (e.status() != 404) throw;
  }
}

std::vector<S3MultipartUpload> S3Client::list_multipart(std::string const& prefix) {
  std::vector<S3MultipartUpload> out;
  std::string key_marker, id_marker;
  for (int page = 0; page < 1000; ++page) {
    Call call{"GET", ""};
    call.query = {{"uploads", ""}, {"prefix", config_.prefix + prefix}};
    if (!key_marker.empty()) {
      call.query.emplace_back("key-marker", key_marker);
      call.query.emplace_back("upload-id-marker", id_marker);
    }
    auto answer = send(call, true, "list multipart uploads");
    for (auto element : xml_elements(answer.body, "Upload")) {
      auto keys = xml_values(element, "Key"), ids = xml_values(element, "UploadId"),
           times = xml_values(element, "Initiated");
      if (keys.empty() || ids.empty() || !keys.front().starts_with(config_.prefix)) continue;
      out.push_back({keys.front().substr(config_.prefix.size()), ids.front(),
                     times.empty() ? 0 : parse_iso_ms(times.front())});
    }
    auto truncated = xml_values(answer.body, "IsTruncated");
    auto next_key = xml_values(answer.body, "NextKeyMarker"),
         next_id = xml_values(answer.body, "NextUploadIdMarker");
    if (truncated.empty() || truncated.front() != "true" || next_key.empty()) break;
    key_marker = next_key.front();
    id_marker = next_id.empty() ? std::string() : next_id.front();
  }
  return out;
}

std::vector<S3Object> S3Client::list_objects(std::string const& prefix, std::string const& after) {
  Call call{"GET", ""};
  call.query = {{"list-type", "2"}, {"prefix", config_.prefix + prefix}};
  if (!after.empty()) call.query.emplace_back("start-after", config_.prefix + after);
  auto answer = send(call, true, "list objects");
  std::vector<S3Object> out;
  for (auto element : xml_elements(answer.body, "Contents")) {
    auto keys = xml_values(element, "Key"), sizes = xml_values(element, "Size"),
         times = xml_values(element, "LastModified");
    if (keys.empty() || !keys.front().starts_with(config_.prefix)) continue;
    out.push_back({keys.front().substr(config_.prefix.size()), sizes.empty() ? 0 : std::stoull(sizes.front()),
                   times.empty() ? 0 : parse_iso_ms(times.front())});
  }
  return out;
}

std::string S3Client::presign_get(
    std::string const& key, std::int64_t expires_s,
    std::vector<std::pair<std::string, std::string>> const& response_overrides) {
  sigv4::Request r{"GET", host(), url_path(key), response_overrides, {}, "UNSIGNED-PAYLOAD"};
  return scheme_ + "://" + host() + r.path + "?" +
         sigv4::presigned_query(r, amz_now(), config_.region, config_.access_key_id,
                                config_.secret_access_key, expires_s);
}

}  // namespace bookspace::files
