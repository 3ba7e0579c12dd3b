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
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "sip/proxy_checks.h"
#include "sip/resolver.h"
#include "sip/transaction.h"
#include "sip/transport.h"

namespace ng911::sip {

// What a routing policy decides for a request addressed to the proxy: where to try it, in
// order (serial forking), with a Route to add per target and header fields for every branch.
struct RoutedTarget {
  Endpoint endpoint;
  std::string route;  // a Route value naming the target (e.g. "<sip:queue@192.0.2.7;lr>"); may be empty
  Duration ring_timeout{0};  // ring-no-answer for this branch; 0: the proxy's branch_timeout
  std::string uri;           // the target's URI for History-Info; empty: none written for it
};
struct Routing {
  std::vector<RoutedTarget> targets;
  std::vector<std::pair<std::string, std::string>> add_headers;      // after the others, every branch
  std::vector<std::pair<std::string, std::string>> add_top_headers;  // before the others of that name
  // A new body for every branch (content type, bytes); the ESRP's default location makes one.
  std::optional<std::pair<std::string, std::string>> body;
  // RFC 7044 History-Info on every branch: the request as received, then each target tried, the
  // failed ones with the Reason (RFC 3326) of their failure.
  bool history_info = false;
  int reject_status = 0;  // answer with this (and reject_reason) instead of forwarding
  std::string reject_reason;
  std::vector<std::pair<std::string, std::string>> response_headers;  // with reject_status
};
// Called on the proxy's event loop; must call `done` exactly once, later or at once. The request
// is shared with its server transaction: a router that waits on queries keeps it alive without
// a copy.
using Router = std::function<void(std::shared_ptr<const Message> request, std::function<void(Routing)> done)>;

// What happened to a request the router placed, for the ESRP's log and metrics.
struct ProxyEvent {
  enum class Kind {
    branch_failed,  // a target refused, failed or rang too long; the next one is tried if any
    answered,       // a 2xx came back from a target
    final,          // the final response sent to the caller
    in_dialog,      // a request within a dialog (BYE, re-INVITE, ...) went through
    shed,           // refused with 503 under overload or while draining
  };
  Kind kind;
  std::string_view call_id, method;
  int status = 0;
  std::string_view reason;  // e.g. "ring no answer", "transport failure", the reason phrase
  std::size_t target_index = 0;
  std::string_view target;  // the target's URI (RoutedTarget::uri)
};
using ProxyObserver = std::function<void(const ProxyEvent&)>;

struct ProxyConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 5060;
  ProxyRules rules;
  TimerConfig timers;
  // Where requests addressed to the proxy itself go (its Request-URI names us and no Route is
  // left), tried one after the other (serial forking): a branch that fails (3xx-5xx, timeout,
  // transport error) or rings past branch_timeout (then CANCELed) gives way to the next; a 2xx
  // or 6xx ends the search; when all fail the best failure goes back. Empty: 404.
  std::vector<Endpoint> next_hops;
  Duration branch_timeout{0};  // ring-no-answer per INVITE branch; 0: none
  std::optional<TlsConfig> tls;  // SIP over TLS beside UDP and TCP
  // One proxy per event loop, all on `port` (SO_REUSEPORT). Each then sends its requests from a
  // port of its own, named in its Via, so that the responses come back to the loop that holds
  // the transaction: no state is shared between loops and nothing is locked.
  bool shared_port = false;
  // When set, decides where requests addressed to the proxy go (instead of next_hops).
  Router router;
  ProxyObserver observer;
  // Around each batch of received messages (Transport::set_batch_hooks): the router and the
  // observer may keep work aside during a batch and do it once at its end, before the replies
  // the batch caused are sent through that transport (with shared_port, what goes out through
  // the loop's own port is not held back).
  std::function<void()> batch_begin, batch_end;
  // Overload: with more than max_pending requests awaiting their final answer, or while
  // draining, new requests outside a dialog are refused with 503 and Retry-After, except those
  // `is_priority` says are emergency calls: those are always routed. 0: no limit.
  std::size_t max_pending = 0;
  std::function<bool(const Message&)> is_priority;
  // Next hops named by host names (a Route, a Contact, a Request-URI) are located by DNS
  // (RFC 3263) and their places tried in order; null: such requests get 404.
  std::shared_ptr<SipResolver> resolver;
};

struct ProxyCounters {
  std::uint64_t requests = 0, responses = 0, forwarded = 0, rejected = 0, retransmissions_absorbed = 0,
                timeouts = 0, transport_failures = 0, malformed = 0, retargets = 0, branch_timeouts = 0,
                large_over_tcp = 0, udp_fallbacks = 0, shed = 0,
                handed_off = 0,  // responses passed to the loop that holds their transaction
                dns_waits = 0,   // requests that waited for DNS to locate their next hop
                dns_failures = 0;  // requests whose next hop DNS could not locate (404/503)
  ProxyCounters& operator+=(const ProxyCounters& o);  // another event loop's
};

class StatefulProxy {
 public:
  StatefulProxy(boost::asio::io_context& io, ProxyConfig config);
  ~StatefulProxy();
  std::uint16_t port() const;
  std::uint16_t tls_port() const;  // 0 without TLS
  // Its transport's listening UDP socket: with shared_port, one of the group that a Call-ID
  // selector (dataplane/steer.h) steers.
  int udp_socket_fd() const;
  const ProxyCounters& counters() const;
  std::size_t pending() const;  // requests awaiting their final answer
  std::size_t transactions() const;
  // Graceful stop: new requests outside a dialog get 503 (the caller's proxy tries another
  // ESRP); transactions and dialogs under way go on.
  void drain();
  // With shared_port: the proxies of every event loop of the process, this one among them. A
  // response that reaches one loop for a client transaction of another (its peer sent it to the
  // shared port, by the Call-ID steered to the call's loop, instead of to the port in the Via,
  // which names the loop that sent the request) is then handed to that loop instead of dropped.
  // Call once, before the loops run; each io_context must outlive every loop's run.
  static void join_loops(const std::vector<StatefulProxy*>& loops);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ng911::sip
