#include "sip/proxy.h"

#include <queue>
#include <unordered_map>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "sip/builder.h"
#include "sip/text.h"

namespace ng911::sip {

namespace asio = boost::asio;

struct StatefulProxy::Impl : std::enable_shared_from_this<Impl> {
  struct ServerEntry {
    ServerTransaction tx;
    Endpoint peer;
    std::string client_key{};    // the transaction we forwarded it on
    std::string forwarded{};     // the request as we sent it (to build a CANCEL)
    Endpoint target{};
    bool final_sent = false;
    std::optional<TimePoint> wake{};
    Endpoint from;
    std::vector<Endpoint> targets;  // serial forking: what is left to try
    std::size_t next_target = 0;
    std::string best_response{};      // the best failure so far, ready to send upstream
    int best_status = 0;
    std::shared_ptr<const Routing> routing{};  // the router's decision (targets, headers, body)
    std::vector<std::string> failures{};        // per target tried: why it failed (a Reason value)
    std::string loop_hash{};  // of the request as received; goes into every branch we make
    bool pending = true;    // no final answer yet (counted in pending_count)
    bool caller_gave_up = false;  // CANCELed upstream: the branch in flight is the last
  };
  struct ClientEntry {
    ClientTransaction tx;
    Endpoint target;
    std::string server_key;
    std::optional<TimePoint> wake;
    std::optional<TimePoint> ring_deadline;  // branch_timeout for INVITE branches
    bool cancelled = false;                  // CANCELed by us: its answers are not forwarded
    bool upgraded = false;                   // UDP hop reached over TCP for size; UDP is the fallback
  };

  asio::io_context& io;
  ProxyConfig config;
  ProxyCounters counters;
  std::unique_ptr<Transport> transport;  // where requests arrive and responses go back
  std::unique_ptr<Transport> own_port;   // with shared_port: where we send requests from
  Transport* outbound = nullptr;         // transport or own_port
  asio::steady_timer ticker;
  std::unordered_map<std::string, ServerEntry> servers;
  std::unordered_map<std::string, ClientEntry> clients;
  std::size_t pending_count = 0;
  bool draining = false;
  // Wake-ups in time order, so that a tick costs what is due rather than a walk over every
  // transaction (tens of thousands linger in Timer J/K at a few thousand calls a second). An
  // entry is stale when its transaction has since been given another time or is gone.
  enum class Due { client, server, ring };
  struct Wake {
    TimePoint at;
    Due what;
    std::string key;
    bool operator>(const Wake& o) const { return at > o.at; }
  };
  std::priority_queue<Wake, std::vector<Wake>, std::greater<>> wakes;
  // The other event loops' proxies (StatefulProxy::join_loops), by the port they send from.
  struct Sibling {
    std::uint16_t port;
    asio::io_context* io;
    std::weak_ptr<Impl> proxy;
  };
  std::vector<Sibling> siblings;

  Impl(asio::io_context& ctx, ProxyConfig c) : io(ctx), config(std::move(c)), ticker(ctx) {}

  void start() {
    std::weak_ptr<Impl> weak = shared_from_this();
    transport = std::make_unique<Transport>(
        io, config.address, config.port,
        [weak](std::string bytes, const Endpoint& from) {
          if (auto self = weak.lock()) self->on_message(std::move(bytes), from);
        },
        [weak](const Endpoint& to, const std::string& why) {
          if (auto self = weak.lock()) self->on_send_failure(to, why);
        },
        config.tls, config.shared_port);
    transport->set_batch_hooks(config.batch_begin, config.batch_end);
    outbound = transport.get();
    if (config.shared_port) {
      auto tls = config.tls;
      if (tls) tls->port = 0;
      own_port = std::make_unique<Transport>(
          io, config.address, 0,
          [weak](std::string bytes, const Endpoint& from) {
            if (auto self = weak.lock()) self->on_message(std::move(bytes), from);
          },
          [weak](const Endpoint& to, const std::string& why) {
            if (auto self = weak.lock()) self->on_send_failure(to, why);
          },
          tls);
      own_port->set_batch_hooks(config.batch_begin, config.batch_end);
      outbound = own_port.get();
    }
    tick();
  }

  mutable std::string self_address_;  // transport->address() as text, made once

  std::string self_host() const {
    auto a = transport->address();
    return a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  }

  // Our Record-Route URI for one side of us: the port and transport that side reaches us on.
  std::string record_route_uri(Protocol p) const {
    std::uint16_t port = p == Protocol::tls && transport->tls_port() ? transport->tls_port() : transport->port();
    const char* param = p == Protocol::tcp ? ";transport=tcp" : p == Protocol::tls ? ";transport=tls" : "";
    return "<sip:" + self_host() + ":" + std::to_string(port) + param + ";lr>";
  }

