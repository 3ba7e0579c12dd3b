#include "psap.h"

#include <algorithm>
#include <map>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include "queue/queue_state_body.h"
#include "sip/body.h"
#include "sip/builder.h"
#include "sip/dialog.h"
#include "sip/server_table.h"
#include "sip/text.h"
#include "sip/wake_timer.h"
#include "sip/transport.h"

namespace ng911::psap {

namespace asio = boost::asio;
using nlohmann::json;
using sip::Clock;
using sip::TimePoint;

namespace {

std::string iso_now() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string new_tag() { return sip::new_branch().substr(7, 12); }

std::string_view strip_brackets(std::string_view uri) {
  uri = sip::trim(uri);
  if (uri.size() >= 2 && uri.front() == '<' && uri.back() == '>') uri = uri.substr(1, uri.size() - 2);
  return uri;
}

std::string_view event_package(std::string_view value) { return sip::trim(value.substr(0, value.find(';'))); }

bool is_live(std::string_view state) { return state == "ringing" || state == "answered" || state == "on_hold"; }

// The text of a MESSAGE: its text/plain body, or the text/plain part of a multipart one.
std::optional<std::string> text_of(const sip::Message& m) {
  try {
    auto parts = sip::body_parts(m);
    for (const auto& p : parts) {
      if (p.content_type.empty()) return std::string(p.body);
      auto type = sip::parse_media_type(p.content_type);
      if (type.is("text", "plain")) return std::string(p.body);
    }
    if (const auto* p = sip::find_by_type(parts, "text", "plain")) return std::string(p->body);
  } catch (const sip::SyntaxError&) {
  }
  return std::nullopt;
}

std::string sdp_of(const sip::Message& m) {
  try {
    auto parts = sip::body_parts(m);
    for (const auto& p : parts)
      if (!p.content_type.empty() && sip::parse_media_type(p.content_type).is("application", "sdp")) return std::string(p.body);
    if (const auto* p = sip::find_by_type(parts, "application", "sdp")) return std::string(p->body);
  } catch (const sip::SyntaxError&) {
  }
  return {};
}

}  // namespace

std::string sdp_answer(std::string_view offer, const std::string& address, unsigned port, std::string_view direction,
                       unsigned version) {
  std::string format = "0", rtpmap = "a=rtpmap:0 PCMU/8000";
  std::size_t pos = 0;
  while (pos < offer.size()) {
    auto end = offer.find('\n', pos);
    std::string_view line = offer.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? offer.size() : end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with("m=audio ")) {
      // m=audio PORT PROTO FMT...: the first format is the offerer's preference.
      std::size_t n = 0, i = 0;
      for (; i < line.size() && n < 3; ++i)
        if (line[i] == ' ') ++n;
      if (n == 3 && i < line.size()) format = std::string(line.substr(i, line.find(' ', i) - i));
      rtpmap.clear();
    } else if (line.starts_with("a=rtpmap:" + format + " ")) {
      rtpmap = std::string(line);
    }
  }
  bool v6 = address.find(':') != std::string::npos;
  std::string ip = v6 ? "IP6 " : "IP4 ";
  std::string out = "v=0\r\no=ng911-psap 1 " + std::to_string(version) + " IN " + ip + address + "\r\ns=-\r\nc=IN " + ip +
                    address + "\r\nt=0 0\r\nm=audio " + std::to_string(port) + " RTP/AVP " + format + "\r\n";
  if (!rtpmap.empty()) out += rtpmap + "\r\n";
  out += "a=" + std::string(direction) + "\r\n";
  return out;
}

struct Psap::Impl : std::enable_shared_from_this<Impl> {
  struct Queue {
    std::string uri, user;
    std::optional<esrp::QueueStateBody> notified;  // the state last notified
  };
  struct Call {
    CallId id = 0;
    std::string kind;  // voice, text
    std::string queue_uri;
    std::string sip_call_id;
    std::string state;
    std::string answered_by;
    std::string arrived_at, answered_at;
    TimePoint arrived{};
    CallView view;
    sip::Endpoint peer;                    // where the INVITE or first MESSAGE came from
    std::optional<sip::Message> invite;    // a copy of the INVITE, for the answer and a transfer
    std::string invite_key;                // its server transaction while it is unanswered
    std::string local_tag;
    std::optional<sip::Dialog> dialog;
    std::string offer;                     // the caller's SDP offer
    unsigned sdp_version = 1;
    unsigned media_port = 0;
    std::string direction = "sendrecv";
    // 2xx retransmission until the ACK (RFC 3261 §13.3.1.4)
    std::string ok_bytes;
    std::optional<TimePoint> ok_retransmit;
    sip::Duration ok_interval{};
    TimePoint ok_deadline{};
    bool reinvite_pending = false;
    // text: where replies go (the caller's Contact, else From) and the caller's URI
    std::string text_target;
    // transfer (the PSAP as bridge)
    std::string transfer_target;
    bool transfer_pending = false;
    std::optional<sip::Dialog> transfer_dialog;
    sip::Endpoint transfer_peer;
  };
  struct Subscription {
    std::string queue_uri;
    sip::Dialog dialog;
    sip::Endpoint peer;
    TimePoint expires;
  };
  using Done = std::function<void(int status, const sip::Message* response)>;
  struct ClientEntry {
    sip::ClientTransaction tx;
    sip::Endpoint to;
    std::string request;
    Done done;
    bool reported = false;
    std::optional<TimePoint> wake;
  };
  struct Taker {
    bool ready = false;
  };

  asio::io_context& io;
  PsapConfig config;
  Store& store;
  lost::Logger& log;
  EventSink sink;
  std::unique_ptr<sip::Transport> transport;
  sip::WakeTimer timer;
  std::vector<Queue> queues;
  std::map<CallId, Call> calls;  // live calls, and bridged transfers whose legs are still up
  std::vector<Subscription> subscriptions;
  sip::ServerTable servers;
  std::map<std::string, ClientEntry> clients;
  std::map<std::string, Taker> takers;
  std::uint64_t seq = 0;
  CallId unstored_ids = 0;  // negative ids for calls the store could not take
  PsapCounters counters;
  sip::Endpoint esrp;

  Impl(asio::io_context& ctx, PsapConfig c, Store& s, lost::Logger& l, EventSink e)
      : io(ctx), config(std::move(c)), store(s), log(l), sink(std::move(e)), timer(ctx.get_executor()) {}

  void start() {
    for (const auto& uri : config.queues) {
      auto parsed = sip::parse_uri(strip_brackets(uri));
      if (!parsed.is_sip() || parsed.user.empty()) throw std::invalid_argument("queue '" + uri + "': needs sip:USER@HOST");
      queues.push_back(Queue{std::string(strip_brackets(uri)), std::string(parsed.user), std::nullopt});
    }
    if (queues.empty()) throw std::invalid_argument("no queue configured");
    auto e = sip::endpoint_of(sip::parse_uri(strip_brackets(config.esrp_uri)));
    if (!e) throw std::invalid_argument("--esrp '" + config.esrp_uri + "': needs a SIP URI with a literal address");
    esrp = *e;
    std::weak_ptr<Impl> weak = shared_from_this();
    transport = std::make_unique<sip::Transport>(
        io, config.sip_address, config.sip_port,
        [weak](std::string bytes, const sip::Endpoint& from) {
          if (auto self = weak.lock()) self->on_message(std::move(bytes), from);
        },
        [weak, &ctx = io](const sip::Endpoint& to, const std::string& why) {
          asio::post(ctx, [weak, to, why] {
            if (auto self = weak.lock()) self->on_send_failure(to, why);
          });
        });
    try {
      auto interrupted = store.interrupt_open_calls();
      for (auto id : interrupted) log.write("warning", "call_interrupted", {{"call", id}, {"why", "ng911-psap restarted"}});
    } catch (const std::exception& ex) {
      store_failed("interrupt_open_calls", ex);
    }
  }

