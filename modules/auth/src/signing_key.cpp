#include "signing_key.hpp"

#include "app/config.hpp"
#include "core/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace bookspace::auth {

std::string load_or_create_seed(app::Config const& config, std::string const& data_dir, core::Logger& log) {
  if (auto configured = config.str("auth.signing_key"); !configured.empty()) return configured;
  const std::filesystem::path path = std::filesystem::path(data_dir) / "auth-signing-key";
  std::filesystem::create_directories(path.parent_path());
  // O_EXCL: of two instances starting on a fresh data directory, one writes and both read it.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd >= 0) {
    std::string seed = KeyRing::new_seed();
    const bool written =
        ::write(fd, seed.data(), seed.size()) == static_cast<ssize_t>(seed.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) throw std::runtime_error("cannot write " + path.string());
    log.info("generated a new token signing key", {{"path", path.string()}});
    return seed;
  }
  std::ifstream in(path);
  std::string seed;
  in >> seed;
  if (seed.empty()) throw std::runtime_error("cannot read " + path.string());
  return seed;
}

KeyRing load_key_ring(app::Config const& config, std::string const& data_dir, core::Logger& log) {
  KeyRing ring;
  ring.add(KeyRing::from_seed(load_or_create_seed(config, data_dir, log)));
  for (auto const& pk : config.list("auth.previous_public_keys")) ring.add(KeyRing::from_public(pk));
  return ring;
}

}  // namespace bookspace::auth
