// PSAP queue state (NENA i3 emergency-QueueState): the NOTIFY body read and written, queue URIs
// matched, and the ESRP's subscriptions against an in-process PSAP queue made with the SIP core
// (a transport that answers SUBSCRIBE and sends NOTIFYs): state updates, termination, a silent
// queue, refresh, lapse, stray and bad NOTIFYs, reload, an unreachable transport.
#define BOOST_TEST_MODULE ng911 ESRP queue state tests
#include <boost/test/unit_test.hpp>

#include <set>

#include <boost/asio/ip/tcp.hpp>

#include "queue/queue_monitor.h"
#include "queue/queue_state_body.h"
#include "sip/builder.h"
#include "sip/dialog.h"
#include "sip/text.h"

using namespace ng911;
using namespace ng911::esrp;
using namespace std::chrono_literals;

namespace {

// A predicate for BOOST_CHECK_EXCEPTION: the message names what is wrong.
auto says(std::string words) {
  return [words](const QueueStateBodyError& e) {
    bool ok = std::string(e.what()).find(words) != std::string::npos;
    if (!ok) BOOST_TEST_MESSAGE("message was: " << e.what());
    return ok;
  };
}

std::string body_with(const std::string& members) { return R"({"queueState":{)" + members + "}}"; }

}  // namespace

BOOST_AUTO_TEST_SUITE(esrp_queue_body)

BOOST_AUTO_TEST_CASE(reads_the_nena_body) {
  auto b = parse_queue_state_body(
      R"({"queueState":{"queueUri":"sip:psap1@192.0.2.7","queueLength":3,"queueMaxLength":10,"state":"Active"}})");
  BOOST_TEST(b.queue_uri == "sip:psap1@192.0.2.7");
  BOOST_TEST(b.queue_length == 3u);
  BOOST_TEST(b.max_length == 10u);
  BOOST_TEST((b.state == QueueStatus::active));
}

BOOST_AUTO_TEST_CASE(reads_flat_members_unknown_members_and_any_case) {
  auto flat = parse_queue_state_body(R"({"queueUri":"sip:q@192.0.2.7","queueLength":0,"queueMaxLength":0,"state":"full"})");
  BOOST_TEST((flat.state == QueueStatus::full));
  auto extra = parse_queue_state_body(
      body_with(R"("queueUri":"sip:q@192.0.2.7","queueLength":4294967295,"queueMaxLength":1,"state":"Standby","x":[1])"));
  BOOST_TEST(extra.queue_length == 4294967295u);
  BOOST_TEST((extra.state == QueueStatus::standby));
}

BOOST_AUTO_TEST_CASE(writes_what_it_reads) {
  QueueStateBody b{"sip:psap1@192.0.2.7:5070", QueueStatus::full, 10, 10};
  BOOST_TEST(queue_state_body(b) ==
             R"({"queueState":{"queueUri":"sip:psap1@192.0.2.7:5070","queueLength":10,"queueMaxLength":10,"state":"Full"}})");
  for (auto s : {QueueStatus::active, QueueStatus::inactive, QueueStatus::disabled, QueueStatus::full, QueueStatus::standby,
                 QueueStatus::resource_exhausted, QueueStatus::unreachable}) {
    b.state = s;
    b.queue_length = 7;
    auto back = parse_queue_state_body(queue_state_body(b));
    BOOST_TEST((back.state == s));
    BOOST_TEST(back.queue_length == 7u);
    BOOST_TEST(back.queue_uri == b.queue_uri);
  }
}