  // ---- where we are ----------------------------------------------------------------------

  std::string host() const {
    auto a = transport->address();
    return a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  }
  std::string sent_by() const { return host() + ":" + std::to_string(transport->port()); }
  std::string contact(const std::string& user, sip::Protocol p) const {
    return "<sip:" + user + "@" + sent_by() + (p == sip::Protocol::tcp ? ";transport=tcp" : "") + ">";
  }
  const Queue* queue_of(std::string_view uri_text) const {
    try {
      auto uri = sip::parse_uri(uri_text);
      for (const auto& q : queues)
        if (uri.is_sip() && uri.user == q.user) return &q;
    } catch (const sip::SyntaxError&) {
    }
    return nullptr;
  }
  // The queue a request is for: its Request-URI, else a Route naming one of our queues. An ESRP
  // (ng911-esrp, NENA i3) keeps the service URN (urn:service:sos) as the Request-URI and routes
  // to the PSAP's queue with a loose Route (<sip:psap-a@...;lr>).
  const Queue* queue_of(const sip::Message& m) const {
    if (const Queue* q = queue_of(m.request_uri())) return q;
    for (const auto* h : m.find_all(sip::HeaderId::route)) {
      try {
        for (const auto& r : sip::parse_name_addr_list(h->value))
          if (const Queue* q = queue_of(r.uri.text)) return q;
      } catch (const sip::SyntaxError&) {
      }
    }
    return nullptr;
  }
  std::string queue_user(const std::string& queue_uri) const {
    for (const auto& q : queues)
      if (q.uri == queue_uri) return q.user;
    return "psap";
  }
  static sip::Endpoint dialog_target(const sip::Dialog& d, const sip::Endpoint& fallback) {
    try {
      std::optional<sip::Endpoint> e;
      if (!d.route_set.empty()) e = sip::endpoint_of(sip::parse_name_addr(d.route_set.front()).uri, fallback.protocol);
      else e = sip::endpoint_of(sip::parse_uri(strip_brackets(d.remote_target)), fallback.protocol);
      if (e) return *e;
    } catch (const sip::SyntaxError&) {
    }
    return fallback;
  }

  // ---- events, storage, log --------------------------------------------------------------

