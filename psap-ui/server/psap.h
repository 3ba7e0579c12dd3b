#pragma once
// ng911-psap's core: the SIP endpoint of the PSAP's queues (NENA i3) and the calls it holds.
//
// SIP: an INVITE routed by the ESRP to a queue (its Request-URI user) rings (180) and is offered
// to the call-takers; a call-taker's answer sends 200 OK with an SDP answer and keeps the
// dialog (Record-Route honoured); hold and resume are re-INVITEs (a=sendonly / a=sendrecv);
// release is a BYE. A CANCEL or BYE from the caller before the answer makes the call abandoned,
// a BYE after it ends it. A transfer makes the PSAP the bridge (NENA-STA-010.3 §4.7 keeps the
// transferring PSAP in the call): a new INVITE for the target through the ESRP, with the
// caller's location, Call-Info and SDP offer; once the target answers, the caller is
// re-INVITEd with the target's SDP so that media flows between them while the signalling stays
// anchored here (docs/psap-api.md). Text-to-911 is SIP MESSAGE (RFC 3428) both ways. The
// emergency-QueueState event package (RFC 6665, NENA-STA-010.3) is served to subscribers such
// as the ESRP, with a NOTIFY on each change of the real state.
//
// Everything runs on the io_context it is given (one thread, no locks); each change is written
// to the Store as it happens and pushed to the EventSink (the console's WebSocket).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <utility>  // boost/asio/awaitable.hpp in Boost 1.74 uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "routing/held_client.h"
#include "server/log.h"
#include "sip/transaction.h"
#include "store.h"

namespace ng911::psap {

struct PsapConfig {
  std::string sip_address = "127.0.0.1";
  std::uint16_t sip_port = 5070;  // UDP and TCP; 0: any free port
  // The queues served here, as SIP URIs (sip:psap-a@127.0.0.1:5070): a request is for the
  // queue whose user part its Request-URI names.
  std::vector<std::string> queues;
  unsigned queue_max = 10;  // calls ringing at once per queue; more get 486 and "Full" is notified
  std::string esrp_uri = "sip:127.0.0.1:5060";  // where transfers go (outbound proxy)
  std::chrono::seconds max_subscription{3600};  // the longest emergency-QueueState subscription granted
  sip::TimerConfig timers;
  esrp::HeldConfig held;   // for rebids
  int recent_limit = 50;   // ended calls listed by calls()
};

// The answer to an action or query: a status as HTTP would give it (200, 400 bad input,
// 404 unknown call, 409 not possible in the call's state, 502 the peer refused, 503 storage
// down) with a message, and a JSON body on success.
struct Outcome {
  int status = 200;
  std::string error;
  nlohmann::json body = nlohmann::json::object();
  bool ok() const { return status < 300; }
};

struct PsapCounters {
  std::uint64_t invites = 0, rejected = 0, answered = 0, abandoned = 0, ended = 0, released = 0, transfers = 0,
                transfer_failures = 0, messages_in = 0, messages_out = 0, subscribes = 0, notifies = 0,
                store_errors = 0, bad_requests = 0;
};

class Psap {
 public:
  // Called with each event for the console: {"seq", "type": "call"|"text"|"queue", ...}.
  using EventSink = std::function<void(const nlohmann::json& event)>;

  // Binds the SIP port (throws on failure) and marks the calls that a previous run left open
  // as interrupted. `store` and `log` must outlive the Psap.
  Psap(boost::asio::io_context& io, PsapConfig config, Store& store, lost::Logger& log, EventSink sink = {});
  ~Psap();
  Psap(const Psap&) = delete;
  Psap& operator=(const Psap&) = delete;

  // {"seq", "live": [calls ringing, answered or on hold, oldest first], "recent": [...]}
  nlohmann::json calls();
  // The whole record (store) with the live state; 404 for an unknown id.
  Outcome call(CallId id);
  // {"queues": [{uri, state, waiting, max, longest_wait_s}], "calls_waiting", "longest_wait_s",
  //  "call_takers": [{name, ready}], "ready", "not_ready"}
  nlohmann::json supervisor();

  Outcome answer(CallId id, const std::string& user);
  Outcome answer_next(const std::string& user);  // the oldest ringing call
  Outcome hold(CallId id, const std::string& user);
  Outcome resume(CallId id, const std::string& user);
  Outcome release(CallId id, const std::string& user);
  // target: a service URN (urn:service:sos.fire) or a SIP URI, routed by the ESRP.
  Outcome transfer(CallId id, const std::string& user, const std::string& target);
  Outcome send_text(CallId id, const std::string& user, const std::string& text);
  // HELD dereference of the call's location by reference; the new location on success.
  boost::asio::awaitable<Outcome> rebid(CallId id, std::string user);

  // Call-takers' presence: logged in (not ready), ready, not ready, logged out.
  void taker_present(const std::string& user);
  void taker_ready(const std::string& user, bool ready);
  void taker_gone(const std::string& user);
  // Whether the call-taker said ready (a console that reloads shows its true state).
  bool taker_is_ready(const std::string& user) const;

  std::uint64_t seq() const;
  std::uint16_t sip_port() const;
  const PsapCounters& counters() const;
  // Prometheus text lines (ng911_psap_*).
  std::string metrics() const;
  const std::vector<std::string>& queues() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// An SDP answer (RFC 3264) to `offer`: the first audio format of the offer, our address, the
// given port and direction (sendrecv, sendonly, recvonly). A minimal audio answer when the
// offer has none usable.
std::string sdp_answer(std::string_view offer, const std::string& address, unsigned port, std::string_view direction,
                       unsigned version);

}  // namespace ng911::psap