BOOST_AUTO_TEST_CASE(refuses_every_bad_input) {
  const std::string uri = R"("queueUri":"sip:q@192.0.2.7",)";
  const std::string lengths = R"("queueLength":1,"queueMaxLength":2,)";
  BOOST_CHECK_EXCEPTION(parse_queue_state_body(""), QueueStateBodyError, says("not JSON"));
  BOOST_CHECK_EXCEPTION(parse_queue_state_body("{"), QueueStateBodyError, says("not JSON"));
  BOOST_CHECK_EXCEPTION(parse_queue_state_body(body_with(uri + lengths + R"("state":"Full")") + " x"), QueueStateBodyError,
                        says("not JSON"));
  BOOST_CHECK_EXCEPTION(parse_queue_state_body("[1]"), QueueStateBodyError, says("must be a JSON object"));
  BOOST_CHECK_EXCEPTION(parse_queue_state_body(R"("Full")"), QueueStateBodyError, says("must be a JSON object"));
  BOOST_CHECK_EXCEPTION(parse_queue_state_body("{}"), QueueStateBodyError, says("\"queueState\" is missing"));
  BOOST_CHECK_EXCEPTION(parse_queue_state_body(R"({"queueState":[]})"), QueueStateBodyError,
                        says("\"queueState\" must be an object"));
  BOOST_CHECK_EXCEPTION(parse_queue_state_body(body_with(lengths + R"("state":"Full")")), QueueStateBodyError,
                        says("\"queueUri\" is missing"));
  BOOST_CHECK_EXCEPTION(parse_queue_state_body(body_with(R"("queueUri":5,)" + lengths + R"("state":"Full")")),
                        QueueStateBodyError, says("\"queueUri\" must be a string"));
  BOOST_CHECK_EXCEPTION(parse_queue_state_body(body_with(R"("queueUri":"",)" + lengths + R"("state":"Full")")),
                        QueueStateBodyError, says("\"queueUri\" is empty"));
  BOOST_CHECK_EXCEPTION(parse_queue_state_body(body_with(uri + R"("queueMaxLength":2,"state":"Full")")), QueueStateBodyError,
                        says("\"queueLength\" is missing"));
  for (std::string bad : {"-1", "1.5", "\"3\"", "4294967296", "true", "null", "{}"})
    BOOST_CHECK_EXCEPTION(
        parse_queue_state_body(body_with(uri + R"("queueLength":)" + bad + R"(,"queueMaxLength":2,"state":"Full")")),
        QueueStateBodyError, says("\"queueLength\" must be an integer from 0 up"));
  BOOST_CHECK_EXCEPTION(parse_queue_state_body(body_with(uri + R"("queueLength":1,"state":"Full")")), QueueStateBodyError,
                        says("\"queueMaxLength\" is missing"));
  BOOST_CHECK_EXCEPTION(parse_queue_state_body(body_with(uri + R"("queueLength":1,"queueMaxLength":-2,"state":"Full")")),
                        QueueStateBodyError, says("\"queueMaxLength\" must be an integer from 0 up"));
  BOOST_CHECK_EXCEPTION(parse_queue_state_body(body_with(uri + R"("queueLength":1,"queueMaxLength":2)")), QueueStateBodyError,
                        says("\"state\" is missing"));
  BOOST_CHECK_EXCEPTION(parse_queue_state_body(body_with(uri + lengths + R"("state":3)")), QueueStateBodyError,
                        says("\"state\" must be a string"));
  BOOST_CHECK_EXCEPTION(parse_queue_state_body(body_with(uri + lengths + R"("state":"Busy")")), QueueStateBodyError,
                        says("unknown state \"Busy\""));
}