  void store_failed(std::string_view what, const std::exception& e) {
    ++counters.store_errors;
    log.write("error", "store_failed", {{"what", what}, {"error", e.what()}});
  }
  template <class F>
  void stored(std::string_view what, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      store_failed(what, e);
    }
  }

  json summary(const Call& c) const {
    json s = {{"id", c.id},
              {"kind", c.kind},
              {"queue", c.queue_uri},
              {"sip_call_id", c.sip_call_id},
              {"state", c.state},
              {"caller_uri", c.view.caller_uri},
              {"caller_name", c.view.caller_name},
              {"callback", c.view.callback},
              {"service", c.view.service},
              {"answered_by", c.answered_by.empty() ? json(nullptr) : json(c.answered_by)},
              {"arrived_at", c.arrived_at},
              {"answered_at", c.answered_at.empty() ? json(nullptr) : json(c.answered_at)},
              {"wait_s", std::chrono::duration<double>(Clock::now() - c.arrived).count()}};
    if (c.view.location.contains("lat")) {
      s["lat"] = c.view.location["lat"];
      s["lon"] = c.view.location["lon"];
    }
    if (c.transfer_pending) s["transfer_pending"] = c.transfer_target;
    return s;
  }

  void push(json event) {
    event["seq"] = ++seq;
    if (sink) sink(event);
  }

  void call_changed(const Call& c) {
    push({{"type", "call"}, {"call", summary(c)}});
    queue_changed();
  }

  void event(Call& c, std::string_view kind, const std::string& actor, json detail = json::object()) {
    if (c.id > 0) stored("add_event", [&] { store.add_event(c.id, kind, actor, detail); });
    json fields = {{"call", c.id}, {"kind", kind}, {"actor", actor}, {"detail", detail}};
    log.write_json("info", "call_event", fields.dump().substr(1, fields.dump().size() - 2));
  }

  void set_state(Call& c, std::string state, const std::string& actor, std::string_view end_reason = {}) {
    c.state = std::move(state);
    if (c.state == "answered" && c.answered_at.empty()) {
      c.answered_at = iso_now();
      c.answered_by = actor;
    }
    if (c.id > 0) stored("set_state", [&] { store.set_state(c.id, c.state, actor, end_reason); });
    call_changed(c);
  }

  // ---- queue state -----------------------------------------------------------------------

  esrp::QueueStateBody queue_state(const Queue& q) const {
    esrp::QueueStateBody b;
    b.queue_uri = q.uri;
    b.max_length = config.queue_max;
    for (const auto& [id, c] : calls)
      if (c.queue_uri == q.uri && c.state == "ringing") ++b.queue_length;
    bool ready = std::any_of(takers.begin(), takers.end(), [](const auto& t) { return t.second.ready; });
    // NENA-STA-010.3: Full when no more calls can be taken; Active while someone can answer;
    // Standby when call-takers are logged in but none is ready (calls wait); Inactive when
    // nobody is logged in to serve the queue.
    if (b.queue_length >= b.max_length) b.state = esrp::QueueStatus::full;
    else if (ready) b.state = esrp::QueueStatus::active;
    else if (!takers.empty()) b.state = esrp::QueueStatus::standby;
    else b.state = esrp::QueueStatus::inactive;
    return b;
  }

  static bool same(const esrp::QueueStateBody& a, const esrp::QueueStateBody& b) {
    return a.state == b.state && a.queue_length == b.queue_length && a.max_length == b.max_length;
  }

  void queue_changed() {
    bool any = false;
    for (auto& q : queues) {
      auto now_state = queue_state(q);
      if (q.notified && same(*q.notified, now_state)) continue;
      q.notified = now_state;
      any = true;
      for (auto& s : subscriptions)
        if (s.queue_uri == q.uri) send_notify(s, false, {});
    }
    if (any) push({{"type", "queue"}, {"supervisor", supervisor()}});
  }

  void send_notify(Subscription& s, bool terminated, std::string_view reason) {
    const Queue* q = nullptr;
    for (const auto& candidate : queues)
      if (candidate.uri == s.queue_uri) q = &candidate;
    if (!q) return;
    auto now = Clock::now();
    std::string state = terminated ? "terminated;reason=" + std::string(reason.empty() ? "noresource" : reason)
                                   : "active;expires=" + std::to_string(std::max<std::int64_t>(
                                         0, std::chrono::duration_cast<std::chrono::seconds>(s.expires - now).count()));
    auto b = sip::notify(s.dialog, esrp::kQueueStateEvent, state, esrp::kQueueStateContentType,
                         esrp::queue_state_body(queue_state(*q)), sent_by(), sip::protocol_name(s.peer.protocol));
    b.add("Contact", contact(q->user, s.peer.protocol));
    ++counters.notifies;
    std::string call_id = s.dialog.call_id;
    start_client(b.str(), dialog_target(s.dialog, s.peer), [this, call_id](int status, const sip::Message*) {
      // RFC 6665 §4.2.2: a NOTIFY that fails (481, timeout, ...) ends the subscription.
      if (status >= 300)
        std::erase_if(subscriptions, [&](const Subscription& sub) { return sub.dialog.call_id == call_id; });
    });
  }

  // ---- timers ----------------------------------------------------------------------------

  void schedule() {
    sip::Earliest next;
    next.consider_wakes(servers);
    next.consider_wakes(clients);
    for (const auto& [id, c] : calls) next.consider(c.ok_retransmit);
    for (const auto& s : subscriptions) next.consider(s.expires);
    timer.set(next.next(), weak_from_this(), &std::remove_reference_t<decltype(*this)>::on_timer);
  }

  void on_timer(TimePoint now) {
    sip::fire_due(clients, now, [this](const auto& k, sip::TxActions a) { client_actions(k, std::move(a)); });
    sip::fire_due(servers, now, [this](const auto& k, sip::TxActions a) { server_actions(k, std::move(a)); });
    std::vector<CallId> no_ack;
    for (auto& [id, c] : calls) {
      if (!c.ok_retransmit || *c.ok_retransmit > now) continue;
      if (now >= c.ok_deadline) {
        no_ack.push_back(id);
        continue;
      }
      transport->send(c.peer, c.ok_bytes);
      c.ok_interval = std::min<sip::Duration>(c.ok_interval * 2, config.timers.t2);
      c.ok_retransmit = now + c.ok_interval;
    }
    for (auto id : no_ack) {
      // §13.3.1.4: no ACK for the 2xx within 64*T1: the dialog is confirmed and then ended.
      auto it = calls.find(id);
      if (it == calls.end()) continue;
      it->second.ok_retransmit.reset();
      event(it->second, "no_ack", "");
      send_bye(it->second);
      set_state(it->second, "ended", "", "no ACK for the answer");
      ++counters.ended;
      forget_if_done(id);
    }
    std::vector<std::string> lapsed;
    for (auto& s : subscriptions)
      if (s.expires <= now) lapsed.push_back(s.dialog.call_id);
    for (const auto& call_id : lapsed) {
      for (auto& s : subscriptions)
        if (s.dialog.call_id == call_id) send_notify(s, true, "timeout");
      std::erase_if(subscriptions, [&](const Subscription& s) { return s.dialog.call_id == call_id; });
    }
    schedule();
  }

  // ---- transactions ----------------------------------------------------------------------

  void start_client(std::string bytes, const sip::Endpoint& to, Done done) {
    auto now = Clock::now();
    sip::ClientTransaction tx(bytes, to.protocol != sip::Protocol::udp, now, config.timers);
    std::string key = sip::client_key(tx.branch(), tx.method());
    auto first = tx.start(now);
    clients.emplace(key, ClientEntry{std::move(tx), to, std::move(bytes), std::move(done), false, {}});
    client_actions(key, std::move(first));
  }

  void client_actions(const std::string& key, sip::TxActions a) {
    auto it = clients.find(key);
    if (it == clients.end()) return;
    for (auto& bytes : a.send) transport->send(it->second.to, std::move(bytes));
    for (auto& response : a.to_tu) {
      it = clients.find(key);
      if (it == clients.end()) return;
      if (response.status() < 200 || it->second.reported) continue;
      it->second.reported = true;
      auto done = it->second.done;  // a copy: the handler may start transactions of its own
      if (done) done(response.status(), &response);
    }
    it = clients.find(key);
    if (it == clients.end()) return;
    if ((a.timed_out || a.transport_failed) && !it->second.reported) {
      it->second.reported = true;
      auto done = it->second.done;
      if (done) done(a.timed_out ? 408 : 503, nullptr);
    }
    it = clients.find(key);
    if (it == clients.end()) return;
    if (a.terminated) clients.erase(it);
    else it->second.wake = a.wake;
  }

  void server_actions(const std::string& key, sip::TxActions a) { sip::act_on_server(servers, *transport, key, std::move(a)); }

  // Sends a response on the server transaction `key`; returns the bytes sent.
  std::string respond(const std::string& key, int status, std::string_view reason, std::string_view to_tag,
                      const std::vector<std::pair<std::string, std::string>>& headers = {},
                      std::string_view content_type = {}, std::string_view body = {}) {
    auto it = servers.find(key);
    if (it == servers.end()) return {};
    const sip::Message& request = it->second.tx.request();
    auto b = sip::MessageBuilder::response_to(request, status, reason, to_tag);
    for (const auto& [name, value] : headers) b.add(name, value);
    if (!content_type.empty()) b.body(content_type, body);
    std::string bytes = b.str();
    server_actions(key, it->second.tx.respond(bytes, status, Clock::now()));
    return bytes;
  }

  // ---- incoming --------------------------------------------------------------------------

  void on_message(std::string bytes, const sip::Endpoint& from) {
    sip::Message m = sip::Message::parse(std::move(bytes), {.stream = from.protocol != sip::Protocol::udp});
    try {
      if (m.is_request()) on_request(std::move(m), from);
      else if (m.is_response() && m.ok()) on_response(std::move(m));
    } catch (const sip::SyntaxError& e) {
      ++counters.bad_requests;
      log.write("warning", "sip_dropped", {{"why", e.what()}, {"from", from.str()}});
    }
    schedule();
  }

  void on_send_failure(const sip::Endpoint& to, const std::string& why) {
    log.write("warning", "sip_send_failed", {{"to", to.str()}, {"why", why}});
    std::vector<std::string> failed;
    for (const auto& [k, c] : clients)
      if (c.to == to) failed.push_back(k);
    for (const auto& k : failed)
      if (auto it = clients.find(k); it != clients.end()) client_actions(k, it->second.tx.on_transport_error(Clock::now()));
    schedule();
  }

  void on_response(sip::Message r) {
    std::string key = sip::client_key(r);
    if (auto it = clients.find(key); it != clients.end()) {
      client_actions(key, it->second.tx.on_response(std::move(r), Clock::now()));
      return;
    }
    // A retransmitted 2xx of one of our INVITEs (hold, transfer): the ACK again.
    if (r.status() >= 200 && r.status() < 300 && r.cseq().method == "INVITE") {
      for (auto& [id, c] : calls) {
        sip::Dialog* d = c.dialog && c.dialog->matches(r) ? &*c.dialog
                         : c.transfer_dialog && c.transfer_dialog->matches(r) ? &*c.transfer_dialog
                                                                                 : nullptr;
        if (!d) continue;
        auto ack = d->ack(r, sent_by(), sip::protocol_name(c.peer.protocol));
        transport->send(dialog_target(*d, d == &*c.dialog ? c.peer : c.transfer_peer), ack.str());
        return;
      }
    }
  }

  void reply(const sip::Message& request, const sip::Endpoint& to, int status, std::string_view reason) {
    transport->send(to, sip::MessageBuilder::response_to(request, status, reason, new_tag()).str());
  }

  Call* call_of_dialog(const sip::Message& m) {
    for (auto& [id, c] : calls)
      if (c.dialog && c.dialog->matches(m)) return &c;
    return nullptr;
  }
  Call* transfer_of_dialog(const sip::Message& m) {
    for (auto& [id, c] : calls)
      if (c.transfer_dialog && c.transfer_dialog->matches(m)) return &c;
    return nullptr;
  }

  void on_request(sip::Message m, const sip::Endpoint& from) {
    if (!m.ok()) {
      ++counters.bad_requests;
      log.write("warning", "sip_bad_request", {{"why", m.error()}, {"from", from.str()}});
      if (m.find(sip::HeaderId::via) && m.find(sip::HeaderId::from) && m.find(sip::HeaderId::to) &&
          m.find(sip::HeaderId::call_id) && m.find(sip::HeaderId::cseq) && m.method() != "ACK")
        reply(m, from, m.error_status(), m.error_status() == 505 ? "Version Not Supported" : "Bad Request");
      return;
    }
    auto now = Clock::now();
    std::string key = sip::server_key(m);
    if (auto it = servers.find(key); it != servers.end()) {  // a retransmission, or the ACK of a non-2xx
      server_actions(key, it->second.tx.on_request(std::move(m), now));
      return;
    }
    if (m.method() == "ACK") {
      on_ack(m);
      return;
    }
    auto it = sip::start_server(servers, *transport, key, std::move(m), from, config.timers, now);
    const sip::Message& request = it->second.tx.request();
    std::string_view method = request.method();
    bool in_dialog = !request.to().tag().empty();
    if (method == "INVITE" && !in_dialog) on_invite(key, request, from);
    else if (method == "INVITE") on_reinvite(key, request);
    else if (method == "CANCEL") on_cancel(key, request);
    else if (method == "BYE") on_bye(key, request);
    else if (method == "MESSAGE") on_text(key, request, from);
    else if (method == "SUBSCRIBE") on_subscribe(key, request, from);
    else if (method == "OPTIONS") respond(key, 200, "OK", new_tag(), {{"Allow", kAllow}, {"Accept", "application/sdp, text/plain"}});
    else respond(key, 405, "Method Not Allowed", new_tag(), {{"Allow", kAllow}});
  }
  static constexpr const char* kAllow = "INVITE, ACK, CANCEL, BYE, MESSAGE, SUBSCRIBE, OPTIONS";

  void on_ack(const sip::Message& ack) {
    Call* c = call_of_dialog(ack);
    if (!c || !c->ok_retransmit) return;
    c->ok_retransmit.reset();
    c->ok_bytes.clear();
    event(*c, "ack", "");
  }

  void on_invite(const std::string& key, const sip::Message& invite, const sip::Endpoint& from) {
    ++counters.invites;
    const Queue* q = queue_of(invite);
    if (!q) {
      ++counters.rejected;
      respond(key, 404, "Not Found", new_tag());
      return;
    }
    if (queue_state(*q).state == esrp::QueueStatus::full) {
      // The ESRP reroutes a call the queue cannot take (its policy and failover): refusing it
      // is safer than letting it ring where nobody will answer.
      ++counters.rejected;
      respond(key, 486, "Busy Here", new_tag());
      log.write("warning", "call_refused", {{"queue", q->uri}, {"why", "queue full"}, {"sip_call_id", invite.call_id()}});
      return;
    }
    Call c;
    c.kind = "voice";
    c.queue_uri = q->uri;
    c.sip_call_id = std::string(invite.call_id());
    c.state = "ringing";
    c.arrived = Clock::now();
    c.arrived_at = iso_now();
    c.view = call_view_of(invite);
    c.peer = from;
    c.invite = sip::Message::parse(std::string(invite.bytes()), {.stream = from.protocol != sip::Protocol::udp});
    c.invite_key = key;
    c.local_tag = new_tag();
    c.dialog = sip::Dialog::as_uas(invite, c.local_tag);
    c.offer = sdp_of(invite);
    c.text_target = c.dialog->remote_target.empty() ? c.view.caller_uri : c.dialog->remote_target;
    store_new(c);
    c.media_port = 40000 + static_cast<unsigned>((c.id > 0 ? c.id : -c.id) % 10000) * 2;
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto* rr : invite.find_all(sip::HeaderId::record_route)) headers.emplace_back("Record-Route", std::string(rr->value));
    headers.emplace_back("Contact", contact(q->user, from.protocol));
    respond(key, 180, "Ringing", c.local_tag, headers);
    event(c, "arrived", "", {{"from", from.str()}, {"request_uri", std::string(invite.request_uri())},
                             {"location", c.view.location}, {"history", c.view.history}});
    event(c, "ringing", "");
    CallId id = c.id;
    auto& placed = calls.emplace(id, std::move(c)).first->second;
    call_changed(placed);
  }

  void store_new(Call& c) {
    try {
      c.id = store.insert_call(NewCall{c.kind, c.queue_uri, c.sip_call_id, c.state, &c.view});
    } catch (const std::exception& e) {
      // The call is taken all the same, under an id of its own: the database must never cost a call.
      store_failed("insert_call", e);
      c.id = --unstored_ids;
    }
  }

  std::vector<std::pair<std::string, std::string>> answer_headers(const Call& c) const {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto* rr : c.invite->find_all(sip::HeaderId::record_route))
      headers.emplace_back("Record-Route", std::string(rr->value));
    headers.emplace_back("Contact", contact(queue_user(c.queue_uri), c.peer.protocol));
    headers.emplace_back("Allow", kAllow);
    return headers;
  }

  void on_reinvite(const std::string& key, const sip::Message& request) {
    Call* c = call_of_dialog(request);
    if (!c) {
      respond(key, 481, "Call/Transaction Does Not Exist", {});
      return;
    }
    if (!c->dialog->accept_remote_cseq(request.cseq().number)) {
      respond(key, 500, "CSeq Out of Order", {});
      return;
    }
    if (c->reinvite_pending) {
      respond(key, 491, "Request Pending", {});  // RFC 3261 §14.2: glare
      return;
    }
    if (auto contacts = request.contacts(); !contacts.empty()) c->dialog->remote_target = std::string(contacts.front().uri.text);
    std::string offer = sdp_of(request);
    if (!offer.empty()) c->offer = offer;
    auto headers = answer_headers(*c);
    std::string sdp = sdp_answer(c->offer, transport->address().to_string(), c->media_port, c->direction, ++c->sdp_version);
    c->ok_bytes = respond(key, 200, "OK", {}, headers, "application/sdp", sdp);
    arm_ok(*c);
    event(*c, "reinvite_answered", "");
  }

  void arm_ok(Call& c) {
    if (c.peer.protocol != sip::Protocol::udp) return;  // reliable: sent once
    c.ok_interval = config.timers.t1;
    c.ok_retransmit = Clock::now() + c.ok_interval;
    c.ok_deadline = Clock::now() + 64 * config.timers.t1;
  }

  void on_cancel(const std::string& key, const sip::Message& cancel) {
    Call* c = nullptr;
    for (auto& [id, candidate] : calls)
      if (candidate.sip_call_id == cancel.call_id() && candidate.state == "ringing" &&
          candidate.dialog->remote_tag == cancel.from().tag())
        c = &candidate;
    if (!c) {
      respond(key, 481, "Call/Transaction Does Not Exist", new_tag());
      return;
    }
    respond(key, 200, "OK", c->local_tag);
    abandon(*c, "CANCEL");
  }

  void abandon(Call& c, std::string_view how) {
    respond(c.invite_key, 487, "Request Terminated", c.local_tag);
    c.invite_key.clear();
    ++counters.abandoned;
    event(c, "abandoned", "", {{"by", how}});
    set_state(c, "abandoned", "", std::string("caller hung up before the answer (") + std::string(how) + ")");
    forget_if_done(c.id);
  }

  void on_bye(const std::string& key, const sip::Message& bye) {
    if (Call* t = transfer_of_dialog(bye)) {  // the transfer target hung up: the caller too
      respond(key, 200, "OK", {});
      event(*t, "transfer_target_hung_up", "");
      t->transfer_dialog.reset();
      send_bye(*t);
      t->dialog.reset();
      forget_if_done(t->id);
      return;
    }
    Call* c = call_of_dialog(bye);
    if (!c) {
      respond(key, 481, "Call/Transaction Does Not Exist", {});
      return;
    }
    respond(key, 200, "OK", {});
    c->ok_retransmit.reset();
    if (c->state == "ringing") {
      abandon(*c, "BYE");
      return;
    }
    c->dialog.reset();
    if (c->transfer_dialog) {  // bridged: the target's leg ends with the caller's
      send_transfer_bye(*c);
    }
    if (is_live(c->state)) {
      ++counters.ended;
      event(*c, "caller_hung_up", "");
      set_state(*c, "ended", "", "caller hung up");
    } else {
      event(*c, "caller_hung_up", "");
    }
    forget_if_done(c->id);
  }

  // A call leaves memory once it is final and has no SIP leg left.
  void forget_if_done(CallId id) {
    auto it = calls.find(id);
    if (it == calls.end()) return;
    const Call& c = it->second;
    if (is_live(c.state) || c.transfer_pending) return;
    if (c.kind == "voice" && (c.dialog && c.state == "transferred")) return;
    if (c.transfer_dialog) return;
    calls.erase(it);
    queue_changed();
  }

  void on_text(const std::string& key, const sip::Message& m, const sip::Endpoint& from) {
    ++counters.messages_in;
    auto text = text_of(m);
    if (!text) {
      respond(key, 415, "Unsupported Media Type", new_tag(), {{"Accept", "text/plain"}});
      return;
    }
    Call* c = nullptr;
    for (auto& [id, candidate] : calls)
      if (candidate.sip_call_id == m.call_id() && candidate.kind == "voice") c = &candidate;
    std::string caller;
    try {
      caller = std::string(m.from().uri.text);
    } catch (const sip::SyntaxError&) {
    }
    if (!c) {
      const Queue* q = queue_of(m);
      // Page-mode messages of one conversation share the caller and the queue, not a Call-ID.
      for (auto& [id, candidate] : calls)
        if (candidate.kind == "text" && is_live(candidate.state) && candidate.view.caller_uri == caller &&
            (!q || candidate.queue_uri == q->uri))
          c = &candidate;
      if (!c) {
        if (!q) {
          respond(key, 404, "Not Found", new_tag());
          return;
        }
        Call n;
        n.kind = "text";
        n.queue_uri = q->uri;
        n.sip_call_id = std::string(m.call_id());
        n.state = "ringing";
        n.arrived = Clock::now();
        n.arrived_at = iso_now();
        n.view = call_view_of(m);
        n.peer = from;
        store_new(n);
        event(n, "arrived", "", {{"from", from.str()}, {"location", n.view.location}});
        CallId id = n.id;
        c = &calls.emplace(id, std::move(n)).first->second;
      }
    }
    // Replies go where the caller says it can be reached: its Contact, else its From.
    auto contacts = m.contacts();
    c->text_target = contacts.empty() ? caller : std::string(contacts.front().uri.text);
    c->peer = from;
    respond(key, 200, "OK", new_tag());
    if (c->id > 0) stored("add_text", [&] { store.add_text(c->id, "in", caller, *text, "received"); });
    event(*c, "text_in", "", {{"length", text->size()}});
    push({{"type", "text"}, {"call_id", c->id}, {"direction", "in"}, {"sender", caller}, {"body", *text}, {"at", iso_now()}});
    call_changed(*c);
  }

  void on_subscribe(const std::string& key, const sip::Message& m, const sip::Endpoint& from) {
    ++counters.subscribes;
    if (!sip::iequals(event_package(m.value(sip::HeaderId::event)), esrp::kQueueStateEvent)) {
      respond(key, 489, "Bad Event", new_tag(), {{"Allow-Events", std::string(esrp::kQueueStateEvent)}});
      return;
    }
    auto now = Clock::now();
    std::uint64_t asked = config.max_subscription.count();
    if (auto e = sip::parse_uint(sip::trim(m.value(sip::HeaderId::expires)), 0xffffffffu)) asked = *e;
    std::uint64_t granted = std::min<std::uint64_t>(asked, config.max_subscription.count());
    if (!m.to().tag().empty()) {  // a refresh or an unsubscription, within the dialog
      auto it = std::find_if(subscriptions.begin(), subscriptions.end(),
                             [&](const Subscription& s) { return s.dialog.matches(m); });
      if (it == subscriptions.end()) {
        respond(key, 481, "Subscription Does Not Exist", {});
        return;
      }
      if (!it->dialog.accept_remote_cseq(m.cseq().number)) {
        respond(key, 500, "CSeq Out of Order", {});
        return;
      }
      respond(key, 200, "OK", {}, {{"Expires", std::to_string(granted)}, {"Contact", contact(queue_user(it->queue_uri), from.protocol)}});
      it->expires = now + std::chrono::seconds(granted);
      send_notify(*it, granted == 0, "timeout");
      if (granted == 0) subscriptions.erase(it);
      return;
    }
    const Queue* q = queue_of(m);
    if (!q) {
      respond(key, 404, "Not Found", new_tag());
      return;
    }
    std::string tag = new_tag();
    Subscription s{q->uri, sip::Dialog::as_uas(m, tag), from, now + std::chrono::seconds(granted)};
    respond(key, granted == 0 ? 200 : 200, "OK", tag, {{"Expires", std::to_string(granted)}, {"Contact", contact(q->user, from.protocol)}});
    log.write("info", "subscribed", {{"queue", q->uri}, {"subscriber", s.dialog.remote_uri}, {"expires", granted}});
    // RFC 6665 §4.2.1.2: a NOTIFY at once, with the current state (the final one for a fetch).
    subscriptions.push_back(std::move(s));
    send_notify(subscriptions.back(), granted == 0, "timeout");
    if (granted == 0) subscriptions.pop_back();
  }

  // ---- our requests within a call ----------------------------------------------------------

  void send_bye(Call& c) {
    if (!c.dialog) return;
    auto b = c.dialog->request("BYE", sent_by(), sip::protocol_name(c.peer.protocol));
    b.add("Contact", contact(queue_user(c.queue_uri), c.peer.protocol));
    CallId id = c.id;
    start_client(b.str(), dialog_target(*c.dialog, c.peer), [this, id](int status, const sip::Message*) {
      if (auto it = calls.find(id); it != calls.end()) event(it->second, "bye_answered", "", {{"status", status}});
    });
    c.dialog.reset();
  }

  void send_transfer_bye(Call& c) {
    if (!c.transfer_dialog) return;
    auto b = c.transfer_dialog->request("BYE", sent_by(), sip::protocol_name(c.transfer_peer.protocol));
    start_client(b.str(), dialog_target(*c.transfer_dialog, c.transfer_peer), {});
    c.transfer_dialog.reset();
  }

  // A re-INVITE to the caller with our SDP (hold, resume) or the transfer target's (bridge).
  void send_reinvite(Call& c, std::string sdp, std::function<void(Call&, int)> then) {
    auto b = c.dialog->request("INVITE", sent_by(), sip::protocol_name(c.peer.protocol));
    b.add("Contact", contact(queue_user(c.queue_uri), c.peer.protocol));
    b.body("application/sdp", sdp);
    std::string bytes = b.str();
    c.reinvite_pending = true;
    CallId id = c.id;
    sip::Endpoint to = dialog_target(*c.dialog, c.peer);
    start_client(bytes, to, [this, id, bytes, to, then](int status, const sip::Message* response) {
      auto it = calls.find(id);
      if (it == calls.end()) return;
      Call& call = it->second;
      call.reinvite_pending = false;
      if (response && status < 300 && call.dialog) {
        auto invite = sip::Message::parse(bytes);
        transport->send(to, call.dialog->ack(invite, sent_by(), sip::protocol_name(call.peer.protocol)).str());
      }
      then(call, status);
    });
  }

  // ---- actions -------------------------------------------------------------------------------

  Outcome find(CallId id, Call*& out) {
    auto it = calls.find(id);
    if (it != calls.end()) {
      out = &it->second;
      return {};
    }
    out = nullptr;
    try {
      if (auto stored_call = store.call(id))
        return {409, "call " + std::to_string(id) + " is " + (*stored_call)["state"].get<std::string>(), {}};
    } catch (const std::exception& e) {
      store_failed("call", e);
    }
    return {404, "no call " + std::to_string(id), {}};
  }

  Outcome answer(CallId id, const std::string& user) {
    Call* c;
    if (auto o = find(id, c); !c) return o;
    if (c->state != "ringing") return {409, "call " + std::to_string(id) + " is " + c->state + (c->answered_by.empty() ? "" : " by " + c->answered_by), {}};
    if (c->kind == "voice") {
      std::string sdp = sdp_answer(c->offer, transport->address().to_string(), c->media_port, "sendrecv", c->sdp_version);
      c->ok_bytes = respond(c->invite_key, 200, "OK", c->local_tag, answer_headers(*c), "application/sdp", sdp);
      c->invite_key.clear();
      arm_ok(*c);
    }
    ++counters.answered;
    event(*c, "answered", user);
    set_state(*c, "answered", user);
    schedule();
    return {200, {}, summary(*c)};
  }

  Outcome answer_next(const std::string& user) {
    const Call* oldest = nullptr;
    for (const auto& [id, c] : calls)
      if (c.state == "ringing" && (!oldest || c.arrived < oldest->arrived)) oldest = &c;
    if (!oldest) return {404, "no call is ringing", {}};
    return answer(oldest->id, user);
  }

  Outcome hold_or_resume(CallId id, const std::string& user, bool hold) {
    Call* c;
    if (auto o = find(id, c); !c) return o;
    std::string want = hold ? "answered" : "on_hold";
    if (c->state != want) return {409, "call " + std::to_string(id) + " is " + c->state, {}};
    if (c->kind == "text") {
      event(*c, hold ? "hold" : "resume", user);
      set_state(*c, hold ? "on_hold" : "answered", user);
      return {200, {}, summary(*c)};
    }
    if (!c->dialog) return {409, "call " + std::to_string(id) + " has no dialog", {}};
    if (c->reinvite_pending || c->ok_retransmit) return {409, "call " + std::to_string(id) + " has a re-INVITE or answer in progress", {}};
    c->direction = hold ? "sendonly" : "sendrecv";
    std::string sdp = sdp_answer(c->offer, transport->address().to_string(), c->media_port, c->direction, ++c->sdp_version);
    event(*c, hold ? "hold" : "resume", user);
    set_state(*c, hold ? "on_hold" : "answered", user);
    send_reinvite(*c, sdp, [this, hold, user](Call& call, int status) {
      if (status < 300) {
        event(call, hold ? "hold_confirmed" : "resume_confirmed", "", {{"status", status}});
        return;
      }
      // The caller refused: the call stays as it was, and the console is told.
      event(call, hold ? "hold_failed" : "resume_failed", "", {{"status", status}});
      call.direction = hold ? "sendrecv" : "sendonly";
      if (is_live(call.state)) set_state(call, hold ? "answered" : "on_hold", user);
    });
    schedule();
    return {200, {}, summary(*c)};
  }

  Outcome release(CallId id, const std::string& user) {
    Call* c;
    if (auto o = find(id, c); !c) return o;
    if (c->state == "ringing") return {409, "call " + std::to_string(id) + " is ringing: answer it first", {}};
    if (!is_live(c->state)) return {409, "call " + std::to_string(id) + " is " + c->state, {}};
    c->ok_retransmit.reset();
    send_bye(*c);
    send_transfer_bye(*c);
    ++counters.released;
    event(*c, "released", user);
    set_state(*c, "ended", user, "released by " + user);
    forget_if_done(id);
    schedule();
    return {200, {}, {{"id", id}, {"state", "ended"}}};
  }

  Outcome transfer(CallId id, const std::string& user, const std::string& target) {
    Call* c;
    if (auto o = find(id, c); !c) return o;
    if (c->state != "answered" && c->state != "on_hold") return {409, "call " + std::to_string(id) + " is " + c->state, {}};
    if (c->kind != "voice" || !c->invite || !c->dialog) return {409, "only a voice call in a dialog can be transferred", {}};
    if (c->transfer_pending || c->transfer_dialog) return {409, "a transfer of call " + std::to_string(id) + " is under way", {}};
    try {
      auto uri = sip::parse_uri(target);
      bool ok = uri.is_sip() || (uri.scheme == sip::Scheme::urn && target.starts_with("urn:service:"));
      if (!ok) return {400, "transfer target must be a sip: URI or a urn:service: URN", {}};
    } catch (const sip::SyntaxError& e) {
      return {400, std::string("transfer target: ") + e.what(), {}};
    }
    const sip::Message& original = *c->invite;
    std::string user_part = queue_user(c->queue_uri);
    auto b = sip::out_of_dialog_request("INVITE", target, "<" + c->queue_uri + ">", "<" + target + ">",
                                        contact(user_part, esrp.protocol), sent_by(), sip::protocol_name(esrp.protocol));
    // The ESRP is our outbound proxy (loose routing): it routes the URN by the caller's location.
    b.add("Route", "<" + std::string(strip_brackets(config.esrp_uri)) + ";lr>");
    for (auto id_header : {sip::HeaderId::call_info, sip::HeaderId::geolocation, sip::HeaderId::geolocation_routing,
                           sip::HeaderId::resource_priority})
      for (const auto* h : original.find_all(id_header)) b.add(h->name, h->value);
    b.add("Referred-By", "<" + c->queue_uri + ">");
    if (!original.body().empty()) b.body(original.value(sip::HeaderId::content_type), original.body());
    std::string bytes = b.str();
    c->transfer_pending = true;
    c->transfer_target = target;
    ++counters.transfers;
    event(*c, "transfer_started", user, {{"target", target}});
    call_changed(*c);
    start_client(bytes, esrp, [this, id, bytes, user, target](int status, const sip::Message* response) {
      auto it = calls.find(id);
      if (it == calls.end()) return;
      Call& call = it->second;
      call.transfer_pending = false;
      if (!response || status >= 300 || !call.dialog) {
        ++counters.transfer_failures;
        event(call, "transfer_failed", user, {{"target", target}, {"status", status},
                                              {"reason", response ? std::string(response->reason()) : std::string()}});
        if (response && status < 300) {  // answered after the caller left: that leg ends too
          auto d = sip::Dialog::as_uac(sip::Message::parse(bytes), *response);
          transport->send(esrp, d.ack(sip::Message::parse(bytes), sent_by(), sip::protocol_name(esrp.protocol)).str());
          call.transfer_dialog = d;
          call.transfer_peer = esrp;
          send_transfer_bye(call);
        }
        call_changed(call);
        forget_if_done(id);
        return;
      }
      auto invite = sip::Message::parse(bytes);
      sip::Dialog d = sip::Dialog::as_uac(invite, *response);
      transport->send(dialog_target(d, esrp), d.ack(invite, sent_by(), sip::protocol_name(esrp.protocol)).str());
      call.transfer_dialog = std::move(d);
      call.transfer_peer = esrp;
      std::string answered_by;
      try {
        answered_by = std::string(response->to().uri.text);
        if (auto contacts = response->contacts(); !contacts.empty()) answered_by = std::string(contacts.front().uri.text);
      } catch (const sip::SyntaxError&) {
      }
      event(call, "transfer_answered", "", {{"target", target}, {"answered_by", answered_by}});
      // The bridge: the caller gets the target's SDP, so that media flows between the two.
      std::string target_sdp = sdp_of(*response);
      if (!target_sdp.empty())
        send_reinvite(call, target_sdp, [this](Call& cl, int st) { event(cl, "bridged", "", {{"status", st}}); });
      set_state(call, "transferred", user, "transferred to " + target);
    });
    schedule();
    return {200, {}, summary(*c)};
  }

  Outcome send_text(CallId id, const std::string& user, const std::string& text) {
    if (text.empty() || text.size() > 2000) return {400, "text must be 1 to 2000 bytes", {}};
    Call* c;
    if (auto o = find(id, c); !c) return o;
    if (!is_live(c->state)) return {409, "call " + std::to_string(id) + " is " + c->state, {}};
    if (c->text_target.empty()) return {409, "call " + std::to_string(id) + " has no address to text", {}};
    std::optional<sip::Endpoint> to;
    try {
      // RFC 3263 §4.1: a SIP URI without a transport parameter is reached over UDP, whatever
      // transport the caller's MESSAGE came in by (the ESRP forwards large ones over TCP).
      to = sip::endpoint_of(sip::parse_uri(strip_brackets(c->text_target)), sip::Protocol::udp);
    } catch (const sip::SyntaxError&) {
    }
    sip::Endpoint target = to ? *to : c->peer;  // a name we cannot resolve: through the ESRP it came by
    std::string user_part = queue_user(c->queue_uri);
    std::string bytes;
    if (c->dialog && c->kind == "voice") {  // text within the call's dialog (RFC 3428 §4)
      target = dialog_target(*c->dialog, c->peer);
      auto b = c->dialog->request("MESSAGE", sent_by(), sip::protocol_name(c->peer.protocol));
      b.body("text/plain;charset=UTF-8", text);
      bytes = b.str();
    } else {
      auto b = sip::out_of_dialog_request("MESSAGE", strip_brackets(c->text_target), "<" + c->queue_uri + ">",
                                          "<" + c->view.caller_uri + ">", contact(user_part, target.protocol), sent_by(),
                                          sip::protocol_name(target.protocol));
      // One Call-ID for the whole conversation, the caller's: its phone threads the replies by it.
      b.replace(sip::HeaderId::call_id, c->sip_call_id);
      b.body("text/plain;charset=UTF-8", text);
      bytes = b.str();
    }
    std::int64_t text_id = 0;
    if (c->id > 0) stored("add_text", [&] { text_id = store.add_text(c->id, "out", user, text, "sending"); });
    ++counters.messages_out;
    event(*c, "text_out", user, {{"length", text.size()}});
    push({{"type", "text"}, {"call_id", c->id}, {"direction", "out"}, {"sender", user}, {"body", text}, {"at", iso_now()}});
    start_client(bytes, target, [this, id, text_id](int status, const sip::Message*) {
      std::string outcome = status < 300 ? "delivered" : "failed";
      if (text_id > 0) stored("set_text_status", [&] { store.set_text_status(text_id, outcome); });
      push({{"type", "text_status"}, {"call_id", id}, {"text_id", text_id}, {"status", outcome}, {"sip_status", status}});
    });
    schedule();
    return {200, {}, {{"id", id}, {"text_id", text_id}, {"status", "sending"}}};
  }

  json supervisor() const {
    json qs = json::array();
    unsigned waiting = 0;
    double longest = 0;
    auto now = Clock::now();
    for (const auto& q : queues) {
      auto st = queue_state(q);
      double q_longest = 0;
      for (const auto& [id, c] : calls)
        if (c.queue_uri == q.uri && c.state == "ringing")
          q_longest = std::max(q_longest, std::chrono::duration<double>(now - c.arrived).count());
      waiting += st.queue_length;
      longest = std::max(longest, q_longest);
      qs.push_back({{"uri", q.uri}, {"state", esrp::queue_status_name(st.state)}, {"waiting", st.queue_length},
                    {"max", st.max_length}, {"longest_wait_s", q_longest}});
    }
    json takers_json = json::array();
    unsigned ready = 0;
    for (const auto& [name, t] : takers) {
      takers_json.push_back({{"name", name}, {"ready", t.ready}});
      ready += t.ready ? 1 : 0;
    }
    unsigned active = 0;
    for (const auto& [id, c] : calls)
      if (c.state == "answered" || c.state == "on_hold") ++active;
    return {{"queues", qs}, {"calls_waiting", waiting}, {"calls_active", active}, {"longest_wait_s", longest},
            {"call_takers", takers_json}, {"ready", ready}, {"not_ready", takers.size() - ready},
            {"subscribers", subscriptions.size()}};
  }
};

