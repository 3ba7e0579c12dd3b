#pragma once
// The ESRP's Policy Routing Function (NENA i3, NENA-STA-010 PRF): rule sets chosen per
// origination (where the call comes from) and per next-hop queue (the PSAP queue the ECRF
// named), each an ordered list of rules with conditions and actions. The rules come from a JSON
// file (docs/policy.md) that is validated strictly when loaded: a file with any problem is
// refused as a whole, so the ESRP never runs half a policy.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "queue/queue_state.h"

namespace ng911::esrp::policy {

struct RouteAction {
  std::string target;                         // SIP URI of the queue/PSAP to try
  std::chrono::milliseconds ring_timeout{0};  // 0: the ESRP's default
  std::string cause;                          // why (goes into History-Info/Reason and the log)
  std::string resource_priority;              // "esnet.0".."esnet.4" or empty: keep default
};

struct NotifyAction {
  std::string target;  // the ESRP sends a SIP MESSAGE there
  std::string message;
};

struct Decision {
  std::vector<RouteAction> routes;   // in order; empty: no route from policy (use the ECRF's answer / defaults)
  bool busy = false;                 // answer 486 Busy Here (never chosen for an emergency call while any route remains: the ESRP enforces that)
  std::vector<std::string> log;      // log action messages
  std::vector<NotifyAction> notify;
  std::vector<std::string> matched;  // "ruleSetId/ruleId" of every rule whose conditions held, in order
};

struct CallFacts {
  std::string method;                                 // INVITE, MESSAGE
  std::string service;                                // urn:service:sos.police ...
  boost::asio::ip::address source;                    // where the request came from (IP of the previous hop)
  std::string from_domain;                            // host part of From (or P-Asserted-Identity)
  std::optional<std::pair<double, double>> location;  // caller (latitude, longitude) WGS84, if known
  // Values of a SIP header (any case; compact forms are the caller's job). Unset: no headers.
  std::function<std::vector<std::string>(std::string_view header_name)> header;
  std::chrono::system_clock::time_point now;
};

// The state of a queue as the ESRP's emergency-QueueState subscription last saw it; nullopt:
// unknown. Called with the queue URI exactly as `Policy::queues()` returned it.
using QueueStateLookup = std::function<std::optional<QueueStatus>(std::string_view queue_uri)>;

namespace detail {
struct PolicyData;
}

class Policy {  // immutable once loaded; copies share the rules, and any thread may evaluate
 public:
  // Rule set for the call's origination: the first origination rule set whose `match` selects the
  // call (by source address CIDR, from domain, or the catch-all "default"). Empty Decision when
  // none does.
  Decision evaluate_origination(const CallFacts& call, const QueueStateLookup& queue_state) const;
  // Rule set for a next-hop queue (by its SIP URI, compared as `queue_key` does), or an empty
  // Decision when no rule set names that queue.
  Decision evaluate_queue(std::string_view queue_uri, const CallFacts& call, const QueueStateLookup& queue_state) const;
  // Every queue URI named anywhere (queue rule sets, queueState conditions, route targets), as
  // first written in the file, once each by `queue_key`: the ESRP subscribes to their state.
  std::vector<std::string> queues() const;
  std::size_t rule_count() const;
  // The file's "version", or "fnv1a64:" and a hash of the file's text when it has none.
  std::string version() const;

 private:
  friend Policy parse_policy(std::string_view json_text);
  explicit Policy(std::shared_ptr<const detail::PolicyData> data);
  std::shared_ptr<const detail::PolicyData> data_;
};

// Why a policy file was refused: every problem found, each "JSON.path: what is wrong".
struct PolicyError : std::runtime_error {
  explicit PolicyError(std::vector<std::string> problems, const std::string& context = {});
  std::vector<std::string> problems;
};

Policy load_policy(const std::filesystem::path& file);  // throws PolicyError listing every problem
Policy parse_policy(std::string_view json_text);         // same, from text

// What makes two queue URIs the same queue: scheme (sip/sips), user, host (case-insensitive)
// and port, as "sip:user@host:port" (port empty when absent, since RFC 3261 §19.1.4 does not
// equate an absent port with 5060); URI parameters are ignored. nullopt for anything that is
// not a sip/sips URI with a host.
std::optional<std::string> queue_key(std::string_view uri);

// Holds the running policy. reload() swaps the new file in only when it is valid (else the old
// policy stays and the problems are returned); changed_on_disk() is polled by the ESRP so that
// an edited file is picked up without a restart.
class PolicyStore {
 public:
  explicit PolicyStore(std::filesystem::path file);  // throws PolicyError if the first load fails
  std::shared_ptr<const Policy> current() const;
  // Empty when the file was loaded and is now the current policy.
  std::vector<std::string> reload();
  // True when the file's modification time, size or inode differ from those it had when it was
  // last read, good or bad: a refused file is not retried until it changes again.
  bool changed_on_disk() const;
  const std::filesystem::path& file() const { return file_; }

 private:
  struct Stamp {
    bool exists = false;
    std::int64_t mtime_ns = 0;
    std::uintmax_t size = 0;
    std::uintmax_t inode = 0;
    bool operator==(const Stamp&) const = default;
  };
  static Stamp stamp_of(const std::filesystem::path& file);

  std::filesystem::path file_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Policy> current_;
  Stamp read_;  // the file as it was when last read
};

}  // namespace ng911::esrp::policy