BOOST_AUTO_TEST_CASE(queue_uris_match_on_scheme_user_host_and_port) {
  BOOST_TEST(*queue_uri_key("sip:psap1@192.0.2.7") == "sip:psap1@192.0.2.7:5060");
  BOOST_TEST(*queue_uri_key("sip:psap1@192.0.2.7;transport=udp") == *queue_uri_key("<sip:psap1@192.0.2.7:5060>"));
  BOOST_TEST(*queue_uri_key("SIP:psap1@[0:0::1]:5070") == *queue_uri_key("sip:psap1@[::1]:5070;lr"));
  BOOST_TEST(*queue_uri_key("sips:psap1@192.0.2.7") == "sips:psap1@192.0.2.7:5061");
  BOOST_TEST(*queue_uri_key("sip:psap1@192.0.2.7") != *queue_uri_key("sip:psap2@192.0.2.7"));
  BOOST_TEST(*queue_uri_key("sip:psap1@192.0.2.7") != *queue_uri_key("sip:psap1@192.0.2.7:5070"));
  BOOST_TEST(*queue_uri_key("sip:psap1@192.0.2.7") != *queue_uri_key("sips:psap1@192.0.2.7:5060"));
  BOOST_TEST(!queue_uri_key("tel:+15551234567"));
  BOOST_TEST(!queue_uri_key("not a uri"));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------

namespace {

// Runs the loop until `done` or `limit`: every wait here is bounded.
template <class F>
bool run_until(boost::asio::io_context& io, F done, std::chrono::milliseconds limit = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(5ms);
  }
  return done();
}

void run_for(boost::asio::io_context& io, std::chrono::milliseconds how_long) {
  run_until(io, [] { return false; }, how_long);
}

std::uint16_t unused_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// A PSAP queue as notifier, made with the SIP core: answers SUBSCRIBE (or not), NOTIFYs its state.
struct Queue {
  enum class Mode { answer, silent, forbid, notify_first };
  Mode mode = Mode::answer;
  QueueStateBody state{"sip:queue@127.0.0.1", QueueStatus::active, 0, 10};
  std::vector<sip::Message> subscribes;  // each new SUBSCRIBE (retransmissions left out)
  std::vector<std::chrono::steady_clock::time_point> subscribed_at;
  std::vector<sip::Message> answers;     // responses to our NOTIFYs
  std::size_t notified = 0;              // NOTIFYs sent
  std::optional<sip::Dialog> dialog;     // the latest subscription
  std::set<std::string> branches;
  std::unique_ptr<sip::Transport> transport;

  explicit Queue(boost::asio::io_context& io) {
    // Port 0: the transport's TCP side takes the UDP side's number, which may be held; retried.
    for (int attempt = 1; !transport; ++attempt) {
      try {
        transport = std::make_unique<sip::Transport>(io, "127.0.0.1", 0, [this](std::string bytes, const sip::Endpoint& from) {
          on_message(sip::Message::parse(std::move(bytes)), from);
        });
      } catch (const boost::system::system_error&) {
        if (attempt == 5) throw;
      }
    }
  }
  std::string uri() const { return "sip:queue@127.0.0.1:" + std::to_string(transport->port()); }
  std::string sent_by() const { return "127.0.0.1:" + std::to_string(transport->port()); }

  void on_message(sip::Message m, const sip::Endpoint& from) {
    BOOST_TEST_REQUIRE(m.ok(), m.error());
    if (m.is_response()) {
      answers.push_back(std::move(m));
      return;
    }
    BOOST_TEST_REQUIRE(m.method() == "SUBSCRIBE");
    if (!branches.insert(std::string(m.top_via().branch())).second) return;  // a retransmission
    subscribes.push_back(sip::Message::parse(std::string(m.bytes())));
    subscribed_at.push_back(std::chrono::steady_clock::now());
    if (mode == Mode::silent) return;
    if (mode == Mode::forbid) {
      transport->send(from, sip::MessageBuilder::response_to(m, 403, "Forbidden", "q403").str());
      return;
    }
    bool refresh = !m.to().tag().empty();
    std::string expires(m.value(sip::HeaderId::expires));
    if (!refresh) dialog = sip::Dialog::as_uas(m, "q" + std::to_string(subscribes.size()));
    auto ok = sip::MessageBuilder::response_to(m, 200, "OK", dialog->local_tag);
    ok.add("Contact", "<" + uri() + ">").add("Expires", expires);
    if (mode == Mode::notify_first) notify("active;expires=" + expires);
    transport->send(from, ok.str());
    if (expires == "0") notify("terminated;reason=timeout", "");
    else if (mode != Mode::notify_first) notify("active;expires=" + expires);
  }

  // A NOTIFY in the latest subscription: the state as JSON, or `body` as given.
  void notify(const std::string& subscription_state, std::optional<std::string> body = std::nullopt,
              std::string content_type = std::string(kQueueStateContentType)) {
    std::string text = body ? *body : queue_state_body(state);
    auto n = sip::notify(*dialog, kQueueStateEvent, subscription_state, text.empty() ? "" : content_type, text, sent_by());
    n.add("Contact", "<" + uri() + ">");
    transport->send(*sip::endpoint_of(sip::parse_uri(dialog->remote_target)), n.str());
    ++notified;
  }

  // Waits for the answers to every NOTIFY so far, then forgets them: later answers are to
  // later NOTIFYs.
  void forget_answers(boost::asio::io_context& io) {
    BOOST_TEST_REQUIRE(run_until(io, [&] { return answers.size() == notified; }));
    answers.clear();
    notified = 0;
  }
};

QueueMonitorConfig config_for(const std::vector<std::string>& queues) {
  QueueMonitorConfig c;
  c.queues = queues;
  c.timers.t1 = 20ms;  // Timer F: 64*T1 = 1.28 s
  c.retry_interval = 200ms;
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(esrp_queue_monitor)

BOOST_AUTO_TEST_CASE(subscribes_and_follows_active_then_full) {
  boost::asio::io_context io;
  Queue psap(io);
  std::vector<QueueInfo> changes;
  QueueMonitor monitor(io, config_for({psap.uri()}), [&](const QueueInfo& q) { changes.push_back(q); });
  BOOST_TEST(!monitor.status(psap.uri()));  // no NOTIFY yet: unknown
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(psap.uri()) == QueueStatus::active; }));

  const sip::Message& sub = psap.subscribes.at(0);
  BOOST_TEST(sub.request_uri() == psap.uri());
  BOOST_TEST(sub.value(sip::HeaderId::event) == "emergency-QueueState");
  BOOST_TEST(sub.value(sip::HeaderId::expires) == "3600");
  BOOST_TEST(sub.to().tag().empty());
  BOOST_TEST((sub.contacts().at(0).uri.port == monitor.port()));
  bool accepts = false;
  for (const auto& h : sub.headers())
    if (sip::iequals(h.name, "Accept")) accepts = h.value == kQueueStateContentType;
  BOOST_TEST(accepts);

  psap.state.state = QueueStatus::full;
  psap.state.queue_length = 10;
  psap.notify("active;expires=3600");
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(psap.uri()) == QueueStatus::full; }));
  auto snap = monitor.snapshot();
  BOOST_TEST_REQUIRE(snap.size() == 1u);
  BOOST_TEST(snap[0].uri == psap.uri());
  BOOST_TEST(snap[0].length == 10u);
  BOOST_TEST(snap[0].max_length == 10u);
  BOOST_TEST(snap[0].subscribed);
  BOOST_TEST((snap[0].updated > std::chrono::system_clock::now() - 10s));
  // The same queue written another way; another queue.
  BOOST_TEST((monitor.status(psap.uri() + ";transport=udp") == QueueStatus::full));
  BOOST_TEST(!monitor.status("sip:other@127.0.0.1:" + std::to_string(psap.transport->port())));
  // Reported: subscribed, then Active, then Full.
  BOOST_TEST_REQUIRE(changes.size() == 3u);
  BOOST_TEST((changes[0].subscribed && !changes[0].status));
  BOOST_TEST((changes[1].status == QueueStatus::active));
  BOOST_TEST((changes[2].status == QueueStatus::full && changes[2].length == 10u));
  BOOST_TEST_REQUIRE(run_until(io, [&] { return psap.answers.size() == 2u; }));
  for (const auto& a : psap.answers) BOOST_TEST(a.status() == 200);
  BOOST_TEST(monitor.counters().notifies == 2u);
}

