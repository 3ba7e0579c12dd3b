#pragma once
// ng911-lost assembled: the HTTP server, the ECRF, the snapshot watcher, metrics and logs.
#include <memory>

#include "server/config.h"

namespace ng911::lost {

class LostService {
 public:
  explicit LostService(Config config);
  ~LostService();
  // Serves until SIGINT or SIGTERM, which the caller must have blocked in every thread
  // (pthread_sigmask before constructing); returns the process exit code.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ng911::lost
