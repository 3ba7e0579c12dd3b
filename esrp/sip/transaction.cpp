#include "sip/transaction.h"

#include <random>

#include "sip/builder.h"
#include "sip/text.h"

namespace ng911::sip {
namespace {

std::optional<TimePoint> earliest(std::initializer_list<std::optional<TimePoint>> timers) {
  std::optional<TimePoint> out;
  for (const auto& t : timers)
    if (t && (!out || *t < *out)) out = t;
  return out;
}

bool due(const std::optional<TimePoint>& t, TimePoint now) { return t && *t <= now; }

std::string sent_by(const Via& v) {
  return std::string(v.host) + ":" + std::to_string(v.port.value_or(5060));
}

}  // namespace

const char* tx_state_name(TxState s) {
  switch (s) {
    case TxState::calling: return "Calling";
    case TxState::trying: return "Trying";
    case TxState::proceeding: return "Proceeding";
    case TxState::completed: return "Completed";
    case TxState::confirmed: return "Confirmed";
    case TxState::accepted: return "Accepted";
    case TxState::terminated: return "Terminated";
  }
  return "?";
}

std::string new_branch() {
  thread_local std::mt19937_64 random(std::random_device{}());
  char buf[40];
  std::snprintf(buf, sizeof buf, "z9hG4bK%016llx", static_cast<unsigned long long>(random()));
  return buf;
}

std::string server_key(const Message& request) {
  return server_key(request, request.method() == "ACK" ? std::string_view("INVITE") : request.method());
}

std::string server_key(const Message& request, std::string_view method) {
  const Via& via = request.top_via();
  if (via.rfc3261_branch())
    return std::string(via.branch()) + "|" + sent_by(via) + "|" + std::string(method);
  // RFC 2543 peers: the request's identity (the To tag is left out so that the ACK, which
  // carries the tag of our response, finds its INVITE).
  return "2543|" + std::string(request.request_uri()) + "|" + std::string(request.from().tag()) + "|" +
         std::string(request.call_id()) + "|" + std::to_string(request.cseq().number) + "|" + std::string(via.text) +
         "|" + std::string(method);
}

std::string client_key(std::string_view branch, std::string_view method) {
  return std::string(branch) + "|" + std::string(method);
}

std::string client_key(const Message& response) {
  return client_key(response.top_via().branch(), response.cseq().method);
}

// ---------------------------------------------------------------------------------------------
// Client transactions

ClientTransaction::ClientTransaction(std::string request, bool reliable, TimePoint now, TimerConfig timers)
    : ClientTransaction(std::move(request), std::string(), reliable, now, timers) {
  branch_ = std::string(parsed().top_via().branch());  // parsed() throws for a malformed request
}

ClientTransaction::ClientTransaction(std::string request, std::string branch, bool reliable, TimePoint,
                                     TimerConfig timers)
    : request_(std::move(request)),
      reliable_(reliable),
      t_(timers),
      branch_(std::move(branch)),
      method_(request_.substr(0, request_.find(' '))),
      retransmit_interval_(timers.t1) {
  invite_ = method_ == "INVITE";
  state_ = invite_ ? TxState::calling : TxState::trying;
}

void ClientTransaction::release_request() {
  std::string().swap(request_);  // clear() would keep the capacity
  parsed_.reset();
}

const Message& ClientTransaction::parsed() const {
  if (!parsed_) {
    parsed_ = Message::parse(request_, {.check = false});  // built by this process
    if (!parsed_->ok()) throw SyntaxError("client transaction for a malformed request: " + parsed_->error());
  }
  return *parsed_;
}

TxActions ClientTransaction::settle(TxActions a) const {
  a.terminated = state_ == TxState::terminated;
  if (!a.terminated) a.wake = earliest({timer_retransmit_, timer_timeout_, timer_end_});
  return a;
}

TxActions ClientTransaction::start(TimePoint now) {
  TxActions a;
  a.send.push_back(request_);
  if (!reliable_) timer_retransmit_ = now + t_.t1;  // A or E
  timer_timeout_ = now + 64 * t_.t1;               // B or F
  return settle(std::move(a));
}

std::string ClientTransaction::make_ack(const Message& response) const {
  // §17.1.1.3: same Request-URI, Call-ID, From, CSeq number; To from the response; the top Via
  // of the request only; the request's Route fields.
  const Message& request = parsed();
  auto b = MessageBuilder::request("ACK", request.request_uri());
  b.add("Via", request.find(HeaderId::via) ? std::string(request.top_via().text) : std::string());
  for (const auto* r : request.find_all(HeaderId::route)) b.add("Route", r->value);
  b.add("Max-Forwards", "70");
  b.add("From", request.value(HeaderId::from));
  b.add("To", response.value(HeaderId::to));
  b.add("Call-ID", request.call_id());
  b.add("CSeq", std::to_string(request.cseq().number) + " ACK");
  return b.str();
}

TxActions ClientTransaction::on_response(Message response, TimePoint now) {
  TxActions a;
  int code = response.status();
  if (invite_) {
    switch (state_) {
      case TxState::calling:
      case TxState::proceeding:
        if (code < 200) {
          state_ = TxState::proceeding;
          timer_retransmit_.reset();
          timer_timeout_.reset();  // Timer B runs in Calling only; the TU's Timer C takes over
          a.to_tu.push_back(std::move(response));
        } else if (code < 300) {
          // RFC 6026: wait in Accepted for 2xx retransmissions, which go to the TU too.
          state_ = TxState::accepted;
          timer_retransmit_.reset();
          timer_timeout_.reset();
          timer_end_ = now + 64 * t_.t1;  // Timer M
          release_request();
          a.to_tu.push_back(std::move(response));
        } else {
          state_ = TxState::completed;
          timer_retransmit_.reset();
          timer_timeout_.reset();
          ack_ = make_ack(response);
          release_request();
          a.send.push_back(ack_);
          a.to_tu.push_back(std::move(response));
          timer_end_ = now + (reliable_ ? Duration(0) : std::max(Duration(32000), 64 * t_.t1));  // Timer D
          if (reliable_) state_ = TxState::terminated;
        }
        break;
      case TxState::completed:
        if (code >= 300) a.send.push_back(ack_);  // the final response again: ACK again
        break;
      case TxState::accepted:
        if (code >= 200 && code < 300) a.to_tu.push_back(std::move(response));
        break;
      default:
        break;
    }
    return settle(std::move(a));
  }
  switch (state_) {
    case TxState::trying:
    case TxState::proceeding:
      if (code < 200) {
        state_ = TxState::proceeding;
        a.to_tu.push_back(std::move(response));
      } else {
        state_ = TxState::completed;
        timer_retransmit_.reset();
        timer_timeout_.reset();
        release_request();
        a.to_tu.push_back(std::move(response));
        if (reliable_) state_ = TxState::terminated;
        else timer_end_ = now + t_.t4;  // Timer K
      }
      break;
    default:
      break;  // retransmissions of the final response are absorbed
  }
  return settle(std::move(a));
}

TxActions ClientTransaction::on_timer(TimePoint now) {
  TxActions a;
  if (due(timer_timeout_, now)) {  // B or F
    state_ = TxState::terminated;
    a.timed_out = true;
    return settle(std::move(a));
  }
  if (due(timer_end_, now)) {  // D, K or M
    state_ = TxState::terminated;
    return settle(std::move(a));
  }
  if (due(timer_retransmit_, now)) {  // A or E
    a.send.push_back(request_);
    if (invite_) {
      retransmit_interval_ *= 2;
    } else {
      // E doubles up to T2; in Proceeding it stays at T2.
      retransmit_interval_ = state_ == TxState::proceeding ? t_.t2 : std::min(retransmit_interval_ * 2, t_.t2);
    }
    timer_retransmit_ = now + retransmit_interval_;
  }
  return settle(std::move(a));
}

TxActions ClientTransaction::on_transport_error(TimePoint) {
  state_ = TxState::terminated;
  TxActions a;
  a.transport_failed = true;
  return settle(std::move(a));
}

// ---------------------------------------------------------------------------------------------
// Server transactions

ServerTransaction::ServerTransaction(Message request, bool reliable, TimerConfig timers)
    : request_(std::make_shared<const Message>(std::move(request))),
      reliable_(reliable),
      invite_(request_->method() == "INVITE"),
      t_(timers),
      state_(invite_ ? TxState::proceeding : TxState::trying),
      retransmit_interval_(timers.t1) {}

const Message& ServerTransaction::request() const {
  if (request_) return *request_;
  // After release_request(): a TU that asks anyway gets a message without fields (its builders
  // throw SyntaxError on it) rather than a crash.
  static const Message released = Message::parse(std::string());
  return released;
}

TxActions ServerTransaction::settle(TxActions a) const {
  a.terminated = state_ == TxState::terminated;
  if (!a.terminated) a.wake = earliest({timer_g_, timer_h_, timer_end_});
  return a;
}

TxActions ServerTransaction::start(TimePoint) {
  TxActions a;
  if (invite_) {
    // §17.2.1: answer 100 at once so that the client stops retransmitting.
    last_response_ = MessageBuilder::response_to(*request_, 100, "Trying").str();
    a.send.push_back(last_response_);
  }
  return settle(std::move(a));
}

TxActions ServerTransaction::on_request(Message request, TimePoint now) {
  TxActions a;
  bool ack = request.method() == "ACK";
  if (invite_ && ack) {
    if (state_ == TxState::completed) {
      state_ = TxState::confirmed;
      timer_g_.reset();
      timer_h_.reset();
      timer_end_ = now + (reliable_ ? Duration(0) : t_.t4);  // Timer I
      if (reliable_) state_ = TxState::terminated;
    }
    return settle(std::move(a));  // ACKs in Confirmed are absorbed
  }
  // A retransmission of the request: resend what we last sent, if anything.
  if ((state_ == TxState::proceeding || state_ == TxState::completed || state_ == TxState::accepted) &&
      !last_response_.empty())
    a.send.push_back(last_response_);
  return settle(std::move(a));
}

TxActions ServerTransaction::respond(std::string response, int status, TimePoint now) {
  TxActions a;
  bool two_xx = status >= 200 && status < 300;
  if (state_ == TxState::accepted && two_xx) {
    // The TU retransmits its 2xx itself (§13.3.1.4); we only carry it.
    last_response_ = std::move(response);
    a.send.push_back(last_response_);
    return settle(std::move(a));
  }
  if (state_ != TxState::trying && state_ != TxState::proceeding) return settle(std::move(a));
  last_response_ = std::move(response);
  a.send.push_back(last_response_);
  if (status < 200) {
    if (state_ == TxState::trying) state_ = TxState::proceeding;
    return settle(std::move(a));
  }
  if (invite_) {
    if (status < 300) {
      state_ = TxState::accepted;  // RFC 6026
      timer_end_ = now + 64 * t_.t1;  // Timer L
    } else {
      state_ = TxState::completed;
      if (!reliable_) timer_g_ = now + t_.t1;
      timer_h_ = now + 64 * t_.t1;
    }
  } else {
    state_ = TxState::completed;
    if (reliable_) state_ = TxState::terminated;
    else timer_end_ = now + 64 * t_.t1;  // Timer J
  }
  return settle(std::move(a));
}

TxActions ServerTransaction::on_timer(TimePoint now) {
  TxActions a;
  if (due(timer_h_, now)) {  // no ACK came
    state_ = TxState::terminated;
    a.timed_out = true;
    return settle(std::move(a));
  }
  if (due(timer_end_, now)) {  // I, J or L
    state_ = TxState::terminated;
    return settle(std::move(a));
  }
  if (due(timer_g_, now)) {
    a.send.push_back(last_response_);
    retransmit_interval_ = std::min(retransmit_interval_ * 2, t_.t2);
    timer_g_ = now + retransmit_interval_;
  }
  return settle(std::move(a));
}

TxActions ServerTransaction::on_transport_error(TimePoint) {
  state_ = TxState::terminated;
  TxActions a;
  a.transport_failed = true;
  return settle(std::move(a));
}

}  // namespace ng911::sip