Psap::Psap(asio::io_context& io, PsapConfig config, Store& store, lost::Logger& log, EventSink sink)
    : impl_(std::make_shared<Impl>(io, std::move(config), store, log, std::move(sink))) {
  impl_->start();
  for (auto& q : impl_->queues) q.notified = impl_->queue_state(q);
}

Psap::~Psap() {
  // Subscribers learn that the queue goes away rather than waiting for their subscription to lapse.
  for (auto& s : impl_->subscriptions) impl_->send_notify(s, true, "noresource");
  impl_->timer.cancel();
}

json Psap::calls() {
  json live = json::array();
  std::vector<const Impl::Call*> order;
  for (const auto& [id, c] : impl_->calls)
    if (is_live(c.state)) order.push_back(&c);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->arrived < b->arrived; });
  for (const auto* c : order) live.push_back(impl_->summary(*c));
  json recent = json::array();
  try {
    for (auto& r : impl_->store.recent_calls(impl_->config.recent_limit))
      if (!is_live(r["state"].get<std::string>()) || !impl_->calls.count(r["id"].get<CallId>())) recent.push_back(r);
  } catch (const std::exception& e) {
    impl_->store_failed("recent_calls", e);
  }
  return {{"seq", impl_->seq}, {"live", live}, {"recent", recent}};
}