  // Every 10 ms: fire due transaction timers.
  void tick() {
    ticker.expires_after(std::chrono::milliseconds(10));
    ticker.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->fire_timers(Clock::now());
      self->tick();
    });
  }

  void fire_timers(TimePoint now) {
    while (!wakes.empty() && wakes.top().at <= now) {
      Wake w = wakes.top();
      wakes.pop();
      if (w.what == Due::server) {
        auto it = servers.find(w.key);
        if (it != servers.end() && it->second.wake && *it->second.wake <= now) {
          it->second.wake.reset();
          server_actions(w.key, it->second.tx.on_timer(now));
        }
        continue;
      }
      auto it = clients.find(w.key);
      if (it == clients.end()) continue;
      if (w.what == Due::client && it->second.wake && *it->second.wake <= now) {
        it->second.wake.reset();
        client_actions(w.key, it->second.tx.on_timer(now));
      } else if (w.what == Due::ring && it->second.ring_deadline && *it->second.ring_deadline <= now &&
                 !it->second.cancelled) {
        branch_timed_out(w.key);
      }
    }
  }

  void set_wake(Due what, const std::string& key, std::optional<TimePoint>& slot, std::optional<TimePoint> at) {
    slot = at;
    if (at) wakes.push(Wake{*at, what, key});
  }

  // A request stops counting as pending when its final answer goes out (or it is forgotten).
  void settle(ServerEntry& s) {
    if (s.pending) {
      s.pending = false;
      --pending_count;
    }
  }

  // Once the final answer has gone upstream, a server transaction only absorbs retransmissions
  // (and carries 2xx retransmissions) until Timer J or L, 32 s over UDP: what routing needed
  // goes now. Measured in the ESRP's benchmark, a call held some 17 KB for those 32 s (the
  // request parsed, the forwarded copies, the router's decision): half a gigabyte at 1,000
  // calls a second, and a page fault every few hundred bytes while the heap grows.
  static void drop_routing_state(ServerEntry& s) {
    s.tx.release_request();
    std::string().swap(s.forwarded);
    std::string().swap(s.best_response);
    std::vector<Endpoint>().swap(s.targets);
    std::vector<std::string>().swap(s.failures);
    s.routing.reset();
  }

  // Sends the final answer upstream on the server transaction `key` (whose entry is `s`) and
  // keeps only what its retransmissions need; `s` may be gone afterwards.
  void send_final(const std::string& key, ServerEntry& s, std::string response, int status) {
    auto actions = s.tx.respond(std::move(response), status, Clock::now());
    drop_routing_state(s);
    server_actions(key, std::move(actions));
  }

  void notify(ProxyEvent::Kind kind, const Message& request, int status, std::string_view reason,
              std::size_t target_index = 0, std::string_view target = {}) {
    if (!config.observer) return;
    ProxyEvent e{kind, request.call_id(), request.method(), status, reason, target_index, target};
    config.observer(e);
  }

  void on_message(std::string bytes, const Endpoint& from) {
    Message m = Message::parse(std::move(bytes), {.stream = from.protocol != Protocol::udp});
    if (m.is_request()) on_request(std::move(m), from);
    else if (m.is_response() && m.ok()) on_response(std::move(m), from);
    else ++counters.malformed;  // responses and garbage that do not parse are dropped
  }

  void reply(const Message& request, const Endpoint& to, int status, const std::string& reason,
             const std::string& unsupported = {}) {
    auto b = MessageBuilder::response_to(request, status, reason, new_branch().substr(7, 10));
    if (!unsupported.empty()) b.add("Unsupported", unsupported);
    transport->send(to, b.str());
  }

  bool addressed_to_us(const Uri& uri) const {
    if (!uri.is_sip()) return false;
    unsigned port = uri.port.value_or(5060);
    if (port != transport->port() && (transport->tls_port() == 0 || port != transport->tls_port())) return false;
    if (self_address_.empty()) self_address_ = transport->address().to_string();  // asked for every message
    return uri.host == self_address_;
  }


  // Builds the request we send on: Route/Max-Forwards/Record-Route/Via per §16.6.
  struct Forwarded {
    std::string bytes;
    Endpoint target;
    bool upgraded = false;  // sent over TCP because it was too large for UDP
  };

  // The next hop of a request as §16.6 picks it: the first Route value that is not ours, else
  // the Request-URI (for a request to us, the first configured next hop).
  struct NextHop {
    std::size_t our_routes = 0;       // leading Route values naming us, removed when forwarding
    std::optional<Endpoint> endpoint;  // where it goes, when the hop is an address
    std::string name_uri;             // the hop's URI when its host is a name (RFC 3263: DNS)
    Protocol onward = Protocol::udp;  // the transport where the URI does not say
  };

  NextHop next_hop(const Message& m, const Endpoint& from) const {
    NextHop h;
    h.onward = from.protocol;
    std::vector<NameAddr> routes = m.route();
    // Loose routes naming us: one, or two where we double-record-routed (RFC 5658); the last
    // one says which transport the next hop takes, unless its own URI says.
    while (h.our_routes < routes.size() && h.our_routes < 2 && addressed_to_us(routes[h.our_routes].uri)) {
      if (auto ours = endpoint_of(routes[h.our_routes].uri, Protocol::udp)) h.onward = ours->protocol;
      ++h.our_routes;
    }
    Uri ruri = m.parsed_request_uri();
    const Uri* uri = &ruri;
    if (h.our_routes < routes.size()) {
      uri = &routes[h.our_routes].uri;
    } else if (addressed_to_us(ruri) || !ruri.is_sip()) {
      if (!config.next_hops.empty()) h.endpoint = config.next_hops.front();
      return h;
    }
    h.endpoint = endpoint_of(*uri, h.onward);
    if (!h.endpoint && uri->is_sip()) h.name_uri = std::string(uri->text);
    return h;
  }

  // When the next hop of `m` is named by a host name (a peer's Route or Contact, a Request-URI
  // with a domain): looks its places up by DNS (RFC 3263) and calls `then` with them on this
  // loop, at once when known; false (and no call) when the hop is no such name. Asked only once
  // forwarding found no address, so requests to addresses pay nothing for it.
  bool locate_next_hop(const Message& m, const Endpoint& from, std::function<void(const Resolution&)> then) {
    if (!config.resolver) return false;
    NextHop hop;
    try {
      hop = next_hop(m, from);
    } catch (const SyntaxError&) {
      return false;
    }
    if (hop.endpoint || hop.name_uri.empty()) return false;
    if (auto known = config.resolver->known(hop.name_uri, hop.onward)) {
      then(*known);
      return true;
    }
    ++counters.dns_waits;
    std::weak_ptr<Impl> weak = weak_from_this();
    config.resolver->resolve(hop.name_uri, hop.onward, io, [weak, then = std::move(then)](Resolution r) {
      if (auto self = weak.lock()) then(r);  // `then` may use the proxy: it is alive throughout
    });
    return true;
  }

  // The request as it goes on, and where. RFC 3261 §18.1.1: a request over 1300 bytes bound for
  // UDP goes over TCP instead (the caller may retry over UDP if that fails); keep_udp turns it off.
  std::optional<Forwarded> forward_request(const Message& m, const Endpoint& from, const std::string& branch,
                                           std::optional<Endpoint> forced = std::nullopt, bool keep_udp = false,
                                           const ServerEntry* routed = nullptr) {
    auto first_try = build_forward(m, from, branch, forced, routed);
    if (!first_try || keep_udp || first_try->second.protocol != Protocol::udp || first_try->first.size() <= 1300 ||
        m.method() == "ACK")
      return first_try ? std::optional<Forwarded>(Forwarded{std::move(first_try->first), first_try->second, false})
                       : std::nullopt;
    Endpoint tcp_target = first_try->second;
    tcp_target.protocol = Protocol::tcp;
    auto upgraded = build_forward(m, from, branch, tcp_target, routed);
    ++counters.large_over_tcp;
    return Forwarded{std::move(upgraded->first), upgraded->second, true};
  }

  std::optional<std::pair<std::string, Endpoint>> build_forward(const Message& m, const Endpoint& from,
                                                                 const std::string& branch,
                                                                 std::optional<Endpoint> forced,
                                                                 const ServerEntry* routed = nullptr) {
    auto b = MessageBuilder::edit(m);
    std::string history;
    if (routed && routed->routing) {
      const Routing& r = *routed->routing;
      for (const auto& [name, value] : r.add_headers) b.add(name, value);
      for (auto h = r.add_top_headers.rbegin(); h != r.add_top_headers.rend(); ++h) b.add_top(h->first, h->second);
      if (r.body) b.body(r.body->first, r.body->second);
      std::size_t i = routed->next_target - 1;
      if (i < r.targets.size() && !r.targets[i].route.empty()) b.add_top("Route", r.targets[i].route);
      if (r.history_info) history = history_info(m, *routed);
      if (!history.empty()) b.add("History-Info", history);
    }
    auto mf = m.max_forwards();
    b.replace(HeaderId::max_forwards, std::to_string(mf ? *mf - 1 : 70u));
    NextHop hop = next_hop(m, from);
    for (std::size_t i = 0; i < hop.our_routes; ++i) b.pop_first_value(HeaderId::route);
    std::optional<Endpoint> target = forced ? forced : hop.endpoint;
    if (!target) return std::nullopt;
    if (m.method() == "INVITE" || m.method() == "SUBSCRIBE" || m.method() == "REFER") {
      // RFC 5658: where the call changes transport at us (a caller on UDP, a large INVITE on to
      // the PSAP over TCP), each side gets the URI it reaches us on, or in-dialog requests
      // would go back to the caller over the wrong transport.
      if (from.protocol != target->protocol) b.add_top("Record-Route", record_route_uri(from.protocol));
      b.add_top("Record-Route", record_route_uri(target->protocol));
    }
    std::uint16_t via_port = target->protocol == Protocol::tls ? outbound->tls_port() : outbound->port();
    b.push_via("SIP/2.0/" + std::string(protocol_name(target->protocol)) + " " + self_host() + ":" +
               std::to_string(via_port) + ";branch=" + branch + ";rport");
    return std::pair{b.str(), *target};
  }

  // RFC 7044: the entries this proxy adds for the branch about to go out: the request as it
  // came (unless the caller already recorded it), then every target tried so far, the failed
  // ones carrying the RFC 3326 Reason of their failure (escaped into the URI's headers), the
  // new one last. Indexes continue those of History-Info already in the request.
  static std::string history_info(const Message& m, const ServerEntry& s) {
    std::size_t existing = 0;
    try {
      existing = m.history_info().size();
    } catch (const SyntaxError&) {
    }
    const Routing& r = *s.routing;
    std::string out;
    std::string root = std::to_string(existing == 0 ? 1 : existing);
    if (existing == 0) out.append("<").append(m.request_uri()).append(">;index=1");
    for (std::size_t i = 0; i < s.next_target && i < r.targets.size(); ++i) {
      if (r.targets[i].uri.empty()) continue;
      std::string uri = r.targets[i].uri;
      if (i < s.failures.size() && !s.failures[i].empty())
        uri.append(uri.find('?') == std::string::npos ? "?" : "&").append("Reason=").append(escape_header_value(s.failures[i]));
      if (!out.empty()) out.append(", ");
      out.append("<").append(uri).append(">;index=").append(root).append(".").append(std::to_string(i + 1));
      out.append(";rc=").append(root);
    }
    return out;
  }

  // RFC 3261 §25.1 hvalue: what is not unreserved or an hnv-unreserved/unreserved mark is %-escaped.
  static std::string escape_header_value(std::string_view v) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : v) {
      if (std::isalnum(c) || std::string_view("-_.!~*'()[]/:+$").find(static_cast<char>(c)) != std::string_view::npos) {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
    return out;
  }

  // §16.6 step 8 / §16.3 step 4: the part of our branch that identifies the request as we
  // received it (Request-URI, tags, Call-ID, CSeq number, Route, Proxy-Require). The topmost
  // Via is left out so that a loop through other proxies, which changes it, is still caught.
  static std::string loop_hash(const Message& m) {
    std::string key;
    key.append(m.request_uri()).append("|").append(m.to().tag()).append("|").append(m.from().tag()).append("|");
    key.append(m.call_id()).append("|").append(std::to_string(m.cseq().number)).append("|");
    for (const auto* r : m.find_all(HeaderId::route)) key.append(r->value).append(",");
    for (const auto* r : m.find_all(HeaderId::proxy_require)) key.append(r->value).append(",");
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016zx", std::hash<std::string>{}(key));
    return buf;
  }

  // A loop: a Via of ours whose branch carries the hash of this very request. A Via of ours
  // with another hash is a spiral (the request came back changed), which is allowed.
  bool is_loop(const Message& m, const std::string& hash) const {
    for (const auto& v : m.vias()) {
      if (!top_via_is_ours(v)) continue;
      std::string_view b = v.branch();
      auto dot = b.find('.');
      if (b.size() > 7 && dot != std::string_view::npos && b.substr(7, dot - 7) == hash) return true;
    }
    return false;
  }

  // §16.4: a strict router before us put our Record-Route URI into the Request-URI; the real
  // Request-URI is then the last Route value.
  static Message strict_router_fix_up(Message m, const Impl& self) {
    Uri ruri = m.parsed_request_uri();
    if (!self.addressed_to_us(ruri) || !ruri.param("lr") || !ruri.user.empty()) return m;
    auto routes = m.route();
    if (routes.empty()) return m;
    std::string last(routes.back().uri.text);
    auto b = MessageBuilder::edit(m);
    b.request_uri(last);
    // Remove the last Route value: rebuild the Route fields without it.
    b.remove(HeaderId::route);
    for (std::size_t i = 0; i + 1 < routes.size(); ++i) {
      std::string v;
      v.append("<").append(routes[i].uri.text).append(">");
      b.add("Route", v);
    }
    Message fixed = Message::parse(b.str(), {.check = false});
    return fixed.ok() ? std::move(fixed) : std::move(m);
  }

  // §18.2.1 and RFC 3581: the top Via learns where the request really came from (received) and,
  // when the client asked (an empty rport), from which port, so that responses find their way
  // back through NAT.
  static Message stamp_top_via(Message m, const Endpoint& from) {
    Via v = m.top_via();
    std::string source = from.address.to_string();
    const Param* rport = v.param("rport");
    bool add_received = v.host != source;
    bool fill_rport = rport && !rport->has_value;
    if (!add_received && !fill_rport) return m;
    std::string value;
    value.append(v.protocol).append("/").append(v.version).append("/").append(v.transport).append(" ");
    if (v.host.find(':') != std::string_view::npos) value.append("[").append(v.host).append("]");
    else value.append(v.host);
    if (v.port) value.append(":").append(std::to_string(*v.port));
    for (const auto& p : v.params) {
      if (iequals(p.name, "received") && add_received) continue;
      value.append(";").append(p.name);
      if (iequals(p.name, "rport") && fill_rport) value.append("=").append(std::to_string(from.port));
      else if (p.has_value) value.append("=").append(p.value);
    }
    if (add_received) value.append(";received=").append(source);
    m.replace_top_via(value);
    return m;
  }

  void on_request(Message m, const Endpoint& from) {
    ++counters.requests;
    std::string key, invite_key;
    if (m.ok()) {
      // The transaction's key comes from the request as received, before its Via is stamped
      // (§17.2.3 matches the top Via as the client sent it), so a retransmission (or the ACK
      // of a failure) is answered from its transaction without that rebuild and re-parse:
      // under overload callers retransmit, and each retransmission must cost little.
      key = server_key(m);
      if (auto it = servers.find(key); it != servers.end()) {
        ++counters.retransmissions_absorbed;
        server_actions(key, it->second.tx.on_request(std::move(m), Clock::now()));
        return;
      }
      if (m.method() == "CANCEL") invite_key = server_key(m, "INVITE");
      try {
        m = stamp_top_via(std::move(m), from);
      } catch (const SyntaxError&) {
      }
    }
    if (!m.ok()) {
      ++counters.malformed;
      // Answer what can be answered: a request with the fields a response needs.
      if (m.find(HeaderId::via) && m.find(HeaderId::from) && m.find(HeaderId::to) && m.find(HeaderId::call_id) &&
          m.find(HeaderId::cseq)) {
        try {
          reply(m, from, m.error_status(), m.error_status() == 505 ? "Version Not Supported" : "Bad Request");
        } catch (const SyntaxError&) {
        }
      }
      return;
    }
    if (m.method() == "ACK") {
      // The ACK of a 2xx is a transaction of its own: forwarded statelessly (§16.11), with a
      // branch derived from its own so that retransmissions get the same one.
      std::string branch = "z9hG4bK" + std::to_string(std::hash<std::string>{}(key));
      auto fwd = forward_request(m, from, branch);
      if (fwd) {
        outbound->send(fwd->target, fwd->bytes);
        return;
      }
      // A next hop named by a host name: to the first place DNS gives.
      auto ack = std::make_shared<Message>(std::move(m));
      locate_next_hop(*ack, from, [this, ack, from, branch](const Resolution& r) {
        if (r.endpoints.empty()) return;
        if (auto located = forward_request(*ack, from, branch, r.endpoints.front()))
          outbound->send(located->target, located->bytes);
      });
      return;
    }
    if (auto rejection = check_request(m, config.rules)) {
      ++counters.rejected;
      reply(m, from, rejection->status, rejection->reason, rejection->unsupported);
      return;
    }
    if (m.method() == "CANCEL") return on_cancel(std::move(m), from, invite_key);
    m = strict_router_fix_up(std::move(m), *this);
    std::string hash = loop_hash(m);
    if (is_loop(m, hash)) {
      ++counters.rejected;
      reply(m, from, 482, "Loop Detected");
      return;
    }

    auto now = Clock::now();
    // Requests for us go to the configured next hops, one after the other; others have one
    // target, from Route or the Request-URI.
    std::vector<Endpoint> targets;
    bool for_us = false;
    try {
      auto routes = m.route();
      bool only_us = routes.empty() || (routes.size() == 1 && addressed_to_us(routes.front().uri));
      Uri ruri = m.parsed_request_uri();
      for_us = only_us && (addressed_to_us(ruri) || !ruri.is_sip());
    } catch (const SyntaxError&) {
    }
    bool in_dialog = !m.to().tag().empty();
    if (!in_dialog && (draining || (config.max_pending && pending_count >= config.max_pending)) &&
        !(config.is_priority && config.is_priority(m))) {
      ++counters.shed;
      notify(ProxyEvent::Kind::shed, m, 503, draining ? "draining" : "overload");
      auto b = MessageBuilder::response_to(m, 503, "Service Unavailable", new_branch().substr(7, 10));
      b.add("Retry-After", draining ? "30" : "5");
      transport->send(from, b.str());
      return;
    }
    if (in_dialog) notify(ProxyEvent::Kind::in_dialog, m, 0, {});
    if (for_us) targets = config.next_hops;
    bool ask_router = for_us && config.router && m.method() != "ACK";
    ServerEntry entry{.tx = ServerTransaction(std::move(m), from.protocol != Protocol::udp, config.timers),
                      .peer = from,
                      .from = from,
                      .targets = std::move(targets)};
    auto started = entry.tx.start(now);
    auto [it, inserted] = servers.emplace(key, std::move(entry));
    it->second.loop_hash = std::move(hash);
    ++pending_count;
    server_actions(key, std::move(started));
    if (!ask_router) return try_next_target(key);
    // The policy decides; 100 Trying has gone out meanwhile.
    std::weak_ptr<Impl> weak = shared_from_this();
    config.router(it->second.tx.shared_request(), [weak, key](Routing routing) {
      auto self = weak.lock();
      if (!self) return;
      auto s = self->servers.find(key);
      if (s == self->servers.end() || s->second.final_sent) return;
      if (routing.reject_status)
        return self->respond_final(key, routing.reject_status, routing.reject_reason, routing.response_headers);
      s->second.targets.clear();
      for (auto& t : routing.targets) s->second.targets.push_back(t.endpoint);
      s->second.routing = std::make_shared<const Routing>(std::move(routing));
      self->try_next_target(key);
    });
  }

  // Forwards the request of a server transaction on its next branch; with nothing left to try,
  // answers with the best failure seen (or 404 when there was no target at all). A transaction
  // with a target list forks serially over it; one without has the single target that Route
  // or the Request-URI names.
  void try_next_target(const std::string& key, std::optional<Endpoint> again_over_udp = std::nullopt) {
    auto it = servers.find(key);
    if (it == servers.end() || it->second.final_sent) return;
    ServerEntry& s = it->second;
    bool serial = !s.targets.empty();
    std::optional<Endpoint> forced;
    bool keep_udp = again_over_udp.has_value();
    if (keep_udp) {
      forced = again_over_udp;  // the same hop, over UDP after all (§18.1.1)
    } else if (serial) {
      if (s.next_target >= s.targets.size() || s.caller_gave_up) {
        if (s.best_status) return send_best(key);
        return respond_final(key, 404, "Not Found");
      }
      forced = s.targets[s.next_target++];
    } else if (s.next_target++ > 0) {
      return send_best(key);
    }
    auto now = Clock::now();
    // z9hG4bK + the loop hash + "." + something unique to this branch.
    std::string branch = "z9hG4bK" + s.loop_hash + "." + new_branch().substr(7, 8);
    auto fwd = forward_request(s.tx.request(), s.from, branch, forced, keep_udp, s.routing ? &s : nullptr);
    if (!fwd) {
      // A next hop named by a host name: its places by DNS (RFC 3263), then tried in order as a
      // target list, the Route kept as it is.
      bool first_hop = !serial && !forced;
      if (first_hop && locate_next_hop(s.tx.request(), s.from, [this, key](const Resolution& r) {
            auto found = servers.find(key);
            if (found == servers.end() || found->second.final_sent) return;
            if (r.endpoints.empty()) {
              ++counters.dns_failures;
              // DNS down: the caller's proxy may try elsewhere; a name without a SIP server: 404.
              return respond_final(key, r.temporary ? 503 : 404, r.temporary ? "Service Unavailable" : "Not Found");
            }
            found->second.targets = r.endpoints;
            found->second.next_target = 0;
            try_next_target(key);
          }))
        return;
      return respond_final(key, 404, "Not Found");
    }
    ++counters.forwarded;
    if (s.next_target > 1 && !keep_udp) ++counters.retargets;
    std::string ckey = client_key(branch, s.tx.request().method());
    s.client_key = ckey;
    s.forwarded = fwd->bytes;
    s.target = fwd->target;
    ClientEntry c{ClientTransaction(fwd->bytes, branch, fwd->target.protocol != Protocol::udp, now, config.timers), fwd->target, key,
                  {}, {}, false, fwd->upgraded};
    bool more = serial && s.next_target < s.targets.size();
    Duration ring = config.branch_timeout;
    if (s.routing && s.next_target - 1 < s.routing->targets.size() && s.routing->targets[s.next_target - 1].ring_timeout.count() > 0)
      ring = s.routing->targets[s.next_target - 1].ring_timeout;
    std::optional<TimePoint> ring_deadline;
    if (more && ring.count() > 0 && s.tx.is_invite()) ring_deadline = now + ring;
    auto first = c.tx.start(now);
    auto [cit, added] = clients.emplace(ckey, std::move(c));
    set_wake(Due::ring, ckey, cit->second.ring_deadline, ring_deadline);
    client_actions(ckey, std::move(first));
  }

  // Why the current branch failed, for History-Info and the observer.
  void record_failure(ServerEntry& s, int status, std::string_view reason) {
    std::size_t i = s.next_target == 0 ? 0 : s.next_target - 1;
    if (s.failures.size() <= i) s.failures.resize(i + 1);
    std::string text(reason);
    for (char& c : text)
      if (c == '"' || c == '\\') c = '\'';
    s.failures[i] = "SIP;cause=" + std::to_string(status) + ";text=\"" + text + "\"";
    std::string_view target;
    if (s.routing && i < s.routing->targets.size()) target = s.routing->targets[i].uri;
    notify(ProxyEvent::Kind::branch_failed, s.tx.request(), status, reason, i, target);
  }

  // §16.7.6, simplified: a lower class is better (3xx before 4xx before 5xx); the first of a
  // class is kept.
  void remember_failure(ServerEntry& s, const Message& response) {
    int status = response.status();
    record_failure(s, status, response.reason());
    if (s.best_status == 0 || status / 100 < s.best_status / 100) {
      s.best_status = status;
      s.best_response = MessageBuilder::edit(response).pop_via().str();
    }
  }

  void remember_failure(ServerEntry& s, int status, const char* reason, std::string_view why = {}) {
    record_failure(s, status, why.empty() ? std::string_view(reason) : why);
    if (s.best_status == 0 || status / 100 < s.best_status / 100) {
      s.best_status = status;
      s.best_response = MessageBuilder::response_to(s.tx.request(), status, reason, new_branch().substr(7, 10)).str();
    }
  }

  void send_best(const std::string& key) {
    auto it = servers.find(key);
    if (it == servers.end() || it->second.final_sent) return;
    it->second.final_sent = true;
    settle(it->second);
    notify(ProxyEvent::Kind::final, it->second.tx.request(), it->second.best_status, "all targets failed");
    send_final(key, it->second, std::move(it->second.best_response), it->second.best_status);
  }

  // Sends a CANCEL for the INVITE we forwarded on a branch (same Request-URI, Call-ID, From,
  // To, CSeq number and top Via as the INVITE).
  void send_cancel(const std::string& forwarded, const Endpoint& target) {
    Message fwd = Message::parse(forwarded, {.check = false});
    auto b = MessageBuilder::request("CANCEL", fwd.request_uri());
    b.add("Via", fwd.top_via().text).add("Max-Forwards", "70").add("From", fwd.value(HeaderId::from))
        .add("To", fwd.value(HeaderId::to)).add("Call-ID", fwd.call_id())
        .add("CSeq", std::to_string(fwd.cseq().number) + " CANCEL");
    for (const auto* r : fwd.find_all(HeaderId::route)) b.add("Route", r->value);
    auto now = Clock::now();
    std::string branch(fwd.top_via().branch());
    std::string ckey = client_key(branch, "CANCEL");
    ClientEntry c{ClientTransaction(b.str(), branch, target.protocol != Protocol::udp, now, config.timers), target, {}, {}, {}, true,
                  false};
    auto first = c.tx.start(now);
    clients.emplace(ckey, std::move(c));
    client_actions(ckey, std::move(first));
  }

  // A branch rang too long: CANCEL it and move on to the next target.
  void branch_timed_out(const std::string& ckey) {
    auto c = clients.find(ckey);
    if (c == clients.end()) return;
    c->second.cancelled = true;
    c->second.ring_deadline.reset();
    std::string skey = c->second.server_key;
    auto s = servers.find(skey);
    if (s == servers.end() || s->second.final_sent) return;
    ++counters.branch_timeouts;
    remember_failure(s->second, 408, "Request Timeout", "ring no answer");
    send_cancel(s->second.forwarded, s->second.target);
    try_next_target(skey);
  }

  // `invite_key`: the key of the INVITE it cancels, taken from the CANCEL as received (§9.2);
  // CANCEL itself is answered at once.
  void on_cancel(Message cancel, const Endpoint& from, const std::string& invite_key) {
    auto it = servers.find(invite_key);
    if (it == servers.end()) {
      reply(cancel, from, 481, "Call/Transaction Does Not Exist");
      return;
    }
    reply(cancel, from, 200, "OK");
    if (it->second.final_sent) return;
    auto client = clients.find(it->second.client_key);
    if (client == clients.end()) {
      // Nothing forwarded yet (the router or DNS still deciding): §16.10, the INVITE is
      // answered 487 here, and whatever is decided later goes nowhere.
      it->second.caller_gave_up = true;
      return respond_final(invite_key, 487, "Request Terminated");
    }
    auto& entry = client->second;
    entry.cancelled = false;  // the 487 of this branch is the caller's answer
    entry.ring_deadline.reset();
    it->second.caller_gave_up = true;  // no more branches; the one in flight keeps its index for the log
    send_cancel(it->second.forwarded, it->second.target);
  }

  void on_response(Message r, const Endpoint& from) {
    ++counters.responses;
    std::string key;
    try {
      key = client_key(r);
    } catch (const SyntaxError&) {
      return;
    }
    auto it = clients.find(key);
    if (it == clients.end()) {
      if (hand_to_sibling(r, from)) return;
      // A 2xx retransmission after our transaction ended: forward statelessly (§16.7 step 10).
      forward_stateless_response(r);
      return;
    }
    client_actions(key, it->second.tx.on_response(std::move(r), Clock::now()));
  }

  // A response whose top Via names the port another loop sends its requests from belongs to that
  // loop's transaction: its own thread takes it from here.
  bool hand_to_sibling(const Message& r, const Endpoint& from) {
    if (siblings.empty()) return false;
    auto vias = r.vias();
    if (vias.empty()) return false;
    const Via& top = vias[0];
    unsigned port = top.port.value_or(5060);
    for (const Sibling& s : siblings) {
      if (s.port != port) continue;
      if (!via_host_is_ours(top)) return false;
      ++counters.handed_off;
      asio::post(*s.io, [proxy = s.proxy, bytes = std::string(r.bytes()), from]() mutable {
        if (auto sibling = proxy.lock()) sibling->on_message(std::move(bytes), from);
      });
      return true;
    }
    return false;
  }

  bool via_host_is_ours(const Via& v) const {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(std::string(v.host), ec);
    return !ec && addr == transport->address();
  }

  // §18.1.2: a response whose top Via is not ours is not ours to forward.
  bool top_via_is_ours(const Via& v) const {
    if (!via_host_is_ours(v)) return false;
    unsigned port = v.port.value_or(5060);
    for (const Transport* t : {transport.get(), outbound})
      if (port == t->port() || (t->tls_port() && port == t->tls_port())) return true;
    return false;
  }

  void forward_stateless_response(const Message& r) {
    if (!response_forwardable(r)) return;
    auto vias = r.vias();
    if (!top_via_is_ours(vias[0])) {
      ++counters.malformed;
      return;
    }
    const Via& next = vias[1];
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(std::string(next.param("received") ? next.param("received")->value : next.host), ec);
    if (ec) return;
    std::uint16_t port = static_cast<std::uint16_t>(next.port.value_or(5060));
    if (const Param* rport = next.param("rport"); rport && rport->has_value)
      if (auto p = parse_uint(rport->value, 65535)) port = static_cast<std::uint16_t>(*p);
    Protocol p = iequals(next.transport, "TLS") ? Protocol::tls : iequals(next.transport, "TCP") ? Protocol::tcp : Protocol::udp;
    transport->send(Endpoint{p, addr, port}, MessageBuilder::edit(r).pop_via().str());
  }

  void respond_final(const std::string& server_key_, int status, const std::string& reason,
                     const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    auto it = servers.find(server_key_);
    if (it == servers.end() || it->second.final_sent) return;
    it->second.final_sent = true;
    settle(it->second);
    notify(ProxyEvent::Kind::final, it->second.tx.request(), status, reason);
    auto b = MessageBuilder::response_to(it->second.tx.request(), status, reason, new_branch().substr(7, 10));
    for (const auto& [name, value] : headers) b.add(name, value);
    send_final(server_key_, it->second, b.str(), status);
  }

  void client_actions(const std::string& key, TxActions a) {
    auto it = clients.find(key);
    if (it == clients.end()) return;
    for (auto& bytes : a.send) outbound->send(it->second.target, std::move(bytes));
    std::string skey = it->second.server_key;
    bool cancelled = it->second.cancelled;
    bool serial = false;
    if (auto s = servers.find(skey); s != servers.end()) serial = !s->second.targets.empty();
    for (auto& response : a.to_tu) {
      int status = response.status();
      if (status == 100) continue;  // hop by hop
      if (cancelled || skey.empty()) continue;  // a branch we CANCELed, or our own CANCEL's answer
      auto s = servers.find(skey);
      if (s == servers.end()) {
        forward_stateless_response(response);
        continue;
      }
      if (s->second.final_sent && status >= 200 && status < 300) {
        forward_stateless_response(response);  // a 2xx after our final answer still reaches the caller
        continue;
      }
      // Anything else after our final answer has nowhere to go (§16.7: one final response
      // upstream), and the transaction no longer holds the request to report it with.
      if (s->second.final_sent) continue;
      if (status >= 300 && status < 600 && serial) {
        // This branch failed; the next may answer (serial forking).
        remember_failure(s->second, response);
        if (auto c = clients.find(key); c != clients.end()) c->second.ring_deadline.reset();
        try_next_target(skey);
        continue;
      }
      if (status >= 200) {
        s->second.final_sent = true;
        settle(s->second);
        std::size_t i = s->second.next_target == 0 ? 0 : s->second.next_target - 1;
        std::string_view target;
        if (s->second.routing && i < s->second.routing->targets.size()) target = s->second.routing->targets[i].uri;
        if (status < 300) notify(ProxyEvent::Kind::answered, s->second.tx.request(), status, response.reason(), i, target);
        notify(ProxyEvent::Kind::final, s->second.tx.request(), status, response.reason(), i, target);
      }
      if (auto c = clients.find(key); c != clients.end() && status >= 200) c->second.ring_deadline.reset();
      auto bytes = MessageBuilder::edit(response).pop_via().str();
      if (status >= 200) send_final(skey, s->second, std::move(bytes), status);
      else server_actions(skey, s->second.tx.respond(std::move(bytes), status, Clock::now()));
    }
    // (Forwarding above may have added entries: find ours again.)
    if (auto self_it = clients.find(key);
        a.transport_failed && self_it != clients.end() && self_it->second.upgraded && !cancelled && !skey.empty()) {
      // The TCP connection we chose for a large request failed: RFC 3261 §18.1.1 retries over UDP.
      Endpoint udp_target = self_it->second.target;
      udp_target.protocol = Protocol::udp;
      ++counters.udp_fallbacks;
      clients.erase(self_it);
      try_next_target(skey, udp_target);
      return;
    }
    if ((a.timed_out || a.transport_failed) && !cancelled && !skey.empty()) {
      a.timed_out ? ++counters.timeouts : ++counters.transport_failures;
      auto s = servers.find(skey);
      if (s != servers.end() && !s->second.final_sent) {
        if (a.timed_out) remember_failure(s->second, 408, "Request Timeout", "no answer");
        else remember_failure(s->second, 503, "Service Unavailable", "transport failure");
        try_next_target(skey);
      }
    }
    it = clients.find(key);
    if (it == clients.end()) return;
    if (a.terminated) clients.erase(it);
    else set_wake(Due::client, key, it->second.wake, a.wake);
  }

  void server_actions(const std::string& key, TxActions a) {
    auto it = servers.find(key);
    if (it == servers.end()) return;
    for (auto& bytes : a.send) transport->send(it->second.peer, std::move(bytes));
    if (a.terminated) {
      settle(it->second);
      servers.erase(it);
    } else {
      set_wake(Due::server, key, it->second.wake, a.wake);
    }
  }

  void on_send_failure(const Endpoint& to, const std::string&) {
    std::vector<std::string> failed;
    for (auto& [k, c] : clients)
      if (c.target == to) failed.push_back(k);
    for (auto& k : failed)
      if (auto it = clients.find(k); it != clients.end()) client_actions(k, it->second.tx.on_transport_error(Clock::now()));
  }
};

