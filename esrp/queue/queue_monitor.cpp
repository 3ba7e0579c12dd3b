#include "queue/queue_monitor.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include "queue/queue_state_body.h"
#include "sip/builder.h"
#include "sip/dialog.h"
#include "sip/server_table.h"
#include "sip/text.h"
#include "sip/wake_timer.h"

namespace ng911::esrp {

namespace asio = boost::asio;
using sip::Clock;
using sip::TimePoint;

namespace {

std::string_view strip_brackets(std::string_view uri) {
  uri = sip::trim(uri);
  if (uri.size() >= 2 && uri.front() == '<' && uri.back() == '>') uri = uri.substr(1, uri.size() - 2);
  return uri;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

// The Subscription-State header (RFC 6665 §8.2.3): "active;expires=60", "terminated;reason=timeout".
struct SubscriptionState {
  std::string state;  // lower case
  std::optional<std::uint64_t> expires, retry_after;
  std::string reason;
};

std::optional<SubscriptionState> parse_subscription_state(std::string_view value) {
  value = sip::trim(value);
  auto semi = value.find(';');
  SubscriptionState out;
  out.state = lower(sip::trim(value.substr(0, semi)));
  if (!sip::is_token(out.state)) return std::nullopt;
  if (semi == std::string_view::npos) return out;
  try {
    for (const auto& p : sip::parse_params(value.substr(semi), false)) {
      if (sip::iequals(p.name, "expires")) out.expires = sip::parse_uint(p.value, 0xffffffffu);
      else if (sip::iequals(p.name, "retry-after")) out.retry_after = sip::parse_uint(p.value, 0xffffffffu);
      else if (sip::iequals(p.name, "reason")) out.reason = std::string(p.value);
    }
  } catch (const sip::SyntaxError&) {
    return std::nullopt;
  }
  return out;
}

// The Event header's package, without its parameters (RFC 6665 §8.2.1).
std::string_view event_package(std::string_view value) {
  return sip::trim(value.substr(0, value.find(';')));
}

bool same_info(const QueueInfo& a, const QueueInfo& b) {
  return a.status == b.status && a.length == b.length && a.max_length == b.max_length && a.subscribed == b.subscribed;
}

}  // namespace

std::optional<std::string> queue_uri_key(std::string_view text) {
  sip::Uri uri;
  try {
    uri = sip::parse_uri(strip_brackets(text));
  } catch (const sip::SyntaxError&) {
    return std::nullopt;
  }
  if (!uri.is_sip()) return std::nullopt;
  std::string host = lower(uri.host);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) host = address.to_string();  // so that "::1" and "0:0::1" are one queue
  const sip::Param* transport = uri.param("transport");
  bool tls = uri.scheme == sip::Scheme::sips || (transport && sip::iequals(transport->value, "tls"));
  std::string key = lower(uri.scheme_name);
  key.append(":").append(uri.user).append("@");
  if (!ec && address.is_v6()) key.append("[").append(host).append("]");
  else key.append(host);
  key.append(":").append(std::to_string(uri.port.value_or(tls ? 5061 : 5060)));
  return key;
}

struct QueueMonitor::Impl : std::enable_shared_from_this<Impl> {
  struct Queue {
    QueueInfo info;
    std::string key;
    sip::Endpoint target;
    std::optional<sip::Dialog> dialog;
    // The SUBSCRIBE that makes the subscription: its Call-ID and our tag let a NOTIFY that
    // overtakes the 2xx find it (RFC 6665 §4.1.2.4).
    std::string call_id, local_tag;
    std::string pending;                       // client key of the SUBSCRIBE in flight
    std::optional<TimePoint> next_subscribe;  // first, refresh or retry
    std::optional<TimePoint> expires_at;       // the subscription ends then unless refreshed
    unsigned failures = 0;                     // in a row, for the backoff
  };
  // A subscription we ended (Expires: 0): its final NOTIFY is answered 200, not 481.
  struct Leaving {
    sip::Dialog dialog;
    TimePoint until;
    bool done = false;
  };
  struct ClientEntry {
    sip::ClientTransaction tx;
    sip::Endpoint target;
    std::string request;
    std::string queue_key;  // the queue it subscribes to; empty for an unsubscription
    std::string call_id;    // of an unsubscription, to find its Leaving
    std::optional<TimePoint> wake;
  };

