#include "call_view.h"

#include <sstream>

#include <pugixml.hpp>

#include "ecrf/xml_names.h"
#include "sip/body.h"
#include "sip/text.h"

namespace ng911::psap {

namespace {

using nlohmann::json;

json ring_json(const ecrf::Ring& ring) {
  json out = json::array();
  for (const auto& p : ring) out.push_back({p.lon, p.lat});
  return out;
}

// The uncertainty shape itself, for the map: a point stays a point; circles, ellipses and arc
// bands become the polygon the ESRP's geometry lays out on the ellipsoid.
json geojson_of(const ecrf::GeodeticShape& shape) {
  if (const auto* point = std::get_if<ecrf::GeoPoint>(&shape))
    return {{"type", "Point"}, {"coordinates", {point->pos.lon, point->pos.lat}}};
  ecrf::GeoPolygon polygon = ecrf::to_polygon(shape, 48);
  json rings = json::array({ring_json(polygon.exterior)});
  for (const auto& hole : polygon.interiors) rings.push_back(ring_json(hole));
  return {{"type", "Polygon"}, {"coordinates", rings}};
}

std::optional<double> uncertainty_m(const ecrf::GeodeticShape& shape) {
  if (const auto* c = std::get_if<ecrf::GeoCircle>(&shape)) return c->radius_m;
  if (const auto* e = std::get_if<ecrf::GeoEllipse>(&shape)) return e->semi_major_m;
  if (const auto* a = std::get_if<ecrf::GeoArcBand>(&shape)) return a->outer_m;
  return std::nullopt;
}

std::string address_line(const ecrf::CivicAddress& civic) {
  auto get = [&](const char* name) {
    const std::string* v = civic.get(name);
    return v ? *v : std::string();
  };
  std::string street;
  for (const char* part : {"HNO", "HNS", "PRD", "RD", "STS", "POD"}) {
    std::string v = get(part);
    if (v.empty()) continue;
    if (!street.empty()) street += " ";
    street += v;
  }
  std::string line = street;
  for (const char* part : {"A3", "A1", "PC", "country"}) {
    std::string v = get(part);
    if (v.empty()) continue;
    if (!line.empty()) line += ", ";
    line += v;
  }
  return line;
}

std::string purpose_of(const sip::NameAddr& info) {
  const sip::Param* p = info.param("purpose");
  return p ? std::string(sip::unquote(p->value)) : std::string();
}

// "sip:+15125550100@host" → "+15125550100"; "tel:+1512..." → "+1512...".
std::string number_of(const sip::Uri& uri) {
  if (uri.scheme == sip::Scheme::tel) return std::string(uri.number);
  if (uri.is_sip() && !uri.user.empty()) return std::string(uri.user);
  return std::string(uri.text);
}

}  // namespace

json location_json(const esrp::PidfLocation& location, std::string_view source) {
  json out = {{"source", source}, {"profile", location.profile}, {"method", location.method}};
  if (const auto* shape = std::get_if<ecrf::GeodeticShape>(&location.value)) {
    auto point = ecrf::reference_point(*shape);
    out["shape"] = ecrf::shape_name(*shape);
    out["lat"] = point.lat;
    out["lon"] = point.lon;
    auto u = uncertainty_m(*shape);
    out["uncertainty_m"] = u ? json(*u) : json(nullptr);
    // RFC 7459 §5.2: 95% when a shape with an uncertainty states no confidence.
    out["confidence"] = location.confidence ? json(*location.confidence) : (u ? json(95) : json(nullptr));
    out["geojson"] = geojson_of(*shape);
  } else if (const auto* civic = std::get_if<ecrf::CivicAddress>(&location.value)) {
    json elements = json::object();
    for (const auto& [name, value] : civic->elements) elements[name] = value;
    out["civic"] = elements;
    out["address"] = address_line(*civic);
  }
  return out;
}

json location_json(const esrp::CallLocation& location) {
  json out = location.location ? location_json(*location.location, "value") : json::object();
  out["references"] = location.references;
  out["problems"] = location.problems;
  return out;
}

CallView call_view_of(const sip::Message& request) {
  CallView v;
  try {
    auto from = request.from();
    v.caller_uri = std::string(from.uri.text);
    v.caller_name = std::string(sip::unquote(from.display_name));
    v.callback = number_of(from.uri);
  } catch (const sip::SyntaxError&) {
  }
  for (const auto& h : request.headers()) {
    if (!sip::iequals(h.name, "P-Asserted-Identity")) continue;
    try {
      auto pai = sip::parse_name_addr_list(h.value);
      // A tel: identity is the number to call back; a sip: one only when no tel: is given.
      for (const auto& id : pai)
        if (id.uri.scheme == sip::Scheme::tel || v.callback == v.caller_uri) v.callback = number_of(id.uri);
      if (!pai.empty() && pai.front().uri.scheme == sip::Scheme::tel) v.callback = number_of(pai.front().uri);
    } catch (const sip::SyntaxError&) {
    }
  }
  auto service_in = [](std::string_view uri) { return uri.starts_with("urn:service:sos"); };
  std::string ruri(request.request_uri());
  std::string to;
  try {
    to = std::string(request.to().uri.text);
  } catch (const sip::SyntaxError&) {
  }
  try {
    for (const auto& h : request.history_info()) {
      json entry = {{"uri", std::string(h.uri.text)}};
      if (const sip::Param* index = h.param("index")) entry["index"] = std::string(index->value);
      // The reason a target failed travels as an escaped header of the History-Info URI.
      if (!h.uri.headers.empty()) entry["reason"] = std::string(h.uri.headers);
      v.history.push_back(entry);
      if (v.service.empty() && service_in(h.uri.text)) v.service = std::string(h.uri.text);
    }
  } catch (const sip::SyntaxError&) {
  }
  if (service_in(ruri)) v.service = ruri;
  else if (service_in(to)) v.service = to;
  if (v.service.empty()) v.service = "urn:service:sos";
  try {
    for (const auto& info : request.call_info()) {
      std::string purpose = purpose_of(info), uri = std::string(info.uri.text);
      if (sip::iequals(purpose, "emergency-CallId")) v.emergency_call_id = uri;
      else if (sip::iequals(purpose, "emergency-IncidentId")) v.incident_id = uri;
      else v.additional_data.push_back({{"purpose", purpose}, {"uri", uri}});
    }
  } catch (const sip::SyntaxError&) {
  }
  esrp::CallLocation location;
  try {
    location = esrp::location_of(request);
  } catch (const std::exception& e) {  // the call goes on without a location
    location.problems.push_back(e.what());
  }
  v.location_references = location.references;
  v.location = location_json(location);
  return v;
}

}  // namespace ng911::psap
