#pragma once
// Locating SIP servers (RFC 3263 §4): where to send a request for a SIP URI whose host is a
// name. NAPTR picks the transport, SRV the hosts, ports and their order (RFC 2782), A/AAAA the
// addresses; an explicit port or transport parameter skips the steps it makes moot. Literal
// addresses need no DNS and come back at once.
//
// The lookups use the C library's resolver (libresolv's res_nquery for NAPTR/SRV, and for
// A/AAAA when servers are configured; getaddrinfo otherwise, so that /etc/hosts counts), which
// blocks: they run on threads of the resolver's own, never on an event loop. Answers are kept
// for their DNS TTL (the smallest of the records used), failures for negative_ttl. RFC 2782's
// weighted draw among SRV records of equal priority is made for every resolution, cached or
// not, so that calls spread over a queue's hosts by their weights.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "sip/transport.h"

namespace ng911::sip {

struct ResolverConfig {
  // DNS servers to ask, in order (IPv4, any port); empty: the system's (/etc/resolv.conf).
  std::vector<boost::asio::ip::udp::endpoint> servers;
  std::chrono::seconds timeout{2};  // per query and server (the resolver's granularity: seconds)
  int attempts = 2;
  std::chrono::seconds negative_ttl{30};    // how long a name that could not be resolved stays so
  std::chrono::seconds max_ttl{3600};       // answers are kept at most this long
  std::chrono::seconds address_ttl{60};     // getaddrinfo answers carry no TTL
  std::size_t max_endpoints = 8;            // places returned for one URI at most
  // Lookups under way at once (the names differ: callers of one name share its lookup). Past
  // this a resolution fails at once, as DNS down would: names in requests are the sender's to
  // choose, and a flood of made-up ones must not queue the ESRP's own routes behind them.
  std::size_t max_lookups = 16;
  // Threads the blocking lookups run on: a name that times out holds one of them, not the rest.
  std::size_t threads = 4;
};

// "ADDRESS[:PORT]" of a DNS server (port 53 when left out); throws std::invalid_argument.
boost::asio::ip::udp::endpoint parse_dns_server(std::string_view text);

struct Resolution {
  std::vector<Endpoint> endpoints;  // in the order to try them
  std::string how;                  // "literal", "naptr", "srv" or "address": the step that decided
  std::string error;                // why there is none, when endpoints is empty
  bool temporary = false;           // none because DNS did not answer (timeout, SERVFAIL), not
                                    // because the name has no SIP server
};

struct ResolverCounters {
  std::uint64_t lookups = 0;     // resolutions that went to DNS
  std::uint64_t cache_hits = 0;  // resolutions answered from what an earlier one found
  std::uint64_t failures = 0;    // resolutions that found no place to send to
  std::uint64_t shared = 0;      // resolutions that joined a lookup of the same name under way
  std::uint64_t refused = 0;     // resolutions failed at once: max_lookups under way
};

class SipResolver {
 public:
  explicit SipResolver(ResolverConfig config = {});
  ~SipResolver();  // waits for a lookup under way (bounded by timeout x attempts per query)
  SipResolver(const SipResolver&) = delete;
  SipResolver& operator=(const SipResolver&) = delete;

  // The places to send a request for `uri` to (sip: or sips:): `done` runs on `where` (an event
  // loop's context), never inside this call. default_protocol is the transport where neither the
  // URI nor DNS says (UDP in RFC 3263; sips: is always TLS). Safe from any thread. (A callback
  // rather than an awaitable: the SIP core builds with compilers whose coroutines Asio 1.74 does
  // not support, the fuzzing build's clang among them.)
  void resolve(std::string uri, Protocol default_protocol, boost::asio::io_context& where,
               std::function<void(Resolution)> done);
  // The answer without waiting, where there is one: a literal address, a URI that cannot be
  // resolved, or an answer still within its TTL; nullopt when DNS must be asked.
  std::optional<Resolution> known(const std::string& uri, Protocol default_protocol = Protocol::udp);
  ResolverCounters counters() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ng911::sip