  asio::io_context& io;
  QueueMonitorConfig config;
  QueueMonitor::OnChange on_change;
  QueueMonitorCounters counters;
  std::unique_ptr<sip::Transport> transport;
  sip::WakeTimer timer;
  std::vector<Queue> queues;  // in the order configured
  std::vector<Leaving> leaving;
  // std::map: handlers add transactions while others are being handled; its references stay valid.
  std::map<std::string, ClientEntry> clients;
  sip::ServerTable servers;
  std::vector<QueueInfo> changed;  // handed to on_change once the event is handled
  // Each queue's status by key, for status(): the routers of other event loops ask from their
  // own threads while this loop changes `queues`.
  mutable std::mutex board_mutex;
  std::unordered_map<std::string, std::optional<QueueStatus>> board;

  void publish_all() {
    std::lock_guard lock(board_mutex);
    board.clear();
    for (const auto& q : queues) board[q.key] = q.info.status;
  }

  Impl(asio::io_context& ctx, QueueMonitorConfig c, QueueMonitor::OnChange f)
      : io(ctx), config(std::move(c)), on_change(std::move(f)), timer(ctx.get_executor()) {}

  static std::vector<Queue> make_queues(const std::vector<std::string>& uris) {
    std::vector<Queue> out;
    for (const auto& uri : uris) {
      auto key = queue_uri_key(uri);
      if (!key) throw std::invalid_argument("queue '" + uri + "': not a sip: or sips: URI");
      auto target = sip::endpoint_of(sip::parse_uri(strip_brackets(uri)));
      if (!target) throw std::invalid_argument("queue '" + uri + "': needs a literal address (no DNS here)");
      if (std::any_of(out.begin(), out.end(), [&](const Queue& q) { return q.key == *key; })) continue;
      Queue q;
      q.info.uri = std::string(strip_brackets(uri));
      q.key = *key;
      q.target = *target;
      out.push_back(std::move(q));
    }
    return out;
  }

  void start() {
    queues = make_queues(config.queues);  // refused before any socket is opened
    publish_all();
    std::weak_ptr<Impl> weak = shared_from_this();
    auto receive = [weak](std::string bytes, const sip::Endpoint& from) {
      if (auto self = weak.lock()) self->on_message(std::move(bytes), from);
    };
    auto failed = [weak, &ctx = io](const sip::Endpoint& to, const std::string& why) {
      // Posted: the transport may report from inside send(), while a handler is running.
      asio::post(ctx, [weak, to, why] {
        if (auto self = weak.lock()) self->on_send_failure(to, why);
      });
    };
    // With port 0 the transport binds TCP to the number the kernel gave its UDP socket, which
    // a TCP socket elsewhere may hold: "any free port" then means trying another.
    for (int attempt = 1;; ++attempt) {
      try {
        transport = std::make_unique<sip::Transport>(io, config.address, config.port, receive, failed, config.tls);
        break;
      } catch (const boost::system::system_error& e) {
        if (config.port != 0 || attempt == 5 || e.code() != asio::error::address_in_use) throw;
      }
    }
    auto now = Clock::now();
    for (auto& q : queues) q.next_subscribe = now;
    schedule();
  }

  // ---- where we are ----------------------------------------------------------------------

