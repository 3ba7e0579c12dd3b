// Dialogs (RFC 3261 §12): route sets from Record-Route, in-dialog requests, strict-router
// fix-up, ACK of a 2xx, CSeq ordering, and NOTIFY of an event package.
#include <boost/test/unit_test.hpp>

#include "sip/dialog.h"

using namespace ng911::sip;

namespace {

Message msg(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return Message::parse(out);
}

const char* kInvite =
    "INVITE sip:psap@psap.example.net SIP/2.0\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKd1\n"
    "Max-Forwards: 70\nFrom: \"Caller\" <sip:caller@example.com>;tag=ua1\nTo: <sip:psap@psap.example.net>\n"
    "Call-ID: dlg-1\nCSeq: 10 INVITE\nContact: <sip:caller@192.0.2.1:5060>\nContent-Length: 0\n\n";

const char* k200 =
    "SIP/2.0 200 OK\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKd1\n"
    "Record-Route: <sip:p2.example.net;lr>, <sip:p1.example.net;lr>\n"
    "From: \"Caller\" <sip:caller@example.com>;tag=ua1\nTo: <sip:psap@psap.example.net>;tag=psap9\n"
    "Call-ID: dlg-1\nCSeq: 10 INVITE\nContact: <sip:taker7@198.51.100.7:5070>\nContent-Length: 0\n\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(sip_dialogs)

BOOST_AUTO_TEST_CASE(caller_side_dialog) {
  Message invite = msg(kInvite), ok = msg(k200);
  Dialog d = Dialog::as_uac(invite, ok);
  BOOST_TEST(d.remote_tag == "psap9");
  BOOST_TEST(d.remote_target == "sip:taker7@198.51.100.7:5070");
  BOOST_TEST_REQUIRE(d.route_set.size() == 2u);
  BOOST_TEST(d.route_set[0] == "<sip:p1.example.net;lr>");  // reversed
  Message bye = Message::parse(d.request("BYE", "192.0.2.1:5060").str());
  BOOST_TEST_REQUIRE(bye.ok(), bye.error());
  BOOST_TEST(bye.request_uri() == "sip:taker7@198.51.100.7:5070");
  BOOST_TEST(bye.route().front().uri.host == "p1.example.net");
  BOOST_TEST(bye.from().tag() == "ua1");
  BOOST_TEST(bye.to().tag() == "psap9");
  BOOST_TEST(bye.from().display_name == "Caller");
  BOOST_TEST(bye.cseq().number == 11u);
  BOOST_TEST(d.matches(bye));
  Message ack = Message::parse(d.ack(invite, "192.0.2.1:5060").str());
  BOOST_TEST(ack.cseq().number == 10u);
  BOOST_TEST(ack.cseq().method == "ACK");
  BOOST_TEST(ack.top_via().branch() != "z9hG4bKd1");  // a 2xx ACK is its own transaction
}

BOOST_AUTO_TEST_CASE(callee_side_dialog_and_cseq_order) {
  Message invite = msg(std::string(kInvite).insert(std::string(kInvite).find("Max-Forwards"),
                                                   "Record-Route: <sip:p2.example.net;lr>, <sip:p1.example.net;lr>\n"));
  BOOST_TEST_REQUIRE(invite.ok(), invite.error());
  Dialog d = Dialog::as_uas(invite, "psap9");
  BOOST_TEST(d.route_set[0] == "<sip:p2.example.net;lr>");  // in order
  BOOST_TEST(d.remote_target == "sip:caller@192.0.2.1:5060");
  Message bye = Message::parse(d.request("BYE", "198.51.100.7:5070").str());
  BOOST_TEST(bye.from().tag() == "psap9");
  BOOST_TEST(bye.to().tag() == "ua1");
  BOOST_TEST(bye.cseq().number == 1u);  // the callee's own CSeq space
  BOOST_TEST(!d.accept_remote_cseq(10));  // not above the INVITE's
  BOOST_TEST(d.accept_remote_cseq(11));
  BOOST_TEST(!d.accept_remote_cseq(11));
}

BOOST_AUTO_TEST_CASE(strict_router_fix_up) {
  Dialog d;
  d.call_id = "c";
  d.local_tag = "a";
  d.remote_tag = "b";
  d.local_uri = "<sip:a@x>";
  d.remote_uri = "<sip:b@y>";
  d.remote_target = "sip:b@198.51.100.9";
  d.route_set = {"<sip:strict.example.net>", "<sip:p2.example.net;lr>"};
  Message r = Message::parse(d.request("INFO", "192.0.2.1:5060").str());
  BOOST_TEST(r.request_uri() == "sip:strict.example.net");
  auto routes = r.route();
  BOOST_TEST_REQUIRE(routes.size() == 2u);
  BOOST_TEST(routes[0].uri.host == "p2.example.net");
  BOOST_TEST(routes[1].uri.text == "sip:b@198.51.100.9");
}

BOOST_AUTO_TEST_CASE(refer_message_and_notify) {
  Dialog d = Dialog::as_uac(msg(kInvite), msg(k200));
  auto refer = d.request("REFER", "192.0.2.1:5060");
  refer.add("Refer-To", "<sip:psap-48491@psap.example.net>");
  Message r = Message::parse(refer.str());
  BOOST_TEST(r.value(HeaderId::refer_to) == "<sip:psap-48491@psap.example.net>");
  Message text = Message::parse(d.request("MESSAGE", "192.0.2.1:5060").body("text/plain", "Where are you?").str());
  BOOST_TEST(text.body() == "Where are you?");
  BOOST_TEST(text.cseq().number == 12u);
  Message n = Message::parse(notify(d, "emergency-QueueState", "active;expires=3600", "application/emergency-queuestate+xml",
                                    "<queueState/>", "192.0.2.1:5060")
                                 .str());
  BOOST_TEST_REQUIRE(n.ok(), n.error());
  BOOST_TEST(n.value(HeaderId::event) == "emergency-QueueState");
  BOOST_TEST(n.value(HeaderId::subscription_state) == "active;expires=3600");
  BOOST_TEST(n.body() == "<queueState/>");
}

BOOST_AUTO_TEST_CASE(subscription_from_subscribe_to_notify) {
  // The ESRP subscribes to a PSAP queue's state; the PSAP answers 200 and notifies.
  Message sub = Message::parse(subscribe("sip:queue1@psap.example.net", "<sip:esrp@esrp.example.net>",
                                         "<sip:esrp@192.0.2.50:5060>", "emergency-QueueState", 3600, "192.0.2.50:5060")
                                   .str());
  BOOST_TEST_REQUIRE(sub.ok(), sub.error());
  BOOST_TEST(sub.method() == "SUBSCRIBE");
  BOOST_TEST(sub.cseq().number == 1u);
  BOOST_TEST(!sub.from().tag().empty());
  BOOST_TEST(sub.value(HeaderId::event) == "emergency-QueueState");
  BOOST_TEST(sub.value(HeaderId::expires) == "3600");
  BOOST_TEST(sub.top_via().rfc3261_branch());
  Message other = Message::parse(subscribe("sip:queue1@psap.example.net", "<sip:esrp@esrp.example.net>",
                                           "<sip:esrp@192.0.2.50:5060>", "emergency-QueueState", 3600, "192.0.2.50:5060")
                                     .str());
  BOOST_TEST(other.call_id() != sub.call_id());
  // The PSAP side: a dialog from the SUBSCRIBE, then NOTIFY within it.
  Dialog psap = Dialog::as_uas(sub, "q1");
  Message n = Message::parse(notify(psap, "emergency-QueueState", "active;expires=3600",
                                    "application/emergency-queuestate+xml", "<queueState/>", "198.51.100.7:5070")
                                 .str());
  BOOST_TEST(n.request_uri() == "sip:esrp@192.0.2.50:5060");
  BOOST_TEST(n.to().tag() == sub.from().tag());
  BOOST_TEST(n.from().tag() == "q1");
  BOOST_TEST(n.call_id() == sub.call_id());
}

BOOST_AUTO_TEST_CASE(no_dialog_without_a_tag_or_contact) {
  BOOST_CHECK_THROW(Dialog::as_uac(msg(kInvite), msg(std::string(k200).replace(std::string(k200).find(";tag=psap9"), 10, ""))),
                    SyntaxError);
}

BOOST_AUTO_TEST_SUITE_END()
