#include "sip/resolver.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <random>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "sip/text.h"
#include "sip/uri.h"

namespace ng911::sip {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

asio::ip::udp::endpoint parse_dns_server(std::string_view text) {
  std::string host(text);
  unsigned port = 53;
  if (auto colon = text.rfind(':'); colon != std::string_view::npos && text.find(':') == colon) {
    auto p = parse_uint(text.substr(colon + 1), 65535);
    if (!p || *p == 0) throw std::invalid_argument("DNS server '" + std::string(text) + "': bad port");
    port = static_cast<unsigned>(*p);
    host = std::string(text.substr(0, colon));
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  // The C library's resolver state holds IPv4 server addresses only (nsaddr_list).
  if (ec || !address.is_v4())
    throw std::invalid_argument("DNS server '" + std::string(text) + "': expected IPV4ADDRESS[:PORT]");
  return {address, static_cast<std::uint16_t>(port)};
}

namespace {

struct Srv {
  unsigned priority = 0, weight = 0, port = 0;
  std::string target;
};
struct Naptr {
  unsigned order = 0, preference = 0;
  std::string flags, services, replacement;
};

// One DNS answer: the records of the asked type in the answer section, and the smallest TTL.
struct Answer {
  bool found = false;      // the name exists and has records of the type
  std::string error;       // a failure other than "no such name" / "no data" (timeout, SERVFAIL)
  bool unanswered = false;  // the server did not answer at all (timeout) or failed (SERVFAIL)
  std::uint32_t ttl = 0xffffffffu;
  std::vector<Srv> srv;
  std::vector<Naptr> naptr;
  std::vector<asio::ip::address> addresses;
};

// A <character-string> (RFC 1035 §3.3): a length byte and that many bytes.
bool read_character_string(const unsigned char*& p, const unsigned char* end, std::string& out) {
  if (p >= end) return false;
  std::size_t n = *p++;
  if (static_cast<std::size_t>(end - p) < n) return false;
  out.assign(reinterpret_cast<const char*>(p), n);
  p += n;
  return true;
}

// The C library's resolver state, configured once; one per worker thread (see Impl::resolver).
class Dns {
 public:
  explicit Dns(const ResolverConfig& config) {
    std::memset(&state_, 0, sizeof state_);
    if (res_ninit(&state_) != 0) {
      init_error_ = "the C library's resolver could not be initialised (/etc/resolv.conf)";
      return;
    }
    if (!config.servers.empty()) {
      state_.nscount = static_cast<int>(std::min<std::size_t>(config.servers.size(), MAXNS));
      for (int i = 0; i < state_.nscount; ++i) {
        const auto& s = config.servers[static_cast<std::size_t>(i)];
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(s.port());
        auto bytes = s.address().to_v4().to_bytes();
        std::memcpy(&sa.sin_addr, bytes.data(), bytes.size());
        state_.nsaddr_list[i] = sa;
      }
    }
    state_.retrans = static_cast<int>(std::max<long>(1, config.timeout.count()));
    state_.retry = std::max(1, config.attempts);
  }
  ~Dns() {
    if (init_error_.empty()) res_nclose(&state_);
  }
  Dns(const Dns&) = delete;
  Dns& operator=(const Dns&) = delete;

  Answer query(const std::string& name, int type) {
    Answer a;
    if (!init_error_.empty()) {
      a.error = init_error_;
      return a;
    }
    std::array<unsigned char, 8192> buffer;
    int n = res_nquery(&state_, name.c_str(), ns_c_in, type, buffer.data(), static_cast<int>(buffer.size()));
    if (n < 0) {
      int h = state_.res_h_errno;
      if (h != HOST_NOT_FOUND && h != NO_DATA) {
        a.error = name + ": " + (h == TRY_AGAIN ? "no answer (timeout or SERVFAIL)" : "DNS failure");
        a.unanswered = h == TRY_AGAIN;
      }
      return a;
    }
    ns_msg msg;
    if (ns_initparse(buffer.data(), std::min(n, static_cast<int>(buffer.size())), &msg) != 0) {
      a.error = name + ": malformed DNS answer";
      return a;
    }
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
      ns_rr rr;
      if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) break;
      if (ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in) continue;  // CNAMEs on the way
      const unsigned char* p = ns_rr_rdata(rr);
      const unsigned char* end = p + ns_rr_rdlen(rr);
      bool ok = false;
      if (type == ns_t_a && ns_rr_rdlen(rr) == 4) {
        asio::ip::address_v4::bytes_type b;
        std::memcpy(b.data(), p, 4);
        a.addresses.emplace_back(asio::ip::address_v4(b));
        ok = true;
      } else if (type == ns_t_aaaa && ns_rr_rdlen(rr) == 16) {
        asio::ip::address_v6::bytes_type b;
        std::memcpy(b.data(), p, 16);
        a.addresses.emplace_back(asio::ip::address_v6(b));
        ok = true;
      } else if (type == ns_t_srv && ns_rr_rdlen(rr) > 6) {
        Srv s{ns_get16(p), ns_get16(p + 2), ns_get16(p + 4), {}};
        ok = expand(msg, p + 6, end, s.target);
        if (ok) a.srv.push_back(std::move(s));
      } else if (type == ns_t_naptr && ns_rr_rdlen(rr) > 4) {
        Naptr r{ns_get16(p), ns_get16(p + 2), {}, {}, {}};
        const unsigned char* q = p + 4;
        std::string regexp;
        ok = read_character_string(q, end, r.flags) && read_character_string(q, end, r.services) &&
             read_character_string(q, end, regexp) && expand(msg, q, end, r.replacement);
        if (ok) a.naptr.push_back(std::move(r));
      }
      if (ok) a.ttl = std::min(a.ttl, ns_rr_ttl(rr));
    }
    a.found = !a.addresses.empty() || !a.srv.empty() || !a.naptr.empty();
    return a;
  }

 private:
  static bool expand(const ns_msg& msg, const unsigned char* p, const unsigned char* end, std::string& out) {
    if (p >= end) return false;
    std::array<char, NS_MAXDNAME> name;
    if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), p, name.data(), static_cast<int>(name.size())) < 0) return false;
    out = name.data();
    return true;
  }

  struct __res_state state_;
  std::string init_error_;
};

