#pragma once
// The NOTIFY body of NENA i3's emergency-QueueState event package (NENA-STA-010.3 §4.2.1.3,
// Appendix E.11.3.3): a JSON object
//   {"queueState": {"queueUri": "sip:...", "queueLength": 3, "queueMaxLength": 10, "state": "Active"}}
// One writer (the PSAP endpoint, the notifier) and one parser (the ESRP, the subscriber).
#include <stdexcept>
#include <string>
#include <string_view>

#include "queue/queue_state.h"

namespace ng911::esrp {

// The event package named in Event of SUBSCRIBE and NOTIFY.
inline constexpr std::string_view kQueueStateEvent = "emergency-QueueState";
// The NOTIFY body's media type, as NENA registers it (media types compare case-insensitively).
inline constexpr std::string_view kQueueStateContentType = "application/EmergencyCallData.QueueState+json";

struct QueueStateBody {
  std::string queue_uri;                     // queueUri: the queue's SIP URI
  QueueStatus state = QueueStatus::active;   // state
  unsigned queue_length = 0;                 // queueLength: calls now in the queue
  unsigned max_length = 0;                   // queueMaxLength: calls the queue can hold
};

// Bad input to parse_queue_state_body; what() names the member and what is wrong with it.
class QueueStateBodyError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Reads a NOTIFY body. The four members are required; others are ignored (later versions of
// the standard may add some). The members written flat at the top level, without the
// "queueState" object, are read too: some notifiers write them so, and misreading a PSAP's
// "Full" would send calls to it. Throws QueueStateBodyError on anything else.
QueueStateBody parse_queue_state_body(std::string_view json);
// Writes the body NENA specifies, members in the standard's order.
std::string queue_state_body(const QueueStateBody& body);

}  // namespace ng911::esrp
