#pragma once
// Dialogs (RFC 3261 §12) for the user agents built on the SIP core (the PSAP endpoint): state
// made from the dialog-creating request and response, requests within the dialog (BYE,
// re-INVITE, REFER, MESSAGE, NOTIFY, ...) with the route set, loose or strict routing, and the
// ACK of a 2xx. Event packages (RFC 6665) add Event and Subscription-State on top.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/builder.h"
#include "sip/message.h"

namespace ng911::sip {

struct Dialog {
  std::string call_id;
  std::string local_tag, remote_tag;
  std::string local_uri, remote_uri;  // From / To as written, without tags
  std::uint32_t local_cseq = 0;
  std::optional<std::uint32_t> remote_cseq;
  std::string remote_target;          // the peer's Contact URI
  std::vector<std::string> route_set;  // Route values, e.g. "<sip:p1.example.com;lr>"

  // §12.1.2: from the request we sent and the 2xx (or 1xx with a tag) we received.
  static Dialog as_uac(const Message& request, const Message& response);
  // §12.1.1: from the request we received and the tag we answer it with.
  static Dialog as_uas(const Message& request, std::string_view local_tag);

  // §12.2.1.1: a new request within the dialog with the next local CSeq, our Via (sent-by
  // "host:port", transport "UDP"/"TCP" and a fresh branch) and Max-Forwards 70.
  MessageBuilder request(std::string_view method, std::string_view sent_by, std::string_view transport = "UDP");
  // §13.2.2.4: the ACK of a 2xx: the INVITE's CSeq number, a new branch.
  MessageBuilder ack(const Message& invite, std::string_view sent_by, std::string_view transport = "UDP") const;

  // §12.2.2: a request from the peer must have a higher CSeq than the last one (else 500).
  bool accept_remote_cseq(std::uint32_t cseq);
  // Whether a message belongs to this dialog (Call-ID and both tags, seen from either side).
  bool matches(const Message& m) const;

 private:
  MessageBuilder build(std::string_view method, std::uint32_t cseq, std::string_view sent_by,
                       std::string_view transport, const std::string& branch) const;
};

// A request outside any dialog (INVITE, SUBSCRIBE, MESSAGE, OPTIONS, ...): a new Call-ID, a
// From tag, CSeq 1, our Via with a fresh branch, Max-Forwards 70 and a Contact. The dialog
// comes from its answer (Dialog::as_uac).
MessageBuilder out_of_dialog_request(std::string_view method, std::string_view request_uri, std::string_view from,
                                     std::string_view to, std::string_view contact, std::string_view sent_by,
                                     std::string_view transport = "UDP");
// RFC 6665 SUBSCRIBE to an event package (e.g. emergency-QueueState) for `expires` seconds.
MessageBuilder subscribe(std::string_view request_uri, std::string_view from, std::string_view contact,
                         std::string_view event, unsigned expires, std::string_view sent_by,
                         std::string_view transport = "UDP");

// RFC 6665 NOTIFY within a subscription dialog: Event and Subscription-State
// ("active;expires=3600", "terminated;reason=timeout").
MessageBuilder notify(Dialog& dialog, std::string_view event, std::string_view subscription_state,
                      std::string_view content_type, std::string_view body, std::string_view sent_by,
                      std::string_view transport = "UDP");

}  // namespace ng911::sip
