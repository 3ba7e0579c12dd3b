#pragma once
// The ESRP's routing decision for an emergency call (NENA i3 ESRP, first cut): the caller's
// location from the call (PIDF-LO by value), the PSAP queue from the ECRF (LoST), then the
// service's default route and a last-resort route as failover targets; NENA's Call-Info
// identifiers and Resource-Priority added when absent. Every decision is logged.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "routing/ecrf_client.h"
#include "sip/proxy.h"

namespace ng911::esrp {

struct PolicyConfig {
  std::string esrp_id = "esrp.ng911.example";  // domain in the ids we make
  EcrfClientConfig ecrf;
  std::map<std::string, std::string> default_routes;  // service URN → SIP URI
  std::string last_resort;                            // SIP URI; empty: none
  std::string resource_priority = "esnet.1";
};

class RoutingPolicy {
 public:
  using Log = std::function<void(const std::string& json_line)>;
  RoutingPolicy(boost::asio::io_context& io, PolicyConfig config, Log log);
  // The sip::Router of the proxy.
  void route(const sip::Message& request, std::function<void(sip::Routing)> done);
  const EcrfCounters& ecrf_counters() const { return client_.counters(); }

 private:
  sip::Routing decide(const sip::Message& request, const std::string& service, const LostAnswer* answer,
                      std::string& reason) const;

  boost::asio::io_context& io_;
  PolicyConfig config_;
  EcrfClient client_;
  Log log_;
};

// The emergency service a request asks for: its urn:service Request-URI, else urn:service:sos.
std::string requested_service(const sip::Message& request);

}  // namespace ng911::esrp