  std::string host() const {
    auto a = transport->address();
    return a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  }
  std::uint16_t local_port(sip::Protocol p) const { return p == sip::Protocol::tls ? transport->tls_port() : transport->port(); }
  std::string sent_by(sip::Protocol p) const { return host() + ":" + std::to_string(local_port(p)); }
  std::string contact(sip::Protocol p) const {
    std::string c = p == sip::Protocol::tls ? "<sips:" : "<sip:";
    try {
      auto user = sip::parse_uri(strip_brackets(config.from_uri)).user;
      if (!user.empty()) c.append(user).append("@");
    } catch (const sip::SyntaxError&) {
    }
    c += sent_by(p);
    if (p == sip::Protocol::tcp) c += ";transport=tcp";
    return c + ">";
  }
  std::string from() const { return "<" + std::string(strip_brackets(config.from_uri)) + ">"; }

  // Where in-dialog requests go: the first route, else the remote target (§12.2.1.1); the
  // queue's own address when that is a name we cannot resolve.
  static sip::Endpoint dialog_target(const sip::Dialog& d, const sip::Endpoint& fallback) {
    try {
      std::optional<sip::Endpoint> e;
      if (!d.route_set.empty()) e = sip::endpoint_of(sip::parse_name_addr(d.route_set.front()).uri, fallback.protocol);
      else e = sip::endpoint_of(sip::parse_uri(d.remote_target), fallback.protocol);
      if (e) return *e;
    } catch (const sip::SyntaxError&) {
    }
    return fallback;
  }

  Queue* find_queue(std::string_view key) {
    for (auto& q : queues)
      if (q.key == key) return &q;
    return nullptr;
  }

  // ---- timers ----------------------------------------------------------------------------

  // One timer for everything, set to the earliest thing due.
  void schedule() {
    sip::Earliest next;
    for (const auto& q : queues) {
      if (q.pending.empty()) next.consider(q.next_subscribe);
      next.consider(q.expires_at);
    }
    for (const auto& l : leaving)
      if (!l.done) next.consider(l.until);
    next.consider_wakes(clients);
    next.consider_wakes(servers);
    timer.set(next.next(), weak_from_this(), &std::remove_reference_t<decltype(*this)>::on_timer);
  }

  void on_timer(TimePoint now) {
    sip::fire_due(clients, now, [this](const auto& k, sip::TxActions a) { client_actions(k, std::move(a)); });
    sip::fire_due(servers, now, [this](const auto& k, sip::TxActions a) { server_actions(k, std::move(a)); });
    for (auto& q : queues) {
      // Expiry first: a subscription that lapsed is made anew after the backoff, not at once.
      if (q.expires_at && *q.expires_at <= now) fail(q, "subscription expired", now);
      if (q.pending.empty() && q.next_subscribe && *q.next_subscribe <= now) send_subscribe(q, now);
    }
    std::erase_if(leaving, [&](const Leaving& l) { return l.done || l.until <= now; });
    finish();
  }

  // Every event ends here: changes reported (outside any loop over our state, so that the
  // callback may call set_queues), then the timer set.
  void finish() {
    while (!changed.empty()) {
      auto batch = std::move(changed);
      changed.clear();
      if (on_change)
        for (const auto& info : batch) on_change(info);
    }
    schedule();
  }

  void update(Queue& q, QueueInfo info) {
    bool differs = !same_info(q.info, info);
    q.info = std::move(info);
    if (differs) {
      changed.push_back(q.info);
      std::lock_guard lock(board_mutex);
      board[q.key] = q.info.status;
    }
  }

  std::chrono::milliseconds backoff(unsigned failures) const {
    auto wait = config.retry_interval;
    for (unsigned i = 1; i < failures && wait < config.max_retry_interval; ++i) wait *= 2;
    return std::min(wait, std::max(config.max_retry_interval, config.retry_interval));
  }

  // RFC 6665 leaves the moment of a refresh to the subscriber: halfway leaves room for a
  // refresh that has to be retransmitted or retried.
  static sip::Duration refresh_after(std::uint64_t granted_seconds) {
    return std::chrono::duration_cast<sip::Duration>(std::chrono::seconds(granted_seconds)) / 2;
  }