BOOST_AUTO_TEST_CASE(terminated_means_unreachable_then_subscribed_again) {
  boost::asio::io_context io;
  Queue psap(io);
  QueueMonitor monitor(io, config_for({psap.uri()}));
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(psap.uri()) == QueueStatus::active; }));
  psap.notify("terminated;reason=deactivated", "");
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(psap.uri()) == QueueStatus::unreachable; }));
  auto snap = monitor.snapshot();
  BOOST_TEST(!snap[0].subscribed);
  BOOST_TEST(snap[0].reason == "terminated;reason=deactivated");
  // After retry_interval: a new subscription (new Call-ID, outside any dialog), state again.
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(psap.uri()) == QueueStatus::active; }));
  BOOST_TEST_REQUIRE(psap.subscribes.size() == 2u);
  BOOST_TEST(psap.subscribes[1].call_id() != psap.subscribes[0].call_id());
  BOOST_TEST(psap.subscribes[1].to().tag().empty());
  BOOST_TEST((psap.subscribed_at[1] - psap.subscribed_at[0] >= 200ms));
  BOOST_TEST(monitor.snapshot()[0].subscribed);
}

BOOST_AUTO_TEST_CASE(silent_queue_is_unreachable_then_retried) {
  boost::asio::io_context io;
  Queue psap(io);
  psap.mode = Queue::Mode::silent;
  QueueMonitor monitor(io, config_for({psap.uri()}));
  // Timer F (64*T1 = 1.28 s) ends the unanswered SUBSCRIBE.
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(psap.uri()) == QueueStatus::unreachable; }));
  BOOST_TEST(monitor.snapshot()[0].reason == "timeout");
  BOOST_TEST(monitor.counters().failures == 1u);
  psap.mode = Queue::Mode::answer;  // the PSAP is back
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(psap.uri()) == QueueStatus::active; }));
  BOOST_TEST(psap.subscribes.size() >= 2u);
  BOOST_TEST(psap.subscribes.back().call_id() != psap.subscribes.front().call_id());
}

