#include <csignal>
#include <iostream>
#include <pthread.h>

#include "server/config.h"
#include "server/lost_service.h"

int main(int argc, char** argv) {
  // SIGINT and SIGTERM are taken by LostService::run's waiter thread; block them before any
  // thread (logger, watcher, workers) starts, so that none of those dies of them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    auto config = ng911::lost::parse_config(argc, argv);
    if (!config) return 0;
    ng911::lost::LostService service(std::move(*config));
    return service.run();
  } catch (const std::exception& e) {
    std::cerr << "ng911-lost: " << e.what() << "\n";
    return 2;
  }
}