  // The subscription is gone or could not be made: Unreachable until a NOTIFY says otherwise,
  // and subscribed anew after the backoff (or the notifier's retry-after).
  void fail(Queue& q, std::string reason, TimePoint now, std::optional<sip::Duration> retry_after = std::nullopt) {
    ++counters.failures;
    q.dialog.reset();
    q.expires_at.reset();
    q.pending.clear();
    ++q.failures;
    q.next_subscribe = now + (retry_after ? std::max<sip::Duration>(*retry_after, config.retry_interval) : backoff(q.failures));
    QueueInfo info = q.info;
    info.status = QueueStatus::unreachable;
    info.subscribed = false;
    info.reason = std::move(reason);
    update(q, std::move(info));
  }

  // ---- SUBSCRIBE -------------------------------------------------------------------------

  void send_subscribe(Queue& q, TimePoint now) {
    q.next_subscribe.reset();
    sip::Protocol p = q.target.protocol;
    unsigned expires = static_cast<unsigned>(config.expires.count());
    std::string bytes;
    sip::Endpoint to = q.target;
    if (q.dialog) {  // a refresh, within the dialog (RFC 6665 §4.1.2.2)
      auto b = q.dialog->request("SUBSCRIBE", sent_by(p), sip::protocol_name(p));
      b.add("Event", kQueueStateEvent).add("Expires", std::to_string(expires)).add("Contact", contact(p));
      b.add("Accept", kQueueStateContentType);
      bytes = b.str();
      to = dialog_target(*q.dialog, q.target);
      ++counters.refreshes;
    } else {
      auto b = sip::subscribe(q.info.uri, from(), contact(p), kQueueStateEvent, expires, sent_by(p), sip::protocol_name(p));
      b.add("Accept", kQueueStateContentType);
      bytes = b.str();
      sip::Message m = sip::Message::parse(bytes);
      q.call_id = std::string(m.call_id());
      q.local_tag = std::string(m.from().tag());
      ++counters.subscribes;
    }
    q.pending = start_client(std::move(bytes), to, q.key, {}, now);
  }

  std::string start_client(std::string bytes, const sip::Endpoint& to, std::string queue_key, std::string call_id,
                           TimePoint now) {
    sip::ClientTransaction tx(bytes, to.protocol != sip::Protocol::udp, now, config.timers);
    std::string key = sip::client_key(tx.branch(), "SUBSCRIBE");
    auto first = tx.start(now);
    clients.emplace(key, ClientEntry{std::move(tx), to, std::move(bytes), std::move(queue_key), std::move(call_id), {}});
    client_actions(key, std::move(first));
    return key;
  }

  // Ends a subscription: SUBSCRIBE with Expires: 0 within its dialog (RFC 6665 §4.1.2.3).
  void unsubscribe(sip::Dialog dialog, const sip::Endpoint& fallback, TimePoint now) {
    sip::Protocol p = fallback.protocol;
    auto b = dialog.request("SUBSCRIBE", sent_by(p), sip::protocol_name(p));
    b.add("Event", kQueueStateEvent).add("Expires", "0").add("Contact", contact(p));
    std::string bytes = b.str();
    sip::Endpoint to = dialog_target(dialog, fallback);
    std::string call_id = dialog.call_id;
    leaving.push_back(Leaving{std::move(dialog), now + 64 * config.timers.t1, false});
    start_client(std::move(bytes), to, {}, std::move(call_id), now);
  }

  void client_actions(const std::string& key, sip::TxActions a) {
    auto it = clients.find(key);
    if (it == clients.end()) return;
    for (auto& bytes : a.send) transport->send(it->second.target, std::move(bytes));
    for (auto& response : a.to_tu)
      if (response.status() >= 200) on_final(key, response);
    if (a.timed_out || a.transport_failed) on_no_answer(key, a.timed_out ? "timeout" : "transport error");
    it = clients.find(key);
    if (it == clients.end()) return;
    if (a.terminated) clients.erase(it);
    else it->second.wake = a.wake;
  }

