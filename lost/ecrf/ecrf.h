#pragma once
// The ECRF/LVF: answers LoST requests from a published-data snapshot. It does no I/O: when the
// answer lives on another LoST server it says whom to ask (recursion) or tells the client
// (iteration, <redirect>); the HTTP layer performs the forwarding.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ecrf/geometry.h"
#include "ecrf/lost_request.h"
#include "ecrf/snapshot.h"

namespace ng911::ecrf {

// Another LoST server and the region it covers.
struct Peer {
  std::string id;   // its source name, e.g. ecrf.county.example
  std::string uri;  // where to POST, e.g. http://10.1.2.3:8180/
  MultiPolygon region;
};

struct DefaultMapping {
  std::string uri;
  std::string display_name;
};

struct EcrfConfig {
  std::string server_id = "ecrf.ng911.example";  // our LoST source name (appUniqueString)
  std::string language = "en";                   // xml:lang of displayName and messages
  // Mapping lifetime: seconds, or NO-CACHE / NO-EXPIRATION. A boundary's Expire field, when
  // earlier, wins.
  std::string expires = "3600";
  // Requested service URN → the ServiceURN of the GIS boundaries that serve it.
  std::map<std::string, std::string> service_aliases{
      {"urn:service:sos", "urn:emergency:service:sos.psap"},
  };
  std::map<std::string, DefaultMapping> default_mappings;  // per requested service URN
  std::vector<Peer> peers;
  int shape_segments = 64;
};

// What happened, for the query log and metrics.
struct QueryOutcome {
  std::string request;            // findService, ...
  std::string service;
  std::string location_id, profile, shape;
  std::string result = "error";   // mapping, serviceList, boundary, redirect, forward, or the error's name
  std::string uri;                // the mapping's URI
  std::string method;             // how a civic location was placed
  std::string call_id, incident_tracking_id;
  bool substituted = false, default_mapping = false;
};

struct Answer {
  std::string body;  // application/lost+xml
};
struct Forward {
  std::string peer_id, peer_uri;
  std::string body;  // the request with our <via> added to its <path>
};
using EcrfResult = std::variant<Answer, Forward>;

class Ecrf {
 public:
  using SnapshotSource = std::function<std::shared_ptr<const Snapshot>()>;
  Ecrf(EcrfConfig config, SnapshotSource snapshot);

  EcrfResult handle(std::string_view body, QueryOutcome& outcome) const;

  // For the HTTP layer after a Forward: a peer that did not answer in time, or answered with
  // something that is not LoST.
  std::string peer_timeout(const std::string& peer_id) const;
  std::string peer_failed(const std::string& peer_id, const std::string& why) const;
  // An <errors> document with one error, e.g. ("badRequest", "...").
  std::string error_document(const std::string& error, const std::string& message) const;

  const EcrfConfig& config() const { return config_; }

 private:
  EcrfResult find_service(const LostRequest& req, const Snapshot& snap, QueryOutcome& out) const;
  EcrfResult list_services(const LostRequest& req, const Snapshot& snap, QueryOutcome& out) const;
  EcrfResult list_services_by_location(const LostRequest& req, const Snapshot& snap, QueryOutcome& out) const;
  EcrfResult get_service_boundary(const LostRequest& req, const Snapshot& snap, QueryOutcome& out) const;

  EcrfConfig config_;
  SnapshotSource snapshot_;
  std::string started_at_;
};

}  // namespace ng911::ecrf