// What the steps of RFC 3263 §4 find for one URI, with the TTL it may be kept for.
// One place a lookup found, with the SRV record it came from (RFC 2782's order is drawn from
// priority and weight each time the answer is used, not once per lookup).
struct Place {
  Endpoint endpoint;
  int target = 0;  // the SRV record (or the address lookup) it came from
  unsigned priority = 0, weight = 0;
};
constexpr std::size_t kMaxPlaces = 32;  // kept per answer; max_endpoints of them are returned

struct Found {
  Resolution resolution;  // how, error, temporary; endpoints are drawn from `places`
  std::vector<Place> places;
  int targets = 0;
  std::uint32_t ttl = 0xffffffffu;
  // Set by the first query the servers left unanswered: the rest of the steps are skipped, so
  // that a dead DNS costs one query's timeout, not one per step (an emergency call waits).
  bool servers_down = false;
};

}  // namespace

struct SipResolver::Impl {
  ResolverConfig config;
  asio::thread_pool worker{std::max<std::size_t>(1, config.threads)};  // the blocking lookups

  mutable std::mutex mutex;  // cache and counters: resolve() may be called from any loop
  struct Cached {
    Resolution resolution;  // without endpoints: drawn from places on each use
    std::vector<Place> places;
    Clock::time_point until;
  };
  std::mt19937 draw_rng{std::random_device{}()};  // under `mutex`
  std::map<std::string, Cached> cache;
  ResolverCounters counters;
  // Those waiting for a lookup under way, by cache key.
  struct Waiter {
    asio::io_context* where;
    asio::executor_work_guard<asio::io_context::executor_type> work;  // its run() waits for us
    std::function<void(Resolution)> done;
  };
  std::map<std::string, std::vector<Waiter>> in_flight;

  explicit Impl(ResolverConfig c) : config(std::move(c)) {}

  // --- on the worker thread ---

  // The C library's resolver state, one per worker thread (a res_state is not to be shared
  // between threads); a worker thread serves this resolver only.
  Dns& resolver() {
    thread_local std::optional<Dns> dns;
    if (!dns) dns.emplace(config);
    return *dns;
  }

  Answer query(const std::string& name, int type, Found& f) {
    if (f.servers_down) return Answer{};
    Answer a = resolver().query(name, type);
    if (a.unanswered) f.servers_down = true;
    return a;
  }