Outcome Psap::call(CallId id) {
  auto it = impl_->calls.find(id);
  std::optional<json> record;
  try {
    record = impl_->store.call(id);
  } catch (const std::exception& e) {
    impl_->store_failed("call", e);
  }
  if (!record && it == impl_->calls.end()) return {404, "no call " + std::to_string(id), {}};
  json out = record ? *record : json::object();
  if (it != impl_->calls.end()) {
    const auto& c = it->second;
    json live = impl_->summary(c);
    for (auto& [k, v] : live.items()) out[k] = v;
    out["location"] = c.view.location;  // a rebid may be newer than the row
    if (!record) {
      out["additional_data"] = c.view.additional_data;
      out["history"] = c.view.history;
      out["emergency_call_id"] = c.view.emergency_call_id;
      out["incident_id"] = c.view.incident_id;
    }
    out["location_references"] = c.view.location_references;
  }
  return {200, {}, out};
}

json Psap::supervisor() { return impl_->supervisor(); }
Outcome Psap::answer(CallId id, const std::string& user) { return impl_->answer(id, user); }
Outcome Psap::answer_next(const std::string& user) { return impl_->answer_next(user); }
Outcome Psap::hold(CallId id, const std::string& user) { return impl_->hold_or_resume(id, user, true); }
Outcome Psap::resume(CallId id, const std::string& user) { return impl_->hold_or_resume(id, user, false); }
Outcome Psap::release(CallId id, const std::string& user) { return impl_->release(id, user); }
Outcome Psap::transfer(CallId id, const std::string& user, const std::string& target) {
  return impl_->transfer(id, user, target);
}
Outcome Psap::send_text(CallId id, const std::string& user, const std::string& text) {
  return impl_->send_text(id, user, text);
}

