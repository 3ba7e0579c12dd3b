#include "sip/dialog.h"

#include "sip/text.h"
#include "sip/transaction.h"

namespace ng911::sip {
namespace {

// The name-addr of From/To without its tag parameter, as written.
std::string without_tag(std::string_view value) {
  NameAddr na = parse_name_addr(value);
  // Built with append(): GCC 12 misreports chains of operator+ here (-Wrestrict).
  std::string out;
  if (na.bracketed) {
    if (!na.display_name.empty()) out.append("\"").append(na.display_name).append("\" ");
    out.append("<").append(na.uri.text).append(">");
  } else {
    out.append(na.uri.text);
  }
  for (const auto& p : na.params) {
    if (iequals(p.name, "tag")) continue;
    out.append(";").append(p.name);
    if (p.has_value) out.append("=").append(p.value);
  }
  return out;
}

// "<uri>", built with append() (GCC 12 misreports "<" + std::string(...) as -Wrestrict).
std::string bracketed(std::string_view uri) {
  std::string out;
  out.reserve(uri.size() + 2);
  out.append("<").append(uri).append(">");
  return out;
}

std::string first_contact(const Message& m) {
  auto contacts = m.contacts();
  if (contacts.empty()) throw SyntaxError("no Contact to reach the peer at");
  return std::string(contacts.front().uri.text);
}

std::vector<std::string> record_route_values(const Message& m) {
  std::vector<std::string> out;
  for (const auto& rr : m.record_route()) out.push_back(bracketed(rr.uri.text));
  return out;
}

}  // namespace

Dialog Dialog::as_uac(const Message& request, const Message& response) {
  Dialog d;
  d.call_id = std::string(request.call_id());
  d.local_tag = std::string(request.from().tag());
  d.remote_tag = std::string(response.to().tag());
  if (d.remote_tag.empty()) throw SyntaxError("a dialog needs the peer's To tag");
  d.local_uri = without_tag(request.value(HeaderId::from));
  d.remote_uri = without_tag(request.value(HeaderId::to));
  d.local_cseq = request.cseq().number;
  d.remote_target = first_contact(response);
  auto rr = record_route_values(response);
  d.route_set.assign(rr.rbegin(), rr.rend());  // the UAC reverses the Record-Route
  return d;
}

Dialog Dialog::as_uas(const Message& request, std::string_view local_tag) {
  Dialog d;
  d.call_id = std::string(request.call_id());
  d.local_tag = std::string(local_tag);
  d.remote_tag = std::string(request.from().tag());
  d.local_uri = without_tag(request.value(HeaderId::to));
  d.remote_uri = without_tag(request.value(HeaderId::from));
  d.remote_cseq = request.cseq().number;
  d.remote_target = first_contact(request);
  d.route_set = record_route_values(request);  // in order for the UAS
  return d;
}

MessageBuilder Dialog::build(std::string_view method, std::uint32_t cseq, std::string_view sent_by,
                             std::string_view transport, const std::string& branch) const {
  // §12.2.1.1: with a loose router first (lr), the Request-URI is the remote target and the
  // route set goes into Route; with a strict router, it takes the Request-URI, and the remote
  // target is appended to the Route.
  std::string ruri = remote_target;
  std::vector<std::string> routes = route_set;
  if (!routes.empty()) {
    NameAddr first = parse_name_addr(routes.front());
    if (!first.uri.param("lr")) {
      ruri = std::string(first.uri.text);
      routes.erase(routes.begin());
      routes.push_back(bracketed(remote_target));
    }
  }
  auto b = MessageBuilder::request(method, ruri);
  b.add("Via", "SIP/2.0/" + std::string(transport) + " " + std::string(sent_by) + ";branch=" + branch + ";rport");
  for (const auto& r : routes) b.add("Route", r);
  b.add("Max-Forwards", "70");
  b.add("From", local_uri + ";tag=" + local_tag);
  b.add("To", remote_uri + ";tag=" + remote_tag);
  b.add("Call-ID", call_id);
  b.add("CSeq", std::to_string(cseq) + " " + std::string(method));
  return b;
}

MessageBuilder Dialog::request(std::string_view method, std::string_view sent_by, std::string_view transport) {
  return build(method, ++local_cseq, sent_by, transport, new_branch());
}

MessageBuilder Dialog::ack(const Message& invite, std::string_view sent_by, std::string_view transport) const {
  return build("ACK", invite.cseq().number, sent_by, transport, new_branch());
}

bool Dialog::accept_remote_cseq(std::uint32_t cseq) {
  if (remote_cseq && cseq <= *remote_cseq) return false;
  remote_cseq = cseq;
  return true;
}

bool Dialog::matches(const Message& m) const {
  if (m.call_id() != call_id) return false;
  auto from = m.from().tag(), to = m.to().tag();
  return (from == local_tag && to == remote_tag) || (from == remote_tag && to == local_tag);
}

MessageBuilder out_of_dialog_request(std::string_view method, std::string_view request_uri, std::string_view from,
                                     std::string_view to, std::string_view contact, std::string_view sent_by,
                                     std::string_view transport) {
  std::string random = new_branch().substr(7);  // 16 hex digits
  auto b = MessageBuilder::request(method, request_uri);
  std::string via;
  via.append("SIP/2.0/").append(transport).append(" ").append(sent_by).append(";branch=").append(new_branch()).append(";rport");
  std::string from_tagged(from);
  from_tagged.append(";tag=").append(random.substr(0, 8));
  std::string call_id(random);
  call_id.append("@").append(sent_by);
  std::string cseq("1 ");
  cseq.append(method);
  b.add("Via", via).add("Max-Forwards", "70").add("From", from_tagged).add("To", to).add("Call-ID", call_id)
      .add("CSeq", cseq).add("Contact", contact);
  return b;
}

MessageBuilder subscribe(std::string_view request_uri, std::string_view from, std::string_view contact,
                         std::string_view event, unsigned expires, std::string_view sent_by, std::string_view transport) {
  std::string to = bracketed(request_uri);
  auto b = out_of_dialog_request("SUBSCRIBE", request_uri, from, to, contact, sent_by, transport);
  b.add("Event", event).add("Expires", std::to_string(expires));
  return b;
}

MessageBuilder notify(Dialog& dialog, std::string_view event, std::string_view subscription_state,
                      std::string_view content_type, std::string_view body, std::string_view sent_by,
                      std::string_view transport) {
  auto b = dialog.request("NOTIFY", sent_by, transport);
  b.add("Event", event);
  b.add("Subscription-State", subscription_state);
  if (!content_type.empty()) b.body(content_type, body);
  return b;
}

}  // namespace ng911::sip