  void on_final(const std::string& key, const sip::Message& response) {
    const ClientEntry& c = clients.at(key);
    auto now = Clock::now();
    int status = response.status();
    if (c.queue_key.empty()) {  // our unsubscription: a failure means no final NOTIFY is coming
      if (status >= 300)
        for (auto& l : leaving)
          if (l.dialog.call_id == c.call_id) l.done = true;
      return;
    }
    Queue* q = find_queue(c.queue_key);
    if (!q || q->pending != key) {
      // Dropped meanwhile, or given up on: a subscription this answer made or kept is not
      // wanted, unless it is the queue's current one or already being ended.
      if (status >= 300) return;
      try {
        sip::Dialog d = sip::Dialog::as_uac(sip::Message::parse(c.request), response);
        bool current = q && q->dialog && q->dialog->call_id == d.call_id;
        bool ending = std::any_of(leaving.begin(), leaving.end(), [&](const Leaving& l) { return l.dialog.call_id == d.call_id; });
        if (!current && !ending) unsubscribe(std::move(d), c.target, now);
      } catch (const sip::SyntaxError&) {
      }
      return;
    }
    q->pending.clear();
    if (status >= 300) {
      fail(*q, std::to_string(status) + " " + std::string(response.reason()), now);
      return;
    }
    if (!q->dialog) {
      try {
        q->dialog = sip::Dialog::as_uac(sip::Message::parse(c.request), response);
      } catch (const sip::SyntaxError& e) {
        fail(*q, std::string("answer without a dialog: ") + e.what(), now);
        return;
      }
    }
    // The notifier may grant less than we asked for (RFC 6665 §4.1.2.1).
    std::uint64_t granted = static_cast<std::uint64_t>(config.expires.count());
    if (auto e = sip::parse_uint(sip::trim(response.value(sip::HeaderId::expires)), 0xffffffffu)) granted = *e;
    q->expires_at = now + std::chrono::seconds(granted);
    q->next_subscribe = now + refresh_after(granted);
    q->failures = 0;
    QueueInfo info = q->info;
    info.subscribed = true;
    update(*q, std::move(info));
  }

  void on_no_answer(const std::string& key, const std::string& why) {
    const ClientEntry& c = clients.at(key);
    if (c.queue_key.empty()) {
      for (auto& l : leaving)
        if (l.dialog.call_id == c.call_id) l.done = true;
      return;
    }
    Queue* q = find_queue(c.queue_key);
    if (q && q->pending == key) fail(*q, why, Clock::now());
  }

  void on_send_failure(const sip::Endpoint& to, const std::string&) {
    std::vector<std::string> failed;
    for (const auto& [k, c] : clients)
      if (c.target == to) failed.push_back(k);
    for (const auto& k : failed)
      if (auto it = clients.find(k); it != clients.end()) client_actions(k, it->second.tx.on_transport_error(Clock::now()));
    finish();
  }

  // ---- incoming --------------------------------------------------------------------------

  void on_message(std::string bytes, const sip::Endpoint& from) {
    sip::Message m = sip::Message::parse(std::move(bytes), {.stream = from.protocol != sip::Protocol::udp});
    try {
      if (m.is_request()) on_request(std::move(m), from);
      else if (m.is_response() && m.ok()) on_response(std::move(m));
    } catch (const sip::SyntaxError&) {
      // A header a handler needed did not parse: dropped, as the proxy drops what it cannot answer.
    }
    finish();
  }

  void on_response(sip::Message r) {
    std::string key = sip::client_key(r);
    if (auto it = clients.find(key); it != clients.end()) client_actions(key, it->second.tx.on_response(std::move(r), Clock::now()));
  }

  void reply(const sip::Message& request, const sip::Endpoint& to, int status, std::string_view reason) {
    transport->send(to, sip::MessageBuilder::response_to(request, status, reason, sip::new_branch().substr(7, 10)).str());
  }

