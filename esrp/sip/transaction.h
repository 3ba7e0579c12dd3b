#pragma once
// RFC 3261 §17 transactions as pure state machines: they take messages, timer expiries and
// transport errors with the current time, and return what to do (send, hand to the TU, report a
// timeout) and when to wake them next. No sockets and no clock of their own, so every timer is
// testable with a controlled clock; the transport layer drives them.
//
// Client: INVITE (timers A, B, D) and non-INVITE (E, F, K). Server: INVITE (G, H, I; L for 2xx,
// RFC 6026) and non-INVITE (J). Request retransmissions are absorbed by server transactions,
// which resend their last response; the ACK for a non-2xx final response is made inside the
// client INVITE transaction (§17.1.1.3).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sip/message.h"

namespace ng911::sip {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::milliseconds;

struct TimerConfig {
  Duration t1{500};   // RTT estimate
  Duration t2{4000};  // longest retransmit interval for non-INVITE requests and INVITE responses
  Duration t4{5000};  // longest time a message stays in the network
};

enum class TxState { calling, trying, proceeding, completed, confirmed, accepted, terminated };
const char* tx_state_name(TxState s);

// What a transaction asks of its owner after an event.
struct TxActions {
  std::vector<std::string> send;           // bytes to put on the wire, in order
  std::vector<Message> to_tu;              // responses for the TU (client transactions)
  bool timed_out = false;                  // Timer B/F/H fired (client: act as if 408)
  bool transport_failed = false;
  bool terminated = false;                 // the transaction is over; forget it
  std::optional<TimePoint> wake;           // call on_timer() at this time (earliest pending timer)
};

class ClientTransaction {
 public:
  // `request` is the serialised request as it goes on the wire (the top Via carries our branch).
  ClientTransaction(std::string request, bool reliable, TimePoint now, TimerConfig timers = {});
  // The same, for a caller that has the top Via's branch at hand (the proxy, which just made it):
  // the request is then parsed only if an ACK must be built (a non-2xx answer to an INVITE).
  ClientTransaction(std::string request, std::string branch, bool reliable, TimePoint now, TimerConfig timers = {});
  TxActions start(TimePoint now);
  TxActions on_response(Message response, TimePoint now);
  TxActions on_timer(TimePoint now);
  TxActions on_transport_error(TimePoint now);

  bool is_invite() const { return invite_; }
  TxState state() const { return state_; }
  const std::string& branch() const { return branch_; }
  const std::string& method() const { return method_; }

 private:
  TxActions settle(TxActions a) const;
  std::string make_ack(const Message& response) const;
  const Message& parsed() const;

  void release_request();  // once final: retransmissions and the ACK no longer need it

  std::string request_;
  mutable std::optional<Message> parsed_;
  bool reliable_, invite_;
  TimerConfig t_;
  TxState state_;
  std::string branch_, method_;
  Duration retransmit_interval_;
  std::optional<TimePoint> timer_retransmit_, timer_timeout_, timer_end_;  // A/E, B/F, D/K
  std::string ack_;  // our ACK for a non-2xx final response, resent on its retransmissions
};

class ServerTransaction {
 public:
  // The request that created it; the TU reads it from request() (start() hands it no copy).
  ServerTransaction(Message request, bool reliable, TimerConfig timers = {});
  TxActions start(TimePoint now);
  // A request matched to this transaction: a retransmission, or the ACK of an INVITE.
  TxActions on_request(Message request, TimePoint now);
  // The TU's response (serialised, with the request's Via fields).
  TxActions respond(std::string response, int status, TimePoint now);
  TxActions on_timer(TimePoint now);
  TxActions on_transport_error(TimePoint now);

  bool is_invite() const { return invite_; }
  TxState state() const { return state_; }
  // The request, until release_request(); after it, an empty (malformed) message.
  const Message& request() const;
  // The same, shared with a TU that keeps it beyond this call (the ESRP's router, whose
  // queries outlast the event that started them).
  std::shared_ptr<const Message> shared_request() const { return request_; }
  // For a TU that has sent its final response and needs the request no more: the transaction
  // then lives on only to absorb retransmissions (Timer J or L, 32 s over UDP), and a proxy at
  // thousands of calls a second should not hold every call's request that long.
  void release_request() { request_.reset(); }

 private:
  TxActions settle(TxActions a) const;

  std::shared_ptr<const Message> request_;
  bool reliable_, invite_;
  TimerConfig t_;
  TxState state_;
  std::string last_response_;
  Duration retransmit_interval_;
  std::optional<TimePoint> timer_g_, timer_h_, timer_end_;  // G; H; I/J/L
};

// Transaction matching keys (§17.1.3, §17.2.3, with the RFC 2543 fallback of §17.2.3).
// Server: branch + sent-by + method (ACK and CANCEL match their INVITE by branch; CANCEL has a
// transaction of its own, so its method stays CANCEL).
std::string server_key(const Message& request);
// The key `request` would have as a request of `method`: a CANCEL finds the INVITE it cancels
// with server_key(cancel, "INVITE") (§9.2: same Request-URI, From, Call-ID, CSeq number, Via).
std::string server_key(const Message& request, std::string_view method);
// Client: branch of the top Via + CSeq method.
std::string client_key(const Message& response);
std::string client_key(std::string_view branch, std::string_view method);
// A branch with the RFC 3261 magic cookie, unique per call of this function.
std::string new_branch();

}  // namespace ng911::sip
