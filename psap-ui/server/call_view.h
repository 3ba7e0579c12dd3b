#pragma once
// What a call-taker sees of a call, read from the INVITE or MESSAGE that brought it: who calls
// and how to call back, the service asked for, the NENA i3 identifiers and additional data
// (Call-Info), the route it took (History-Info) and the location (PIDF-LO by value, parsed by
// the ESRP's parser: one definition), turned into JSON for the console.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "routing/pidf_lo.h"
#include "sip/message.h"

namespace ng911::psap {

struct CallView {
  std::string caller_uri;    // From, without tag
  std::string caller_name;   // From's display name
  std::string callback;      // P-Asserted-Identity, else From: a tel: number or the user part
  std::string service;       // urn:service:sos[...] from the Request-URI, To or History-Info
  std::string emergency_call_id, incident_id;  // Call-Info purposes emergency-CallId / -IncidentId
  nlohmann::json location = nlohmann::json::object();  // location_json(); {} without any
  nlohmann::json additional_data = nlohmann::json::array();  // [{"purpose", "uri"}] of other Call-Info
  nlohmann::json history = nlohmann::json::array();          // [{"uri", "index", "reason"}] History-Info
  std::vector<std::string> location_references;              // by-reference URIs, for a rebid
};

// Never throws on bad input: a header or PIDF-LO that does not parse is left out and named in
// location["problems"], so that a malformed location never costs the call.
CallView call_view_of(const sip::Message& request);

// {"source", "profile", "method", "shape", "lat", "lon", "uncertainty_m", "confidence",
//  "geojson" (the shape as a GeoJSON geometry: Point or Polygon), "civic" {element: value},
//  "address" (one line), "references", "problems"}. `source`: "value" (PIDF-LO in the request)
// or "rebid" (HELD dereference).
nlohmann::json location_json(const esrp::PidfLocation& location, std::string_view source);
nlohmann::json location_json(const esrp::CallLocation& location);

}  // namespace ng911::psap