  void on_request(sip::Message m, const sip::Endpoint& from) {
    if (!m.ok()) {
      if (m.find(sip::HeaderId::via) && m.find(sip::HeaderId::from) && m.find(sip::HeaderId::to) &&
          m.find(sip::HeaderId::call_id) && m.find(sip::HeaderId::cseq))
        reply(m, from, m.error_status(), m.error_status() == 505 ? "Version Not Supported" : "Bad Request");
      return;
    }
    if (m.method() == "ACK") return;
    auto now = Clock::now();
    std::string key = sip::server_key(m);
    if (auto it = servers.find(key); it != servers.end()) {  // a retransmission: our answer again
      server_actions(key, it->second.tx.on_request(std::move(m), now));
      return;
    }
    auto it = sip::start_server(servers, *transport, key, std::move(m), from, config.timers, now);
    const sip::Message& request = it->second.tx.request();
    Answer a{405, "Method Not Allowed", {{"Allow", "NOTIFY"}}};
    if (request.method() == "NOTIFY") {
      try {
        a = on_notify(request, now);
      } catch (const sip::SyntaxError&) {  // e.g. no Contact to make the dialog with
        a = Answer{400, "Bad Request", {}};
      }
    }
    auto b = sip::MessageBuilder::response_to(request, a.status, a.reason, tag());
    for (const auto& [name, value] : a.headers) b.add(name, value);
    if (auto s = servers.find(key); s != servers.end()) server_actions(key, s->second.tx.respond(b.str(), a.status, now));
  }

  static std::string tag() { return sip::new_branch().substr(7, 10); }

  struct Answer {
    int status = 200;
    std::string reason = "OK";
    std::vector<std::pair<std::string, std::string>> headers;
  };

  // RFC 6665 §4.1.3: a NOTIFY of one of our subscriptions updates the queue; one of no
  // subscription of ours gets 481, so that its notifier ends it.
  Answer on_notify(const sip::Message& n, TimePoint now) {
    Queue* q = nullptr;
    bool new_dialog = false;
    for (auto& candidate : queues) {
      if (candidate.dialog && candidate.dialog->matches(n)) {
        q = &candidate;
        break;
      }
      if (!candidate.dialog && !candidate.pending.empty() && n.call_id() == candidate.call_id &&
          n.to().tag() == candidate.local_tag) {
        q = &candidate;  // the NOTIFY overtook the 2xx; it makes the dialog (RFC 6665 §4.1.2.4)
        new_dialog = true;
        break;
      }
    }
    if (!q) {
      for (auto& l : leaving) {
        if (!l.dialog.matches(n)) continue;
        auto st = parse_subscription_state(n.value(sip::HeaderId::subscription_state));
        if (st && st->state == "terminated") l.done = true;
        return {};
      }
      ++counters.unknown_notifies;
      return {481, "Subscription Does Not Exist", {}};
    }
    if (!sip::iequals(event_package(n.value(sip::HeaderId::event)), kQueueStateEvent))
      return {489, "Bad Event", {{"Allow-Events", std::string(kQueueStateEvent)}}};
    auto st = parse_subscription_state(n.value(sip::HeaderId::subscription_state));
    if (!st) {
      ++counters.bad_notifies;
      return {400, "Missing or Bad Subscription-State", {}};
    }
    std::optional<QueueStateBody> body;
    if (!n.body().empty()) {
      auto type = n.content_type();
      if (!type || !(type->is("application", "EmergencyCallData.QueueState+json") || type->is("application", "json"))) {
        ++counters.bad_notifies;
        return {415, "Unsupported Media Type", {{"Accept", std::string(kQueueStateContentType)}}};
      }
      try {
        body = parse_queue_state_body(n.body());
      } catch (const QueueStateBodyError&) {
        ++counters.bad_notifies;
        return {400, "Bad Queue State Body", {}};
      }
    }
    if (new_dialog) {
      sip::Dialog d = sip::Dialog::as_uas(n, q->local_tag);
      d.local_cseq = 1;  // our SUBSCRIBE's
      q->dialog = std::move(d);
    } else if (!q->dialog->accept_remote_cseq(n.cseq().number)) {
      return {500, "CSeq Out of Order", {}};  // RFC 3261 §12.2.2
    }
    ++counters.notifies;
    QueueInfo info = q->info;
    info.updated = std::chrono::system_clock::now();
    if (body) {
      info.status = body->state;
      info.length = body->queue_length;
      info.max_length = body->max_length;
      info.reason.clear();
    }
    if (st->state == "terminated") {
      q->info.updated = info.updated;
      q->info.length = info.length;
      q->info.max_length = info.max_length;
      std::optional<sip::Duration> retry_after;
      if (st->retry_after) retry_after = std::chrono::seconds(*st->retry_after);
      fail(*q, "terminated" + (st->reason.empty() ? std::string() : ";reason=" + st->reason), now, retry_after);
      return {};
    }
    info.subscribed = true;
    if (st->expires) {  // the notifier's word on when the subscription ends
      q->expires_at = now + std::chrono::seconds(*st->expires);
      auto refresh = now + refresh_after(*st->expires);
      if (q->pending.empty() && (!q->next_subscribe || refresh < *q->next_subscribe)) q->next_subscribe = refresh;
    }
    update(*q, std::move(info));
    return {};
  }

