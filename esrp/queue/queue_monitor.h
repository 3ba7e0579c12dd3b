#pragma once
// The ESRP's subscriptions to its PSAP queues' state (NENA i3 emergency-QueueState, RFC 6665):
// a SUBSCRIBE to each queue, its NOTIFYs read into QueueStatus, queue length and maximum, the
// subscription refreshed before it expires. A queue whose subscription cannot be made, fails
// or lapses is Unreachable and subscribed again later, with backoff, so that the policy routes
// around it meanwhile and sees it come back.
//
// The monitor has a SIP transport of its own (its own port), so that subscriptions neither
// depend on nor disturb the proxy's. Everything runs on the io_context it is given: call it
// from that loop's thread only.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "queue/queue_state.h"
#include "sip/transaction.h"
#include "sip/transport.h"

namespace ng911::esrp {

struct QueueMonitorConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;             // 0: any free port
  std::vector<std::string> queues;    // SIP URIs with literal addresses (sip::endpoint_of)
  std::chrono::seconds expires{3600};  // asked for in each SUBSCRIBE; the PSAP may grant less
  // After a failure, the next SUBSCRIBE waits retry_interval, doubled after each further
  // failure up to max_retry_interval.
  std::chrono::milliseconds retry_interval{5000};
  std::chrono::milliseconds max_retry_interval{60000};
  sip::TimerConfig timers;
  std::string from_uri = "sip:esrp@127.0.0.1";
  std::optional<sip::TlsConfig> tls;  // for sips: queues
};

struct QueueInfo {
  std::string uri;                      // as configured
  std::optional<QueueStatus> status;    // nullopt: no NOTIFY yet and no failure ("unknown")
  unsigned length = 0, max_length = 0;
  std::chrono::system_clock::time_point updated;  // the last NOTIFY; epoch before the first
  bool subscribed = false;              // a subscription is in place now
  std::string reason;                   // why it is Unreachable ("timeout", "403 Forbidden", ...)
};

struct QueueMonitorCounters {
  std::uint64_t subscribes = 0, refreshes = 0, failures = 0, notifies = 0, bad_notifies = 0, unknown_notifies = 0;
};

class QueueMonitor {
 public:
  // Called on the loop after each change of a queue's status, length, maximum or subscription.
  using OnChange = std::function<void(const QueueInfo&)>;

  // Throws std::invalid_argument for a queue URI that is not a SIP URI with a literal address.
  QueueMonitor(boost::asio::io_context& io, QueueMonitorConfig config, OnChange on_change = {});
  ~QueueMonitor();
  QueueMonitor(const QueueMonitor&) = delete;
  QueueMonitor& operator=(const QueueMonitor&) = delete;

  // The queue's state by its URI (scheme, user, host and port compared; parameters ignored):
  // nullopt for an unknown queue or one with no state yet. Suits the policy's queue lookup;
  // safe from any thread (the routers of other event loops).
  std::optional<QueueStatus> status(std::string_view queue_uri) const;
  std::vector<QueueInfo> snapshot() const;
  std::uint16_t port() const;
  const QueueMonitorCounters& counters() const;

  // After a policy reload: new queues are subscribed to, dropped ones unsubscribed (Expires: 0),
  // the others keep their subscription and state. Throws like the constructor, changing nothing.
  void set_queues(std::vector<std::string> queues);
  // Whether unsubscriptions are still under way (their SUBSCRIBE unanswered, or the PSAP's
  // final NOTIFY not yet in): lets a process that drops its queues on exit wait for them.
  bool unsubscribing() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The key two queue URIs share when they name the same queue: scheme, user, host (addresses in
// their canonical form) and port (the scheme's default when absent). nullopt for a URI that is
// not sip: or sips:.
std::optional<std::string> queue_uri_key(std::string_view uri);

}  // namespace ng911::esrp