BOOST_AUTO_TEST_CASE(refused_subscription_is_unreachable_with_backoff) {
  boost::asio::io_context io;
  Queue psap(io);
  psap.mode = Queue::Mode::forbid;
  QueueMonitor monitor(io, config_for({psap.uri()}));
  BOOST_TEST_REQUIRE(run_until(io, [&] { return psap.subscribes.size() == 3u; }));
  BOOST_TEST((monitor.status(psap.uri()) == QueueStatus::unreachable));
  BOOST_TEST(monitor.snapshot()[0].reason == "403 Forbidden");
  // 200 ms, then 400 ms: each failure doubles the wait.
  auto first = psap.subscribed_at[1] - psap.subscribed_at[0], second = psap.subscribed_at[2] - psap.subscribed_at[1];
  BOOST_TEST((first >= 200ms));
  BOOST_TEST((second >= 400ms));
  BOOST_TEST((second > first + 100ms));
}

BOOST_AUTO_TEST_CASE(refreshes_within_the_dialog_before_expiry) {
  boost::asio::io_context io;
  Queue psap(io);
  auto config = config_for({psap.uri()});
  config.expires = 2s;
  QueueMonitor monitor(io, config);
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(psap.uri()) == QueueStatus::active; }));
  BOOST_TEST_REQUIRE(run_until(io, [&] { return psap.subscribes.size() == 2u; }, 3000ms));
  const sip::Message& refresh = psap.subscribes[1];
  BOOST_TEST(refresh.call_id() == psap.subscribes[0].call_id());
  BOOST_TEST(refresh.to().tag() == psap.dialog->local_tag);
  BOOST_TEST(refresh.from().tag() == psap.subscribes[0].from().tag());
  BOOST_TEST(refresh.cseq().number == 2u);
  BOOST_TEST(refresh.value(sip::HeaderId::expires) == "2");
  auto after = psap.subscribed_at[1] - psap.subscribed_at[0];
  BOOST_TEST((after >= 900ms && after < 1900ms));  // halfway through the 2 s
  run_for(io, 1200ms);  // past the first subscription's end
  BOOST_TEST((monitor.status(psap.uri()) == QueueStatus::active));
  BOOST_TEST(monitor.snapshot()[0].subscribed);
  BOOST_TEST(monitor.counters().refreshes >= 1u);
}

BOOST_AUTO_TEST_CASE(unrefreshed_subscription_lapses) {
  boost::asio::io_context io;
  Queue psap(io);
  auto config = config_for({psap.uri()});
  config.expires = 2s;
  config.retry_interval = 5000ms;
  QueueMonitor monitor(io, config);
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(psap.uri()) == QueueStatus::active; }));
  auto start = std::chrono::steady_clock::now();
  psap.mode = Queue::Mode::silent;  // the refresh goes unanswered
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(psap.uri()) == QueueStatus::unreachable; }, 4000ms));
  BOOST_TEST((std::chrono::steady_clock::now() - start < 2500ms));
  BOOST_TEST(monitor.snapshot()[0].reason == "subscription expired");
  BOOST_TEST(!monitor.snapshot()[0].subscribed);
}

BOOST_AUTO_TEST_CASE(notify_of_no_subscription_gets_481) {
  boost::asio::io_context io;
  Queue psap(io);
  QueueMonitor monitor(io, config_for({psap.uri()}));
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(psap.uri()) == QueueStatus::active; }));
  psap.forget_answers(io);
  sip::Dialog stray = *psap.dialog;
  stray.call_id = "nobody-subscribed";
  sip::Dialog real = *psap.dialog;
  psap.dialog = stray;
  psap.notify("active;expires=60");
  psap.dialog = real;
  BOOST_TEST_REQUIRE(run_until(io, [&] { return !psap.answers.empty(); }));
  BOOST_TEST(psap.answers[0].status() == 481);
  BOOST_TEST(monitor.counters().unknown_notifies == 1u);
  BOOST_TEST((monitor.status(psap.uri()) == QueueStatus::active));
}