  // A and AAAA of a host name, IPv4 first (the loopback and most ESInets are IPv4).
  std::vector<asio::ip::address> addresses(const std::string& host, Found& f, std::string& error) {
    std::vector<asio::ip::address> out;
    if (config.servers.empty()) {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_DGRAM;
      addrinfo* list = nullptr;
      int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
      if (rc != 0) {
        if (rc != EAI_NONAME && rc != EAI_NODATA) error = host + ": " + ::gai_strerror(rc);
        return out;
      }
      std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(list, ::freeaddrinfo);
      for (auto* ai = list; ai; ai = ai->ai_next) {
        asio::ip::address a;
        if (ai->ai_family == AF_INET) {
          asio::ip::address_v4::bytes_type b;
          std::memcpy(b.data(), &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr, 4);
          a = asio::ip::address_v4(b);
        } else if (ai->ai_family == AF_INET6) {
          asio::ip::address_v6::bytes_type b;
          std::memcpy(b.data(), &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr, 16);
          a = asio::ip::address_v6(b);
        } else {
          continue;
        }
        if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
      }
      std::stable_partition(out.begin(), out.end(), [](const auto& a) { return a.is_v4(); });
      f.ttl = std::min<std::uint32_t>(f.ttl, static_cast<std::uint32_t>(config.address_ttl.count()));
      return out;
    }
    for (int type : {ns_t_a, ns_t_aaaa}) {
      Answer a = query(host, type, f);
      if (!a.error.empty() && error.empty()) error = a.error;
      if (!a.found) continue;
      f.ttl = std::min(f.ttl, a.ttl);
      out.insert(out.end(), a.addresses.begin(), a.addresses.end());
    }
    return out;
  }

  // RFC 2782's order of the places: their SRV records by priority, and within a priority a
  // weighted random draw; the addresses of one record stay together, in DNS order. Under `mutex`.
  std::vector<Endpoint> ordered(const std::vector<Place>& places) {
    struct Target {
      int id;
      unsigned priority, weight;
      std::vector<Endpoint> endpoints;
    };
    std::vector<Target> targets;
    for (const auto& p : places) {
      auto it = std::find_if(targets.begin(), targets.end(), [&](const Target& t) { return t.id == p.target; });
      if (it == targets.end()) targets.push_back(Target{p.target, p.priority, p.weight, {p.endpoint}});
      else it->endpoints.push_back(p.endpoint);
    }
    std::stable_sort(targets.begin(), targets.end(), [](const Target& a, const Target& b) { return a.priority < b.priority; });
    std::vector<Endpoint> out;
    auto take = [&](const Target& t) {
      for (const auto& e : t.endpoints)
        if (out.size() < config.max_endpoints) out.push_back(e);
    };
    for (std::size_t i = 0; i < targets.size();) {
      std::size_t j = i;
      while (j < targets.size() && targets[j].priority == targets[i].priority) ++j;
      std::vector<Target> group(targets.begin() + static_cast<long>(i), targets.begin() + static_cast<long>(j));
      // Zero weights first, as RFC 2782 asks, so that they have a small chance of being picked.
      std::stable_partition(group.begin(), group.end(), [](const Target& t) { return t.weight == 0; });
      while (!group.empty()) {
        unsigned long total = 0;
        for (const auto& t : group) total += t.weight;
        unsigned long pick = std::uniform_int_distribution<unsigned long>(0, total)(draw_rng);
        std::size_t k = 0;
        for (unsigned long running = 0; k < group.size(); ++k) {
          running += group[k].weight;
          if (running >= pick) break;
        }
        if (k == group.size()) k = group.size() - 1;
        take(group[k]);
        group.erase(group.begin() + static_cast<long>(k));
      }
      i = j;
    }
    return out;
  }

  void add_place(Found& f, const Endpoint& e, int target, unsigned priority, unsigned weight) {
    if (f.places.size() >= kMaxPlaces) return;
    for (const auto& p : f.places)
      if (p.endpoint == e) return;
    f.places.push_back(Place{e, target, priority, weight});
  }

  // The SRV records of `name` as endpoints over `protocol`; false when there are none.
  bool from_srv(const std::string& name, Protocol protocol, Found& f, std::string& error) {
    Answer a = query(name, ns_t_srv, f);
    if (!a.error.empty() && error.empty()) error = a.error;
    if (!a.found) return false;
    f.ttl = std::min(f.ttl, a.ttl);
    // A single record with target "." says the service is decidedly not available here.
    if (a.srv.size() == 1 && (a.srv[0].target.empty() || a.srv[0].target == ".")) {
      error = name + ": service not available (SRV target \".\")";
      return true;
    }
    std::stable_sort(a.srv.begin(), a.srv.end(), [](const Srv& x, const Srv& y) { return x.priority < y.priority; });
    for (const auto& s : a.srv) {
      if (f.places.size() >= kMaxPlaces) break;
      int target = f.targets++;
      for (const auto& address : addresses(s.target, f, error))
        add_place(f, Endpoint{protocol, address, static_cast<std::uint16_t>(s.port)}, target, s.priority, s.weight);
    }
    return true;
  }