  void server_actions(const std::string& key, sip::TxActions a) { sip::act_on_server(servers, *transport, key, std::move(a)); }

  // ---- reload ----------------------------------------------------------------------------

  void set_queues(std::vector<std::string> uris) {
    std::vector<Queue> wanted = make_queues(uris);  // throws before anything changes
    auto now = Clock::now();
    std::vector<Queue> next;
    for (auto& w : wanted) {
      if (Queue* old = find_queue(w.key)) {
        next.push_back(std::move(*old));
        old->key.clear();  // moved: not to be unsubscribed below
        continue;
      }
      w.next_subscribe = now;
      next.push_back(std::move(w));
    }
    for (auto& old : queues)
      if (!old.key.empty() && old.dialog) unsubscribe(std::move(*old.dialog), old.target, now);
    // A dropped queue whose first SUBSCRIBE is in flight is unsubscribed when its 2xx comes.
    queues = std::move(next);
    publish_all();
    finish();
  }
};

QueueMonitor::QueueMonitor(asio::io_context& io, QueueMonitorConfig config, OnChange on_change)
    : impl_(std::make_shared<Impl>(io, std::move(config), std::move(on_change))) {
  impl_->start();
}

QueueMonitor::~QueueMonitor() {
  impl_->timer.cancel();
  impl_->transport.reset();
}

std::optional<QueueStatus> QueueMonitor::status(std::string_view queue_uri) const {
  auto key = queue_uri_key(queue_uri);
  if (!key) return std::nullopt;
  std::lock_guard lock(impl_->board_mutex);
  auto it = impl_->board.find(*key);
  return it == impl_->board.end() ? std::nullopt : it->second;
}

std::vector<QueueInfo> QueueMonitor::snapshot() const {
  std::vector<QueueInfo> out;
  for (const auto& q : impl_->queues) out.push_back(q.info);
  return out;
}

std::uint16_t QueueMonitor::port() const { return impl_->transport->port(); }
const QueueMonitorCounters& QueueMonitor::counters() const { return impl_->counters; }
void QueueMonitor::set_queues(std::vector<std::string> queues) { impl_->set_queues(std::move(queues)); }

bool QueueMonitor::unsubscribing() const {
  auto now = Clock::now();
  return std::any_of(impl_->leaving.begin(), impl_->leaving.end(), [&](const auto& l) { return !l.done && l.until > now; });
}

}  // namespace ng911::esrp
