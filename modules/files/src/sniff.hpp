#pragma once

#include <string>
#include <string_view>

namespace bookspace::files {

/// The MIME type libmagic sees in the first bytes of a file ("application/pdf", "text/plain";
/// "application/octet-stream" when it cannot tell). Blocking (it reads libmagic's database once
/// per thread): run it on the disk pool.
std::string sniff_type(std::string_view head);

}  // namespace bookspace::files
