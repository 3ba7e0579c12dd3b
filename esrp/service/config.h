#pragma once
// ng911-esrp's settings: command line and an optional config file (`key = value` lines with the
// same names as the long options; the command line wins).
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "service/call_router.h"
#include "sip/transport.h"

namespace ng911::esrp {

struct EsrpOptions {
  sip::Endpoint listen;                // UDP and TCP
  std::optional<sip::TlsConfig> tls;   // SIP over TLS beside them
  std::string http = "127.0.0.1:8190";  // /metrics and /healthz; empty: none
  CallRouterConfig router;
  sip::ResolverConfig dns;             // locating route URIs with host names (RFC 3263)
  std::string policy_file;             // empty: no rules (ECRF, default and last-resort routes only)
  std::chrono::milliseconds policy_poll{2000};
  std::vector<std::string> queues;     // queue URIs to watch besides those the rules name
  bool queue_subscriptions = true;
  std::chrono::seconds queue_expires{3600};
  std::chrono::milliseconds queue_retry{5000};
  std::optional<std::string> call_log_db;  // conninfo; nullopt: the default database
  bool call_log = true;
  std::string spool_dir = "var/esrp/spool";
  std::chrono::milliseconds ring_timeout{20000};
  std::chrono::milliseconds t1{500};
  std::size_t max_pending = 20000;
  std::chrono::milliseconds drain_timeout{30000};
  // SIP event loops, each with its own transactions on the shared port; UDP steered to them by
  // Call-ID (dataplane/steer.h) where the process may load BPF.
  int threads = 1;
};

// Parses argv (and --config FILE). Prints --help and returns nullopt when asked; throws
// std::runtime_error with a clear message for a bad setting.
std::optional<EsrpOptions> parse_options(int argc, char** argv);

}  // namespace ng911::esrp