  static std::string srv_name(Protocol p, const std::string& host) {
    switch (p) {
      case Protocol::udp: return "_sip._udp." + host;
      case Protocol::tcp: return "_sip._tcp." + host;
      case Protocol::tls: return "_sips._tcp." + host;
    }
    return host;
  }

  void from_address_records(const std::string& host, Protocol protocol, unsigned port, Found& f, std::string& error) {
    int target = f.targets++;  // one group: the addresses keep their order
    for (const auto& address : addresses(host, f, error))
      add_place(f, Endpoint{protocol, address, static_cast<std::uint16_t>(port)}, target, 0, 0);
  }

  // RFC 3263 §4.1 (transport) and §4.2 (port and address) for a URI whose host is a name.
  Found lookup(const Uri& uri, Protocol default_protocol) {
    Found f;
    std::string host(uri.host);  // DNS compares names without case
    std::string error;
    bool sips = uri.scheme == Scheme::sips;
    std::optional<Protocol> transport;
    if (const Param* t = uri.param("transport"))
      transport = iequals(t->value, "tls") ? Protocol::tls : iequals(t->value, "tcp") ? Protocol::tcp : Protocol::udp;
    if (sips) transport = Protocol::tls;
    auto default_port = [](Protocol p) { return p == Protocol::tls ? 5061u : 5060u; };

    if (uri.port) {
      // A port: no NAPTR, no SRV; the transport is the URI's, else UDP (TLS for sips:).
      Protocol p = transport.value_or(default_protocol);
      from_address_records(host, p, *uri.port, f, error);
      f.resolution.how = "address";
    } else if (transport) {
      if (!from_srv(srv_name(*transport, host), *transport, f, error)) {
        from_address_records(host, *transport, default_port(*transport), f, error);
        f.resolution.how = "address";
      } else {
        f.resolution.how = "srv";
      }
    } else {
      // NAPTR: the domain's preferred transports, in its order.
      Answer naptr = query(host, ns_t_naptr, f);
      if (!naptr.error.empty()) error = naptr.error;
      std::vector<std::pair<Naptr, Protocol>> usable;
      for (auto& r : naptr.naptr) {
        std::optional<Protocol> p;
        if (iequals(r.services, "SIP+D2U")) p = Protocol::udp;
        else if (iequals(r.services, "SIP+D2T")) p = Protocol::tcp;
        else if (iequals(r.services, "SIPS+D2T")) p = Protocol::tls;
        if (!p || !iequals(r.flags, "S") || r.replacement.empty()) continue;
        usable.emplace_back(std::move(r), *p);
      }
      std::stable_sort(usable.begin(), usable.end(), [](const auto& a, const auto& b) {
        return a.first.order != b.first.order ? a.first.order < b.first.order : a.first.preference < b.first.preference;
      });
      if (naptr.found) f.ttl = std::min(f.ttl, naptr.ttl);
      for (const auto& [r, p] : usable) {
        if (from_srv(r.replacement, p, f, error) && !f.places.empty()) {
          f.resolution.how = "naptr";
          break;
        }
      }
      // No NAPTR: SRV for the transports we speak, in our order of preference (§4.1).
      if (f.places.empty() && usable.empty()) {
        for (Protocol p : {Protocol::udp, Protocol::tcp, Protocol::tls}) {
          if (from_srv(srv_name(p, host), p, f, error)) {
            f.resolution.how = "srv";
            break;
          }
        }
      }
      // No SRV either: the host's addresses on the default port (§4.2).
      if (f.places.empty() && f.resolution.how.empty()) {
        from_address_records(host, default_protocol, default_port(default_protocol), f, error);
        f.resolution.how = "address";
      }
    }
    if (f.places.empty()) {
      f.resolution.error = error.empty() ? host + ": no SIP server found (no NAPTR, SRV or address records)" : error;
      f.resolution.temporary = f.servers_down;
    }
    return f;
  }