asio::awaitable<Outcome> Psap::rebid(CallId id, std::string user) {
  auto self = impl_;  // alive across the wait
  Impl::Call* c;
  if (auto o = self->find(id, c); !c) co_return o;
  std::string reference;
  for (const auto& r : c->view.location_references)
    if (r.starts_with("http://") || r.starts_with("https://")) reference = r;
  if (reference.empty()) co_return Outcome{409, "call " + std::to_string(id) + " has no location by reference (HELD) to rebid", {}};
  self->event(*c, "rebid_requested", user, {{"uri", reference}});
  esrp::HeldResult result = co_await esrp::dereference(reference, self->config.held);
  auto it = self->calls.find(id);
  if (it == self->calls.end()) co_return Outcome{409, "call " + std::to_string(id) + " ended during the rebid", {}};
  Impl::Call& call = it->second;
  if (!result.location) {
    self->event(call, "rebid_failed", user, {{"uri", reference}, {"error", result.error}, {"message", result.message}});
    co_return Outcome{502, "rebid failed: " + result.error + (result.message.empty() ? "" : " (" + result.message + ")"), {}};
  }
  json location = location_json(*result.location, "rebid");
  location["references"] = call.view.location_references;
  location["problems"] = result.problems;
  call.view.location = location;
  if (call.id > 0) self->stored("set_location", [&] { self->store.set_location(call.id, location); });
  self->event(call, "rebid", user, {{"uri", reference}, {"location", location}});
  self->call_changed(call);
  co_return Outcome{200, {}, {{"id", id}, {"location", location}}};
}