StatefulProxy::StatefulProxy(asio::io_context& io, ProxyConfig config)
    : impl_(std::make_shared<Impl>(io, std::move(config))) {
  impl_->start();
}

StatefulProxy::~StatefulProxy() { impl_->ticker.cancel(); }
std::uint16_t StatefulProxy::port() const { return impl_->transport->port(); }
std::uint16_t StatefulProxy::tls_port() const { return impl_->transport->tls_port(); }
int StatefulProxy::udp_socket_fd() const { return impl_->transport->udp_socket_fd(); }

ProxyCounters& ProxyCounters::operator+=(const ProxyCounters& o) {
  requests += o.requests, responses += o.responses, forwarded += o.forwarded, rejected += o.rejected;
  retransmissions_absorbed += o.retransmissions_absorbed, timeouts += o.timeouts;
  transport_failures += o.transport_failures, malformed += o.malformed, retargets += o.retargets;
  branch_timeouts += o.branch_timeouts, large_over_tcp += o.large_over_tcp, udp_fallbacks += o.udp_fallbacks;
  shed += o.shed, handed_off += o.handed_off, dns_waits += o.dns_waits, dns_failures += o.dns_failures;
  return *this;
}

void StatefulProxy::join_loops(const std::vector<StatefulProxy*>& loops) {
  for (StatefulProxy* p : loops) {
    p->impl_->siblings.clear();
    for (StatefulProxy* other : loops)
      if (other != p && other->impl_->own_port)
        p->impl_->siblings.push_back({other->impl_->outbound->port(), &other->impl_->io, other->impl_});
  }
}
const ProxyCounters& StatefulProxy::counters() const { return impl_->counters; }
std::size_t StatefulProxy::pending() const { return impl_->pending_count; }
std::size_t StatefulProxy::transactions() const { return impl_->servers.size() + impl_->clients.size(); }
void StatefulProxy::drain() { impl_->draining = true; }

}  // namespace ng911::sip
