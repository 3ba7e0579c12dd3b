#pragma once
// ng911-lost assembled: the HTTP server, the ECRF, the snapshot watcher, metrics and logs.
#include <memory>

#include "server/config.h"

namespace ng911::lost {

class LostService {
 public:
  explicit LostService(Config config);
  ~LostService();
  // Serves until SIGINT or SIGTERM; returns the process exit code.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ng911::lost