void Psap::taker_present(const std::string& user) {
  if (impl_->takers.emplace(user, Impl::Taker{}).second) impl_->queue_changed();
}
void Psap::taker_ready(const std::string& user, bool ready) {
  impl_->takers[user].ready = ready;
  impl_->queue_changed();
  impl_->push({{"type", "queue"}, {"supervisor", impl_->supervisor()}});
}
void Psap::taker_gone(const std::string& user) {
  if (impl_->takers.erase(user)) impl_->queue_changed();
  impl_->push({{"type", "queue"}, {"supervisor", impl_->supervisor()}});
}

bool Psap::taker_is_ready(const std::string& user) const {
  auto it = impl_->takers.find(user);
  return it != impl_->takers.end() && it->second.ready;
}

std::uint64_t Psap::seq() const { return impl_->seq; }
std::uint16_t Psap::sip_port() const { return impl_->transport->port(); }
const PsapCounters& Psap::counters() const { return impl_->counters; }
const std::vector<std::string>& Psap::queues() const { return impl_->config.queues; }

std::string Psap::metrics() const {
  const auto& k = impl_->counters;
  std::string out;
  auto counter = [&](const char* name, const char* help, std::initializer_list<std::pair<const char*, std::uint64_t>> rows,
                     const char* label) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
    for (const auto& [value, n] : rows)
      out += std::string(name) + (label ? std::string("{") + label + "=\"" + value + "\"}" : std::string()) + " " +
             std::to_string(n) + "\n";
  };
  counter("ng911_psap_calls_total", "Calls by what became of them.",
          {{"offered", k.invites}, {"refused", k.rejected}, {"answered", k.answered}, {"abandoned", k.abandoned},
           {"caller_ended", k.ended}, {"released", k.released}},
          "outcome");
  counter("ng911_psap_transfers_total", "Transfers started and failed.", {{"started", k.transfers}, {"failed", k.transfer_failures}}, "result");
  counter("ng911_psap_messages_total", "Text-to-911 SIP MESSAGEs.", {{"in", k.messages_in}, {"out", k.messages_out}}, "direction");
  counter("ng911_psap_queue_state_total", "emergency-QueueState SUBSCRIBEs received and NOTIFYs sent.",
          {{"subscribe", k.subscribes}, {"notify", k.notifies}}, "message");
  counter("ng911_psap_store_errors_total", "Writes or reads the database refused (the call went on).", {{"", k.store_errors}}, nullptr);
  counter("ng911_psap_bad_requests_total", "SIP requests that did not parse.", {{"", k.bad_requests}}, nullptr);
  out += "# HELP ng911_psap_queue_length Calls ringing per queue.\n# TYPE ng911_psap_queue_length gauge\n";
  for (const auto& q : impl_->queues)
    out += "ng911_psap_queue_length{queue=\"" + q.uri + "\"} " + std::to_string(impl_->queue_state(q).queue_length) + "\n";
  unsigned ready = 0;
  for (const auto& [n, t] : impl_->takers) ready += t.ready ? 1 : 0;
  out += "# HELP ng911_psap_call_takers Call-takers logged in, by readiness.\n# TYPE ng911_psap_call_takers gauge\n";
  out += "ng911_psap_call_takers{ready=\"true\"} " + std::to_string(ready) + "\n";
  out += "ng911_psap_call_takers{ready=\"false\"} " + std::to_string(impl_->takers.size() - ready) + "\n";
  out += "# HELP ng911_psap_subscriptions emergency-QueueState subscriptions in place.\n# TYPE ng911_psap_subscriptions gauge\n";
  out += "ng911_psap_subscriptions " + std::to_string(impl_->subscriptions.size()) + "\n";
  return out;
}

}  // namespace ng911::psap
