#pragma once
// The ESRP's decision for each request addressed to it (NENA-STA-010 ESRP): OPTIONS answered;
// INVITE and MESSAGE routed: the caller's location (by value, by reference through HELD, else
// the default location, inserted), the origination rule set, the ECRF (LoST findService), the
// rule set of the queue it names (queue state), then the service's default route and the
// last-resort route. Each step goes to the call log and the metrics; the proxy does the rest.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>  // boost/asio/awaitable.hpp in Boost 1.74 uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "calllog/call_log.h"
#include "policy/policy.h"
#include "routing/ecrf_client.h"
#include "routing/held_client.h"
#include "service/default_location.h"
#include "service/esrp_metrics.h"
#include "sip/proxy.h"
#include "sip/resolver.h"

namespace ng911::esrp {

struct CallRouterConfig {
  std::string esrp_id = "esrp.ng911.example";  // domain in the ids we make
  EcrfClientConfig ecrf;
  HeldConfig held;
  std::map<std::string, std::string> default_routes;  // service URN → SIP URI
  std::string last_resort;                            // SIP URI; empty: none
  std::string resource_priority = "esnet.1";
  std::optional<DefaultLocation> default_location;
  // Route URIs whose host is a name are located by DNS (RFC 3263: NAPTR, SRV, A/AAAA), each place
  // found a target of its own in DNS order; null: literal addresses only.
  std::shared_ptr<sip::SipResolver> resolver;
};

// Where the router reports: one JSON object per event (the operator's log), and the call log.
struct CallRouterSinks {
  std::function<void(std::string_view event, const std::string& json_fields)> log;  // fields without braces
  CallLog* call_log = nullptr;
  EsrpMetrics* metrics = nullptr;
  policy::QueueStateLookup queue_state;  // empty: every queue's state is unknown
  // Sends the text of a notify action as SIP MESSAGE (empty: notify actions are only logged).
  std::function<void(const std::string& target, const std::string& text)> notify;
};

// The calls routed and not yet ended, by SIP Call-ID, with the identifiers their log events
// carry. Shared by the routers of all event loops, as the end of a call can reach another loop
// than its start (a PSAP's BYE over a connection of its own); safe from any thread.
class LiveCalls {
 public:
  struct Ids {
    std::string emergency_call_id, incident_id;
    std::chrono::steady_clock::time_point since;
    bool answered = false;
  };
  void add(const std::string& sip_call_id, Ids ids);
  std::optional<Ids> find(const std::string& sip_call_id) const;
  std::optional<Ids> mark_answered(const std::string& sip_call_id);
  std::optional<Ids> take(const std::string& sip_call_id);  // the call ended: forgotten
  // A call whose end never came through us (a caller that vanished) is forgotten after a day.
  void forget_started_before(std::chrono::steady_clock::time_point t);

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Ids> calls_;
};

class CallRouter {
 public:
  // `live`: the table of calls shared with the routers of other event loops (null: its own).
  CallRouter(boost::asio::io_context& io, CallRouterConfig config, std::shared_ptr<policy::PolicyStore> policies,
             CallRouterSinks sinks, std::shared_ptr<LiveCalls> live = nullptr);
  // The sip::Router of the proxy.
  void route(std::shared_ptr<const sip::Message> request, std::function<void(sip::Routing)> done);
  // The proxy's observer: retargets, answers, final responses and call ends, logged per call.
  void observe(const sip::ProxyEvent& event);
  EcrfCounters ecrf_counters() const { return ecrf_.counters(); }
  // The proxy's batch hooks (sip::ProxyConfig::batch_begin/end): the call log events of a
  // batch of received messages (several calls' INVITEs, ACKs and BYEs) are appended with one
  // spool write at its end, before the replies the batch caused leave, instead of one write
  // per call step. Outside a batch (a LoST answer, a timer) events are appended at once.
  void begin_batch() { batching_ = true; }
  void end_batch();

 private:
  using CallIds = LiveCalls::Ids;
  boost::asio::awaitable<void> decide(std::shared_ptr<const sip::Message> request,
                                      std::function<void(sip::Routing)> done);
  // Events of one moment of a call, appended to the call log with one write when the routing
  // decision waits (HELD, LoST) or ends, or when it is dropped (an exception).
  class PendingEvents {
   public:
    explicit PendingEvents(CallRouter& router) : router_(router) {}
    ~PendingEvents();
    PendingEvents(const PendingEvents&) = delete;
    PendingEvents& operator=(const PendingEvents&) = delete;
    void add(CallEvent e) { events_.push_back(std::move(e)); }
    void flush();

   private:
    CallRouter& router_;
    std::vector<CallEvent> events_;
  };
  // To the call log now, or at the end of the batch under way.
  void append_events(std::vector<CallEvent> events);
  // Into `pending` when given, else straight into the call log.
  void record(std::string_view kind, const std::string& sip_call_id, const CallIds& ids, std::string detail_json,
              PendingEvents* pending = nullptr);
  void forget_old_calls();

  boost::asio::io_context& io_;
  CallRouterConfig config_;
  std::shared_ptr<policy::PolicyStore> policies_;
  CallRouterSinks sinks_;
  EcrfClient ecrf_;
  std::shared_ptr<LiveCalls> calls_;
  std::chrono::steady_clock::time_point last_sweep_;
  bool batching_ = false;
  std::vector<CallEvent> batch_events_;
};

// The emergency service a request asks for: its urn:service Request-URI, else urn:service:sos.
std::string requested_service(const sip::Message& request);
// Whether a request is an emergency call (urn:service:sos or a sub-service, or Resource-Priority
// in NENA's esnet namespace): never shed under overload.
bool is_emergency(const sip::Message& request);
// JSON string escaping for log fields.
std::string json_escape(std::string_view s);

}  // namespace ng911::esrp
