#include "core/secret_file.hpp"

#include "core/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

namespace bookspace::core {

std::string load_or_create_secret(std::filesystem::path const& path, std::function<std::string()> const& make,
                                  Logger& log, std::string_view what) {
  std::filesystem::create_directories(path.parent_path());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    std::string secret = make();
    const bool written =
        ::write(fd, secret.data(), secret.size()) == static_cast<ssize_t>(secret.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) throw std::runtime_error("cannot write " + path.string());
    log.info("generated a new " + std::string(what), {{"path", path.string()}});
    return secret;
  }
  std::ifstream in(path);
  std::string secret;
  in >> secret;
  if (secret.empty()) throw std::runtime_error("cannot read " + path.string());
  return secret;
}

}  // namespace bookspace::core
