#pragma once
// A stateful SIP proxy core on the library (RFC 3261 §16): validation, Max-Forwards, loose
// routing, Record-Route, Via with a fresh branch, 100 Trying, response forwarding with Via
// removal, CANCEL forwarding, ACK handling, 408 on Timer B/F and 503 on transport failure.
// Where requests go is decided by a routing function; the ESRP plugs its policy in there.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "sip/proxy_checks.h"
#include "sip/transaction.h"
#include "sip/transport.h"

namespace ng911::sip {

struct ProxyConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 5060;
  ProxyRules rules;
  TimerConfig timers;
  // Where requests addressed to the proxy itself go (its Request-URI names us and no Route is
  // left); nullopt: 404.
  std::optional<Endpoint> next_hop;
};

struct ProxyCounters {
  std::uint64_t requests = 0, responses = 0, forwarded = 0, rejected = 0, retransmissions_absorbed = 0,
                timeouts = 0, transport_failures = 0, malformed = 0;
};

class StatefulProxy {
 public:
  StatefulProxy(boost::asio::io_context& io, ProxyConfig config);
  ~StatefulProxy();
  std::uint16_t port() const;
  const ProxyCounters& counters() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ng911::sip
