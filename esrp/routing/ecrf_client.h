#pragma once
// The ESRP's ECRF client: findService over HTTP(S) to a list of LoST servers in order of
// preference (the next one when a server fails or is slow), answers cached until their
// `expires`. An answer it cannot get is an error the caller turns into the default route.
// Connections to the servers are kept open between queries (a handshake per call would cost
// more than the query). Use from one thread: the ESRP's SIP event loop.
#include <chrono>
#include <utility>  // boost/asio/awaitable.hpp in Boost 1.74 uses std::exchange without it
#include <map>
#include <unordered_map>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "http/client.h"
#include "routing/lost_client.h"

namespace ng911::esrp {

struct EcrfClientConfig {
  std::vector<std::string> servers;  // http(s)://host:port/ in order of preference
  std::chrono::milliseconds timeout{1000};  // per server
  std::string ca_file;  // for https servers; empty: the system's store
  // Answers kept at most. Callers' positions rarely repeat exactly, so without a bound the cache
  // would grow by an answer a call until the answers expire (an hour, or a year for
  // NO-EXPIRATION); full, the answer that expires first goes. 0: no cache.
  std::size_t cache_entries = 10000;
};

struct EcrfCounters {
  std::uint64_t queries = 0, cache_hits = 0, server_failures = 0, answers = 0, errors = 0;
  std::uint64_t connections_opened = 0, connections_reused = 0;  // HTTP connections to the LoST servers
  EcrfCounters& operator+=(const EcrfCounters& o) {  // another event loop's client
    queries += o.queries, cache_hits += o.cache_hits, server_failures += o.server_failures, answers += o.answers;
    errors += o.errors, connections_opened += o.connections_opened, connections_reused += o.connections_reused;
    return *this;
  }
};

class EcrfClient {
 public:
  explicit EcrfClient(EcrfClientConfig config);

  // The mapping for the location and service: from the cache, or from the first server that
  // answers with LoST. `answer.error` says why there is none ("unreachable" when no server
  // answered).
  boost::asio::awaitable<LostAnswer> find_service(const PidfLocation& location, std::string service,
                                                  LostIds ids = {});

  EcrfCounters counters() const;
  std::size_t cached() const { return cache_.size(); }

 private:
  using TimePoint = std::chrono::system_clock::time_point;
  // The cache's keys, soonest to expire first (a rehash moves no element, so the pointers hold).
  using ByExpiry = std::multimap<TimePoint, const std::string*>;
  struct Cached {
    LostAnswer answer;
    ByExpiry::iterator expiry;  // its place in by_expiry_, which holds when it expires
  };
  // Key: service + profile + location-info. Hashed, not ordered: the keys of one service and
  // shape share a prefix of a hundred bytes or more, which an ordered map compared at each of
  // its levels (2-3% of the event loop's samples with a cold cache).
  using Cache = std::unordered_map<std::string, Cached>;
  void remember(const std::string& key, const LostAnswer& answer, TimePoint until, TimePoint now);
  void forget(Cache::iterator it);

  EcrfClientConfig config_;
  http::ClientPool pool_;
  Cache cache_;
  ByExpiry by_expiry_;
  EcrfCounters counters_;
};

// When a LoST `expires` value ends: NO-CACHE → now (not cached), NO-EXPIRATION → far future,
// an xs:dateTime in UTC → that instant; unparseable → now.
std::chrono::system_clock::time_point expiry_of(const std::string& expires, std::chrono::system_clock::time_point now);

}  // namespace ng911::esrp
