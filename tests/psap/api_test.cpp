// The console API's answers and errors against an in-process ng911-psap on a database of its
// own: sessions and roles, unknown and ended calls, bad input, and the audit log of each.
#define BOOST_TEST_MODULE psap_api
#include <boost/test/unit_test.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/udp.hpp>

#include "api.h"
#include "support/test_database.h"

using namespace ng911;
using namespace ng911::psap;
namespace asio = boost::asio;
using nlohmann::json;

namespace {

struct Fixture {
  test::TestDatabase database;
  asio::io_context io;
  lost::Logger log{2};
  Store store{database.conninfo()};
  std::unique_ptr<Psap> psap;
  std::unique_ptr<Api> api;

  Fixture() {
    store.add_user("alice", Role::call_taker, hash_password("alice-password", 1000));
    store.add_user("sam", Role::supervisor, hash_password("sam-password", 1000));
    PsapConfig config;
    config.sip_port = 0;
    config.queues = {"sip:psap-a@127.0.0.1:5070"};
    config.queue_max = 2;
    psap = std::make_unique<Psap>(io, config, store, log);
    api = std::make_unique<Api>(*psap, store, log, ApiConfig{});
  }

  ApiResponse run(ApiRequest r) {
    std::optional<ApiResponse> out;
    asio::co_spawn(io, api->handle(std::move(r)), [&](std::exception_ptr, ApiResponse response) { out = std::move(response); });
    for (int i = 0; !out && i < 1000; ++i) io.run_one_for(std::chrono::milliseconds(10));
    BOOST_REQUIRE(out);
    return *out;
  }
  std::string login(const std::string& name, const std::string& password) {
    auto r = run({"POST", "/api/login", json{{"name", name}, {"password", password}}.dump(), ""});
    BOOST_REQUIRE_EQUAL(r.status, 200u);
    for (const auto& [k, v] : r.headers)
      if (k == "Set-Cookie") return v.substr(0, v.find(';'));
    BOOST_FAIL("no Set-Cookie");
    return {};
  }
  // An INVITE from a caller's socket to the endpoint; runs the loop until the call rings.
  CallId ring(asio::ip::udp::socket& caller, const std::string& call_id) {
    std::string sdp = "v=0\r\nm=audio 4000 RTP/AVP 0\r\n";
    std::string m = "INVITE sip:psap-a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" +
                    std::to_string(caller.local_endpoint().port()) + ";branch=z9hG4bK" + call_id +
                    "\r\nFrom: <sip:+15125550100@127.0.0.1>;tag=f" + call_id + "\r\nTo: <urn:service:sos>\r\nCall-ID: " + call_id +
                    "\r\nCSeq: 1 INVITE\r\nContact: <sip:c@127.0.0.1:" + std::to_string(caller.local_endpoint().port()) +
                    ">\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: " + std::to_string(sdp.size()) +
                    "\r\n\r\n" + sdp;
    caller.send_to(asio::buffer(m), asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), psap->sip_port()));
    for (int i = 0; i < 300; ++i) {
      io.run_one_for(std::chrono::milliseconds(10));
      json calls = psap->calls();
      for (const auto& c : calls["live"])
        if (c["sip_call_id"] == call_id) return c["id"].get<CallId>();
    }
    BOOST_FAIL("the call did not ring");
    return 0;
  }
  static json body(const ApiResponse& r) { return json::parse(r.body); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(psap_api)

BOOST_FIXTURE_TEST_CASE(sessions_and_roles, Fixture) {
  BOOST_TEST(run({"GET", "/api/calls", "", ""}).status == 401u);
  BOOST_TEST(run({"GET", "/api/calls", "", "ng911_psap_session=forged"}).status == 401u);
  BOOST_TEST(run({"POST", "/api/login", R"({"name":"alice","password":"nope"})", ""}).status == 401u);
  BOOST_TEST(run({"POST", "/api/login", R"({"name":"alice"})", ""}).status == 400u);
  BOOST_TEST(run({"GET", "/api/login", "", ""}).status == 405u);
  auto alice = login("alice", "alice-password");
  auto sam = login("sam", "sam-password");
  BOOST_TEST(run({"GET", "/api/calls", "", alice}).status == 200u);
  BOOST_TEST(run({"GET", "/api/supervisor", "", alice}).status == 403u);
  auto sup = run({"GET", "/api/supervisor", "", sam});
  BOOST_TEST(sup.status == 200u);
  BOOST_TEST(body(sup)["not_ready"] == 2);
  BOOST_TEST(run({"POST", "/api/me/ready", "", alice}).status == 200u);
  BOOST_TEST(body(run({"GET", "/api/supervisor", "", sam}))["ready"] == 1);
  BOOST_TEST(run({"POST", "/api/logout", "", alice}).status == 200u);
  BOOST_TEST(run({"GET", "/api/calls", "", alice}).status == 401u);
  BOOST_TEST(run({"GET", "/api/nothing", "", sam}).status == 404u);
  BOOST_TEST(run({"GET", "/healthz", "", ""}).status == 200u);
  // Every refusal above is in the audit log with who asked.
  auto audit = store.audit_tail(100);
  bool forbidden = false, anonymous = false;
  for (const auto& a : audit) {
    forbidden = forbidden || (a["user"] == "alice" && a["outcome"] == "403");
    anonymous = anonymous || (a["user"] == "" && a["outcome"] == "401");
  }
  BOOST_TEST(forbidden);
  BOOST_TEST(anonymous);
}

BOOST_FIXTURE_TEST_CASE(call_actions_and_their_errors, Fixture) {
  auto alice = login("alice", "alice-password");
  asio::ip::udp::socket caller(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  CallId id = ring(caller, "call-1");
  std::string base = "/api/calls/" + std::to_string(id);
  auto view = run({"GET", base, "", alice});
  BOOST_TEST(view.status == 200u);
  BOOST_TEST(body(view)["state"] == "ringing");
  BOOST_TEST(body(view)["callback"] == "+15125550100");
  BOOST_TEST(run({"POST", base + "/release", "", alice}).status == 409u);  // ringing: answer first
  BOOST_TEST(run({"POST", base + "/hold", "", alice}).status == 409u);
  BOOST_TEST(run({"POST", base + "/rebid", "", alice}).status == 409u);  // no location by reference
  BOOST_TEST(run({"POST", base + "/answer", "", alice}).status == 200u);
  auto again = run({"POST", base + "/answer", "", alice});
  BOOST_TEST(again.status == 409u);
  BOOST_TEST(body(again)["error"].get<std::string>().find("answered by alice") != std::string::npos);
  BOOST_TEST(run({"POST", base + "/transfer", R"({"target":"mailto:x@y"})", alice}).status == 400u);
  BOOST_TEST(run({"POST", base + "/transfer", "[1,2]", alice}).status == 400u);
  BOOST_TEST(run({"POST", base + "/text", R"({"text":""})", alice}).status == 400u);
  BOOST_TEST(run({"POST", base + "/fly", "", alice}).status == 404u);
  BOOST_TEST(run({"POST", "/api/calls/0/answer", "", alice}).status == 400u);
  BOOST_TEST(run({"POST", "/api/calls/424242/answer", "", alice}).status == 404u);
  BOOST_TEST(run({"GET", "/api/calls/424242", "", alice}).status == 404u);
  BOOST_TEST(run({"POST", "/api/answer-next", "", alice}).status == 404u);  // nothing rings
  BOOST_TEST(run({"POST", base + "/release", "", alice}).status == 200u);
  auto ended = run({"POST", base + "/answer", "", alice});
  BOOST_TEST(ended.status == 409u);
  BOOST_TEST(body(ended)["error"].get<std::string>().find("ended") != std::string::npos);
  auto record = store.call(id);
  BOOST_REQUIRE(record);
  BOOST_TEST((*record)["state"] == "ended");
  BOOST_TEST((*record)["answered_by"] == "alice");
}

BOOST_FIXTURE_TEST_CASE(a_full_queue_refuses_calls, Fixture) {
  asio::ip::udp::socket caller(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  ring(caller, "q1");
  ring(caller, "q2");  // queue_max 2: the queue is Full now
  BOOST_TEST(psap->supervisor()["queues"][0]["state"] == "Full");
  auto before = psap->counters().rejected;
  std::string m = "INVITE sip:psap-a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" +
                  std::to_string(caller.local_endpoint().port()) + ";branch=z9hG4bKq3\r\nFrom: <sip:x@127.0.0.1>;tag=q3\r\n"
                  "To: <urn:service:sos>\r\nCall-ID: q3\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  caller.send_to(asio::buffer(m), asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), psap->sip_port()));
  for (int i = 0; i < 100 && psap->counters().rejected == before; ++i) io.run_one_for(std::chrono::milliseconds(10));
  BOOST_TEST(psap->counters().rejected == before + 1);
  BOOST_TEST(psap->calls()["live"].size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
