// RFC 3261 §17 transaction state machines, every timer checked on a controlled clock.
#include <boost/test/unit_test.hpp>

#include "sip/builder.h"
#include "sip/transaction.h"

using namespace ng911::sip;
using namespace std::chrono_literals;

namespace {

const TimePoint t0{};

std::string request(const std::string& method, const std::string& branch = "z9hG4bKtx1") {
  return "" + method + " sip:psap@example.net SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" + branch + "\r\n"
         "Route: <sip:proxy.example.net;lr>\r\n"
         "Max-Forwards: 70\r\nFrom: <sip:caller@example.com>;tag=f1\r\nTo: <sip:psap@example.net>\r\n"
         "Call-ID: tx-test-1\r\nCSeq: 7 " + method + "\r\nContent-Length: 0\r\n\r\n";
}

Message response_to(const std::string& req, int status, const std::string& reason) {
  Message r = Message::parse(req);
  return Message::parse(MessageBuilder::response_to(r, status, reason, "t9").str());
}

// Drives a transaction's timers until `until`, collecting the times at which it sent.
template <class Tx>
std::vector<Duration> sends_until(Tx& tx, TxActions first, TimePoint until, TxActions* last = nullptr) {
  std::vector<Duration> times;
  TxActions a = std::move(first);
  while (!a.terminated && a.wake && *a.wake <= until) {
    TimePoint now = *a.wake;
    a = tx.on_timer(now);
    for (std::size_t i = 0; i < a.send.size(); ++i) times.push_back(std::chrono::duration_cast<Duration>(now - t0));
  }
  if (last) *last = std::move(a);
  return times;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sip_transactions)

BOOST_AUTO_TEST_CASE(invite_client_over_udp_retransmits_then_times_out) {
  ClientTransaction tx(request("INVITE"), false, t0);
  TxActions a = tx.start(t0);
  BOOST_TEST(a.send.size() == 1u);
  TxActions last;
  auto times = sends_until(tx, std::move(a), t0 + 40s, &last);
  // Timer A: T1, doubling; Timer B: 64*T1 = 32 s.
  std::vector<Duration> want{500ms, 1500ms, 3500ms, 7500ms, 15500ms, 31500ms};
  BOOST_TEST(times == want, boost::test_tools::per_element());
  BOOST_TEST(last.timed_out);
  BOOST_TEST(last.terminated);
}

BOOST_AUTO_TEST_CASE(invite_client_acks_a_failure_and_absorbs_its_retransmissions) {
  std::string req = request("INVITE");
  ClientTransaction tx(req, false, t0);
  tx.start(t0);
  auto ringing = tx.on_response(response_to(req, 180, "Ringing"), t0 + 100ms);
  BOOST_TEST(ringing.to_tu.size() == 1u);
  BOOST_TEST((tx.state() == TxState::proceeding));
  BOOST_TEST(!ringing.wake.has_value());  // no retransmissions, no Timer B in Proceeding
  auto busy = tx.on_response(response_to(req, 486, "Busy Here"), t0 + 2s);
  BOOST_TEST_REQUIRE(busy.send.size() == 1u);
  Message ack = Message::parse(busy.send[0]);
  BOOST_TEST_REQUIRE(ack.ok(), ack.error());
  BOOST_TEST(ack.method() == "ACK");
  BOOST_TEST(ack.request_uri() == "sip:psap@example.net");
  BOOST_TEST(ack.top_via().branch() == "z9hG4bKtx1");
  BOOST_TEST(ack.to().tag() == "t9");
  BOOST_TEST(ack.cseq().number == 7u);
  BOOST_TEST(ack.cseq().method == "ACK");
  BOOST_TEST(ack.route().size() == 1u);
  BOOST_TEST(busy.to_tu.size() == 1u);
  BOOST_TEST((tx.state() == TxState::completed));
  auto again = tx.on_response(response_to(req, 486, "Busy Here"), t0 + 3s);
  BOOST_TEST(again.send.size() == 1u);   // ACK again
  BOOST_TEST(again.to_tu.empty());       // not the TU's business
  auto end = tx.on_timer(*again.wake);   // Timer D, 32 s after the final response
  BOOST_TEST(end.terminated);
  BOOST_TEST(std::chrono::duration_cast<Duration>(*again.wake - t0) == 34000ms);
}

BOOST_AUTO_TEST_CASE(invite_client_over_tcp) {
  std::string req = request("INVITE");
  ClientTransaction tx(req, true, t0);
  auto a = tx.start(t0);
  BOOST_TEST(std::chrono::duration_cast<Duration>(*a.wake - t0) == 32000ms);  // only Timer B
  auto busy = tx.on_response(response_to(req, 503, "Service Unavailable"), t0 + 1s);
  BOOST_TEST(busy.send.size() == 1u);
  BOOST_TEST(busy.terminated);  // Timer D is zero on reliable transports
}

BOOST_AUTO_TEST_CASE(invite_client_accepts_2xx_retransmissions) {
  std::string req = request("INVITE");
  ClientTransaction tx(req, false, t0);
  tx.start(t0);
  auto ok = tx.on_response(response_to(req, 200, "OK"), t0 + 1s);
  BOOST_TEST(ok.to_tu.size() == 1u);
  BOOST_TEST(ok.send.empty());  // the ACK for 2xx is the TU's
  BOOST_TEST((tx.state() == TxState::accepted));
  auto again = tx.on_response(response_to(req, 200, "OK"), t0 + 2s);
  BOOST_TEST(again.to_tu.size() == 1u);
  auto end = tx.on_timer(t0 + 33s);  // Timer M
  BOOST_TEST(end.terminated);
}

BOOST_AUTO_TEST_CASE(non_invite_client_caps_retransmissions_at_t2) {
  std::string req = request("OPTIONS");
  ClientTransaction tx(req, false, t0);
  TxActions last;
  auto times = sends_until(tx, tx.start(t0), t0 + 40s, &last);
  // Timer E: 0.5, 1, 2, then 4 s (T2) until Timer F at 32 s.
  std::vector<Duration> want{500ms, 1500ms, 3500ms, 7500ms, 11500ms, 15500ms, 19500ms, 23500ms, 27500ms, 31500ms};
  BOOST_TEST(times == want, boost::test_tools::per_element());
  BOOST_TEST(last.timed_out);
}

BOOST_AUTO_TEST_CASE(non_invite_client_proceeding_and_completed) {
  std::string req = request("OPTIONS");
  ClientTransaction tx(req, false, t0);
  tx.start(t0);
  tx.on_timer(t0 + 500ms);  // first retransmission; next in 1 s
  auto trying = tx.on_response(response_to(req, 100, "Trying"), t0 + 600ms);
  BOOST_TEST((tx.state() == TxState::proceeding));
  auto r = tx.on_timer(t0 + 1500ms);
  BOOST_TEST(r.send.size() == 1u);
  BOOST_TEST(std::chrono::duration_cast<Duration>(*r.wake - t0) == 5500ms);  // T2 in Proceeding
  auto ok = tx.on_response(response_to(req, 200, "OK"), t0 + 2s);
  BOOST_TEST(ok.to_tu.size() == 1u);
  BOOST_TEST((tx.state() == TxState::completed));
  BOOST_TEST(tx.on_response(response_to(req, 200, "OK"), t0 + 3s).to_tu.empty());
  BOOST_TEST(std::chrono::duration_cast<Duration>(*ok.wake - t0) == 7000ms);  // Timer K = T4
  BOOST_TEST(tx.on_timer(t0 + 7s).terminated);
  (void)trying;
}

BOOST_AUTO_TEST_CASE(invite_server_retransmits_its_failure_until_ack) {
  std::string req = request("INVITE");
  ServerTransaction tx(Message::parse(req), false);
  auto a = tx.start(t0);
  BOOST_TEST_REQUIRE(a.send.size() == 1u);
  BOOST_TEST(Message::parse(a.send[0]).status() == 100);
  BOOST_TEST(a.to_tu.empty());  // the TU reads the request from the transaction
  BOOST_TEST(tx.request().method() == "INVITE");
  auto retrans = tx.on_request(Message::parse(req), t0 + 500ms);
  BOOST_TEST(retrans.send.size() == 1u);  // the 100 again
  BOOST_TEST(retrans.to_tu.empty());
  Message inv = Message::parse(req);
  auto busy = tx.respond(MessageBuilder::response_to(inv, 486, "Busy Here", "s1").str(), 486, t0 + 1s);
  BOOST_TEST((tx.state() == TxState::completed));
  TxActions last;
  auto times = sends_until(tx, std::move(busy), t0 + 5s, &last);
  // Timer G from the final response at 1 s: +0.5, +1.5, +3.5 (then every T2).
  std::vector<Duration> want{1500ms, 2500ms, 4500ms};
  BOOST_TEST(times == want, boost::test_tools::per_element());
  Message ack = Message::parse("ACK sip:psap@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtx1\r\n"
                               "Max-Forwards: 70\r\nFrom: <sip:caller@example.com>;tag=f1\r\nTo: <sip:psap@example.net>;tag=s1\r\n"
                               "Call-ID: tx-test-1\r\nCSeq: 7 ACK\r\nContent-Length: 0\r\n\r\n");
  BOOST_TEST(server_key(ack) == server_key(inv));
  auto confirmed = tx.on_request(std::move(ack), t0 + 5s);
  BOOST_TEST((tx.state() == TxState::confirmed));
  BOOST_TEST(std::chrono::duration_cast<Duration>(*confirmed.wake - t0) == 10000ms);  // Timer I = T4
  BOOST_TEST(tx.on_timer(t0 + 10s).terminated);
}

BOOST_AUTO_TEST_CASE(server_without_its_request_still_answers_retransmissions) {
  // A proxy drops the request once its final answer is out; for the 32 s of Timer L the
  // transaction must still answer a retransmitted INVITE with that answer.
  std::string req = request("INVITE");
  ServerTransaction tx(Message::parse(req), false);
  tx.start(t0);
  auto shared = tx.shared_request();
  BOOST_TEST_REQUIRE(shared != nullptr);
  std::string ok = MessageBuilder::response_to(*shared, 200, "OK", "s1").str();
  tx.respond(ok, 200, t0 + 1s);
  BOOST_TEST((tx.state() == TxState::accepted));
  tx.release_request();
  BOOST_TEST(tx.shared_request() == nullptr);
  BOOST_TEST(tx.request().method().empty());      // no crash for a TU that asks anyway
  BOOST_TEST(shared->method() == "INVITE");        // a router holding it keeps its copy
  auto again = tx.on_request(Message::parse(req), t0 + 2s);
  BOOST_TEST_REQUIRE(again.send.size() == 1u);
  BOOST_TEST(again.send[0] == ok);
  BOOST_TEST(tx.on_timer(t0 + 33s).terminated);  // Timer L
}

BOOST_AUTO_TEST_CASE(invite_server_gives_up_without_ack) {
  std::string req = request("INVITE");
  ServerTransaction tx(Message::parse(req), false);
  tx.start(t0);
  Message inv = Message::parse(req);
  TxActions last;
  sends_until(tx, tx.respond(MessageBuilder::response_to(inv, 480, "Temporarily Unavailable", "s1").str(), 480, t0),
              t0 + 40s, &last);
  BOOST_TEST(last.timed_out);  // Timer H, 64*T1
  BOOST_TEST(last.terminated);
}

BOOST_AUTO_TEST_CASE(non_invite_server) {
  std::string req = request("MESSAGE");
  ServerTransaction tx(Message::parse(req), false);
  auto a = tx.start(t0);
  BOOST_TEST(a.send.empty());  // no automatic 100 for non-INVITE
  BOOST_TEST(tx.on_request(Message::parse(req), t0 + 500ms).send.empty());  // absorbed in Trying
  Message msg = Message::parse(req);
  auto ok = tx.respond(MessageBuilder::response_to(msg, 200, "OK", "s2").str(), 200, t0 + 1s);
  BOOST_TEST(ok.send.size() == 1u);
  BOOST_TEST(tx.on_request(Message::parse(req), t0 + 2s).send.size() == 1u);  // 200 again
  BOOST_TEST(std::chrono::duration_cast<Duration>(*ok.wake - t0) == 33000ms);  // Timer J
  BOOST_TEST(tx.on_timer(t0 + 33s).terminated);
  ServerTransaction tcp(Message::parse(req), true);
  tcp.start(t0);
  BOOST_TEST(tcp.respond(MessageBuilder::response_to(msg, 200, "OK", "s2").str(), 200, t0).terminated);
}

BOOST_AUTO_TEST_CASE(matching_keys) {
  Message invite = Message::parse(request("INVITE", "z9hG4bKabc"));
  Message cancel = Message::parse(request("CANCEL", "z9hG4bKabc"));
  BOOST_TEST(server_key(invite) != server_key(cancel));  // CANCEL is a transaction of its own
  BOOST_TEST(server_key(invite).starts_with("z9hG4bKabc|192.0.2.1:5060|INVITE"));
  Message old = Message::parse(request("INVITE", "1234"));
  BOOST_TEST(server_key(old).starts_with("2543|sip:psap@example.net|f1|tx-test-1|7|"));
  // A CANCEL finds the INVITE it cancels, RFC 3261 and RFC 2543 branches alike.
  BOOST_TEST(server_key(cancel, "INVITE") == server_key(invite));
  Message old_cancel = Message::parse(request("CANCEL", "1234"));
  BOOST_TEST(server_key(old_cancel, "INVITE") == server_key(old));
  BOOST_TEST(server_key(Message::parse(request("CANCEL", "z9hG4bKother")), "INVITE") != server_key(invite));
  Message resp = response_to(request("INVITE", "z9hG4bKabc"), 180, "Ringing");
  BOOST_TEST(client_key(resp) == client_key("z9hG4bKabc", "INVITE"));
  BOOST_TEST(new_branch().starts_with("z9hG4bK"));
  BOOST_TEST(new_branch() != new_branch());
}

BOOST_AUTO_TEST_CASE(transport_errors_end_transactions) {
  ClientTransaction tx(request("INVITE"), true, t0);
  tx.start(t0);
  auto a = tx.on_transport_error(t0 + 1s);
  BOOST_TEST(a.transport_failed);
  BOOST_TEST(a.terminated);
}

BOOST_AUTO_TEST_SUITE_END()