  // Looks the URI up, keeps the answer, and hands each waiter its own draw of the order.
  void resolve_now(const std::string& uri_text, Protocol default_protocol, const std::string& key) {
    Found f;
    try {
      Uri uri = parse_uri(uri_text);
      f = lookup(uri, default_protocol);
    } catch (const SyntaxError& e) {
      f.resolution.error = "'" + uri_text + "': " + e.what();
    }
    auto ttl = f.places.empty() ? config.negative_ttl
                                : std::min<std::chrono::seconds>(config.max_ttl, std::chrono::seconds(f.ttl));
    std::vector<Waiter> waiters;
    std::lock_guard lock(mutex);
    if (f.places.empty()) ++counters.failures;
    if (ttl.count() > 0) {
      // A route table names few URIs; a bound all the same, against URIs made up by callers.
      if (cache.size() >= 4096) std::erase_if(cache, [now = Clock::now()](const auto& kv) { return kv.second.until <= now; });
      if (cache.size() < 4096) cache[key] = Cached{f.resolution, f.places, Clock::now() + ttl};
    }
    if (auto it = in_flight.find(key); it != in_flight.end()) {
      waiters = std::move(it->second);
      in_flight.erase(it);
    }
    for (auto& w : waiters) {
      Resolution r = f.resolution;
      r.endpoints = ordered(f.places);
      asio::post(*w.where, [done = std::move(w.done), r = std::move(r)]() mutable { done(std::move(r)); });
    }
  }

  // --- on the caller's thread ---

  // The answer at once where no DNS is needed or a recent answer holds.
  std::optional<Resolution> known(const std::string& uri_text, Protocol default_protocol, const std::string& key) {
    try {
      Uri uri = parse_uri(uri_text);
      if (!uri.is_sip()) return Resolution{{}, "", "'" + uri_text + "' is not a SIP URI"};
      if (auto literal = endpoint_of(uri, default_protocol)) return Resolution{{*literal}, "literal", ""};
    } catch (const SyntaxError& e) {
      return Resolution{{}, "", "'" + uri_text + "': " + e.what()};
    }
    std::lock_guard lock(mutex);
    auto it = cache.find(key);
    if (it == cache.end()) return std::nullopt;
    if (it->second.until <= Clock::now()) {
      cache.erase(it);
      return std::nullopt;
    }
    ++counters.cache_hits;
    Resolution r = it->second.resolution;
    r.endpoints = ordered(it->second.places);
    return r;
  }
};

namespace {
std::string cache_key(const std::string& uri, Protocol default_protocol) {
  return std::string(protocol_name(default_protocol)) + " " + uri;
}
}  // namespace

SipResolver::SipResolver(ResolverConfig config) : impl_(std::make_shared<Impl>(std::move(config))) {}

SipResolver::~SipResolver() { impl_->worker.join(); }

void SipResolver::resolve(std::string uri, Protocol default_protocol, asio::io_context& where,
                          std::function<void(Resolution)> done) {
  std::string key = cache_key(uri, default_protocol);
  if (auto r = impl_->known(uri, default_protocol, key)) {
    asio::post(where, [done = std::move(done), r = std::move(*r)]() mutable { done(std::move(r)); });
    return;
  }
  Impl::Waiter waiter{&where, asio::make_work_guard(where), std::move(done)};
  {
    std::lock_guard lock(impl_->mutex);
    if (auto it = impl_->in_flight.find(key); it != impl_->in_flight.end()) {
      ++impl_->counters.shared;
      it->second.push_back(std::move(waiter));
      return;
    }
    if (impl_->in_flight.size() >= impl_->config.max_lookups) {
      ++impl_->counters.refused;
      Resolution r{{}, "", "DNS: " + std::to_string(impl_->in_flight.size()) + " lookups under way already", true};
      asio::post(where, [done = std::move(waiter.done), r = std::move(r)]() mutable { done(std::move(r)); });
      return;
    }
    ++impl_->counters.lookups;
    impl_->in_flight[key].push_back(std::move(waiter));
  }
  asio::post(impl_->worker, [impl = impl_, uri = std::move(uri), default_protocol, key = std::move(key)] {
    impl->resolve_now(uri, default_protocol, key);
  });
}

std::optional<Resolution> SipResolver::known(const std::string& uri, Protocol default_protocol) {
  return impl_->known(uri, default_protocol, cache_key(uri, default_protocol));
}

ResolverCounters SipResolver::counters() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->counters;
}

}  // namespace ng911::sip