BOOST_AUTO_TEST_CASE(bad_notify_is_refused_and_the_state_kept) {
  boost::asio::io_context io;
  Queue psap(io);
  QueueMonitor monitor(io, config_for({psap.uri()}));
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(psap.uri()) == QueueStatus::active; }));
  psap.forget_answers(io);
  psap.notify("active;expires=60", R"({"queueState":{"state":"Full"}})");
  psap.notify("active;expires=60", R"({"queueState":{"queueUri":"sip:q@127.0.0.1","queueLength":1,"queueMaxLength":1,"state":"Full"}})",
              "text/plain");
  BOOST_TEST_REQUIRE(run_until(io, [&] { return psap.answers.size() == 2u; }));
  BOOST_TEST(psap.answers[0].status() == 400);
  BOOST_TEST(psap.answers[1].status() == 415);
  BOOST_TEST((monitor.status(psap.uri()) == QueueStatus::active));
  BOOST_TEST(monitor.counters().bad_notifies == 2u);
}

BOOST_AUTO_TEST_CASE(notify_before_the_200_makes_the_dialog) {
  boost::asio::io_context io;
  Queue psap(io);
  psap.mode = Queue::Mode::notify_first;  // RFC 6665 4.1.2.4: the NOTIFY may overtake the 2xx
  psap.state.state = QueueStatus::inactive;
  QueueMonitor monitor(io, config_for({psap.uri()}));
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(psap.uri()) == QueueStatus::inactive; }));
  BOOST_TEST_REQUIRE(run_until(io, [&] { return !psap.answers.empty(); }));
  BOOST_TEST(psap.answers[0].status() == 200);
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.snapshot()[0].subscribed; }));
  psap.state.state = QueueStatus::full;
  psap.notify("active;expires=3600");
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(psap.uri()) == QueueStatus::full; }));
}

BOOST_AUTO_TEST_CASE(reload_subscribes_new_queues_and_unsubscribes_dropped_ones) {
  boost::asio::io_context io;
  Queue a(io), b(io);
  QueueMonitor monitor(io, config_for({a.uri()}));
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(a.uri()) == QueueStatus::active; }));
  a.forget_answers(io);
  monitor.set_queues({b.uri(), a.uri()});  // a kept: no new SUBSCRIBE
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(b.uri()) == QueueStatus::active; }));
  BOOST_TEST(a.subscribes.size() == 1u);
  monitor.set_queues({b.uri()});
  BOOST_TEST(monitor.unsubscribing());
  // a gets SUBSCRIBE Expires: 0 within its dialog, answers, and sends the final NOTIFY, which
  // is answered 200, not 481.
  BOOST_TEST_REQUIRE(run_until(io, [&] { return !monitor.unsubscribing(); }));
  BOOST_TEST_REQUIRE(a.subscribes.size() == 2u);
  BOOST_TEST(a.subscribes[1].value(sip::HeaderId::expires) == "0");
  BOOST_TEST(a.subscribes[1].to().tag() == a.dialog->local_tag);
  BOOST_TEST_REQUIRE(run_until(io, [&] { return !a.answers.empty(); }));
  BOOST_TEST(a.answers[0].status() == 200);
  BOOST_TEST(!monitor.status(a.uri()));
  auto snap = monitor.snapshot();
  BOOST_TEST_REQUIRE(snap.size() == 1u);
  BOOST_TEST(snap[0].uri == b.uri());
  // A bad list changes nothing.
  BOOST_CHECK_THROW(monitor.set_queues({a.uri(), "sip:queue@psap.example.net"}), std::invalid_argument);
  BOOST_TEST(monitor.snapshot().size() == 1u);
}

BOOST_AUTO_TEST_CASE(refused_connection_is_unreachable_at_once) {
  boost::asio::io_context io;
  std::string uri = "sip:queue@127.0.0.1:" + std::to_string(unused_port()) + ";transport=tcp";
  QueueMonitor monitor(io, config_for({uri}));
  BOOST_TEST_REQUIRE(run_until(io, [&] { return monitor.status(uri) == QueueStatus::unreachable; }, 1000ms));
  BOOST_TEST(monitor.snapshot()[0].reason == "transport error");
}

BOOST_AUTO_TEST_CASE(queues_need_sip_uris_with_addresses) {
  boost::asio::io_context io;
  BOOST_CHECK_THROW(QueueMonitor(io, config_for({"sip:queue@psap.example.net"})), std::invalid_argument);
  BOOST_CHECK_THROW(QueueMonitor(io, config_for({"tel:+15551234567"})), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
