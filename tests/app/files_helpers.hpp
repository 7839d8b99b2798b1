#pragma once

// Helpers shared by the whole-application tests of the files module (uploads, tus).

#include "documents_helpers.hpp"

#include <bookspace/files/files.hpp>

#include <sodium.h>

#include <map>
#include <string>
#include <vector>

namespace bookspace::testing {

/// What the files module needs: auth, documents and files.
inline std::vector<app::ModuleDescriptor> files_modules() {
  return {auth::auth_module(), documents::documents_module(), files::files_module()};
}

/// Standard base64 (tus metadata values).
inline std::string b64(std::string const& s) {
  std::string out(sodium_base64_encoded_len(s.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<unsigned char const*>(s.data()), s.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);
  return out;
}

/// `more` with `Tus-Resumable: 1.0.0`.
inline std::map<std::string, std::string> tus_headers(std::map<std::string, std::string> more = {}) {
  more["Tus-Resumable"] = "1.0.0";
  return more;
}

}  // namespace bookspace::testing
