#include "ecrf/ecrf.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>
#include <sstream>

#include "gis/field_checks.h"

namespace ng911::ecrf {
namespace {

constexpr const char* kCrs4326 = "urn:ogc:def:crs:EPSG::4326";

std::string utc_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// xs:token: no leading, trailing or repeated spaces, no line breaks; only characters XML allows.
std::string token(std::string_view raw) {
  std::string safe = xml_safe(raw);
  std::string_view s = safe;
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// urn:service:sos.police → urn:service:sos; a top-level service has no parent.
std::string parent_service(const std::string& urn) {
  for (std::string_view prefix : {"urn:service:", "urn:emergency:service:"})
    if (urn.starts_with(prefix)) {
      auto dot = urn.rfind('.');
      if (dot == std::string::npos || dot < prefix.size()) return {};
      return urn.substr(0, dot);
    }
  return {};
}

std::string top_level_service(const std::string& urn) {
  for (std::string_view prefix : {"urn:service:", "urn:emergency:service:"})
    if (urn.starts_with(prefix)) {
      auto dot = urn.find('.', prefix.size());
      return dot == std::string::npos ? urn : urn.substr(0, dot);
    }
  return urn;
}

struct Warning {
  std::string name, message;
};

class Document {
 public:
  explicit Document(const char* root_name) {
    root_ = doc_.append_child(root_name);
    root_.append_attribute("xmlns") = kLostNs;
  }
  pugi::xml_node root() { return root_; }
  std::string str() const {
    std::ostringstream s;
    doc_.save(s, "", pugi::format_raw, pugi::encoding_utf8);
    return s.str();
  }

 private:
  pugi::xml_document doc_;
  pugi::xml_node root_;
};

void add_message(pugi::xml_node node, const std::string& message, const std::string& lang) {
  if (message.empty()) return;
  node.append_attribute("message") = token(message).c_str();
  node.append_attribute("xml:lang") = lang.c_str();
}

void add_path(pugi::xml_node parent, const std::vector<std::string>& path, const std::string& self) {
  auto p = parent.append_child("path");
  for (const auto& via : path) p.append_child("via").append_attribute("source") = via.c_str();
  p.append_child("via").append_attribute("source") = self.c_str();
}

void add_warnings(pugi::xml_node parent, const std::vector<Warning>& warnings, const EcrfConfig& cfg) {
  if (warnings.empty()) return;
  auto w = parent.append_child("warnings");
  w.append_attribute("source") = cfg.server_id.c_str();
  for (const auto& warning : warnings) add_message(w.append_child(warning.name.c_str()), warning.message, cfg.language);
}

std::string pos_list(const bg::model::ring<Point>& ring) {
  std::string out;
  char buf[64];
  for (const auto& p : ring) {
    std::snprintf(buf, sizeof buf, "%s%.7f %.7f", out.empty() ? "" : " ", p.y(), p.x());  // latitude first
    out += buf;
  }
  return out;
}

// One <serviceBoundary profile="geodetic-2d"> per polygon of the boundary (RFC 5491 has no
// multi-polygon shape).
void add_boundary_by_value(pugi::xml_node parent, const Boundary& b) {
  for (const auto& poly : b.geom) {
    auto sb = parent.append_child("serviceBoundary");
    sb.append_attribute("profile") = "geodetic-2d";
    auto gml = sb.append_child("gml:Polygon");
    gml.append_attribute("xmlns:gml") = kGmlNs;
    gml.append_attribute("srsName") = kCrs4326;
    gml.append_child("gml:exterior").append_child("gml:LinearRing").append_child("gml:posList").text() =
        pos_list(poly.outer()).c_str();
    for (const auto& inner : poly.inners())
      gml.append_child("gml:interior").append_child("gml:LinearRing").append_child("gml:posList").text() =
          pos_list(inner).c_str();
  }
}

bool is_service_number(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '*' || c == '#'; });
}

struct ResolvedService {
  std::string provided;  // the requested URN, or the ancestor that is served instead
  std::string gis_urn;   // the ServiceURN of the boundaries (empty: only a default mapping)
  bool substituted = false;
};

struct ChosenLocation {
  const RequestLocation* location = nullptr;
  std::string profile;
};

std::string infer_profile(const RequestLocation& loc) {
  if (!loc.profile.empty()) return loc.profile;
  for (auto c : loc.node.children()) {
    if (c.type() != pugi::node_element) continue;
    std::string ns = namespace_uri(c);
    if (ns == kGmlNs || ns == kGeoShapeNs) return "geodetic-2d";
    if (ns == kCivicNs) return "civic";
  }
  return "unknown";
}

// <errors><locationProfileUnrecognized unsupportedProfiles="..."/> for requests whose
// locations all use profiles we do not know.
std::string profile_unrecognized(const std::vector<std::string>& unsupported, const EcrfConfig& cfg) {
  Document d("errors");
  d.root().append_attribute("source") = cfg.server_id.c_str();
  auto e = d.root().append_child("locationProfileUnrecognized");
  std::string list;
  for (const auto& p : unsupported) list += (list.empty() ? "" : " ") + p;
  e.append_attribute("unsupportedProfiles") = list.c_str();
  add_message(e, "no supported location profile (geodetic-2d, civic)", cfg.language);
  return d.str();
}

// Where a location leads: a point, or an area to overlap with boundaries.
struct Place {
  std::optional<LonLat> point;
  MultiPolygon area;
  std::string method;
  std::optional<CivicMatch> civic;
};

}  // namespace

Ecrf::Ecrf(EcrfConfig config, SnapshotSource snapshot)
    : config_(std::move(config)), snapshot_(std::move(snapshot)), started_at_(utc_time(std::time(nullptr))) {}

std::string Ecrf::error_document(const std::string& error, const std::string& message) const {
  Document d("errors");
  d.root().append_attribute("source") = config_.server_id.c_str();
  add_message(d.root().append_child(error.c_str()), message, config_.language);
  return d.str();
}

std::string Ecrf::peer_timeout(const std::string& peer_id) const {
  return error_document("serverTimeout", "no answer in time from " + peer_id);
}

std::string Ecrf::peer_failed(const std::string& peer_id, const std::string& why) const {
  return error_document("serverError", peer_id + " failed: " + why);
}

EcrfResult Ecrf::handle(std::string_view body, QueryOutcome& out) const {
  LostRequest req;
  try {
    req = parse_lost_request(body);
  } catch (const BadRequest& e) {
    out.result = "badRequest";
    return Answer{error_document("badRequest", e.what())};
  }
  out.request = request_name(req.kind);
  out.service = req.service;
  out.call_id = req.call_id;
  out.incident_tracking_id = req.incident_tracking_id;
  if (std::find(req.path.begin(), req.path.end(), config_.server_id) != req.path.end()) {
    out.result = "loop";
    return Answer{error_document("loop", "this request has already passed through " + config_.server_id)};
  }
  auto snap = snapshot_();
  if (!snap) {
    out.result = "internalError";
    return Answer{error_document("internalError", "no published data loaded yet")};
  }
  try {
    switch (req.kind) {
      case RequestKind::find_service: return find_service(req, *snap, out);
      case RequestKind::list_services: return list_services(req, *snap, out);
      case RequestKind::list_services_by_location: return list_services_by_location(req, *snap, out);
      case RequestKind::get_service_boundary: return get_service_boundary(req, *snap, out);
    }
  } catch (const LocationInvalid& e) {
    out.result = "locationInvalid";
    return Answer{error_document("locationInvalid", e.what())};
  } catch (const BadRequest& e) {
    out.result = "badRequest";
    return Answer{error_document("badRequest", e.what())};
  } catch (const std::exception& e) {
    // A library (geometry, XML) refusing what our checks let through: the client gets LoST's own
    // error for it, and the server goes on answering others.
    out.result = "internalError";
    return Answer{error_document("internalError", std::string("the request could not be answered: ") + e.what())};
  }
  out.result = "internalError";
  return Answer{error_document("internalError", "unhandled request")};
}

namespace {

// The first location with a profile we support; LoST's rule for several <location>s.
std::optional<ChosenLocation> choose_location(const LostRequest& req, std::vector<std::string>& unsupported) {
  for (const auto& loc : req.locations) {
    std::string profile = infer_profile(loc);
    if (profile == "geodetic-2d" || profile == "civic") return ChosenLocation{&loc, profile};
    std::string t = token(profile);
    std::replace(t.begin(), t.end(), ' ', '_');
    unsupported.push_back(t);
  }
  return std::nullopt;
}

Place place_of(const ChosenLocation& chosen, const Snapshot& snap, int segments, QueryOutcome& out) {
  Place place;
  out.location_id = chosen.location->id;
  out.profile = chosen.profile;
  if (chosen.profile == "geodetic-2d") {
    GeodeticShape shape = parse_geodetic(chosen.location->node);
    out.shape = shape_name(shape);
    if (auto* p = std::get_if<GeoPoint>(&shape)) {
      place.point = p->pos;
    } else {
      place.area.push_back(to_bg(to_polygon(shape, segments)));
      if (!bg::is_valid(place.area)) throw LocationInvalid(std::string(shape_name(shape)) + " is not a valid area (self-intersecting?)");
    }
    return place;
  }
  CivicAddress civic = parse_civic(chosen.location->node);
  out.shape = "civicAddress";
  CivicMatch m = snap.civic().match(civic);
  place.method = out.method = m.method;
  if (m.point) place.point = m.point;
  else if (m.area) place.area = m.area->geom;
  place.civic = std::move(m);
  return place;
}

MultiPolygon as_area(const Place& place) {
  if (!place.area.empty()) return place.area;
  MultiPolygon tiny;
  if (place.point) {
    // A point as a degenerate box, enough for intersects().
    Polygon p;
    const double e = 1e-9;
    p.outer() = {{place.point->lon - e, place.point->lat - e}, {place.point->lon - e, place.point->lat + e},
                 {place.point->lon + e, place.point->lat + e}, {place.point->lon + e, place.point->lat - e},
                 {place.point->lon - e, place.point->lat - e}};
    tiny.push_back(p);
  }
  return tiny;
}

const Peer* peer_for(const std::vector<Peer>& peers, const Place& place) {
  for (const auto& peer : peers) {
    if (place.point && bg::covered_by(Point(place.point->lon, place.point->lat), peer.region)) return &peer;
    if (!place.area.empty() && bg::intersects(place.area, peer.region)) return &peer;
  }
  return nullptr;
}

std::string with_our_via(const LostRequest& req, const std::string& self) {
  pugi::xml_node root = req.document->document_element();
  // <path> goes after <service> (commonRequestPattern), which follows the locations.
  pugi::xml_node path, after;
  for (auto c : root.children()) {
    if (c.type() != pugi::node_element || namespace_uri(c) != kLostNs) continue;
    if (local_name(c) == "path") path = c;
    if (local_name(c) == "service" || local_name(c) == "location") after = c;
  }
  if (!path) {
    std::string prefix;
    std::string_view rn(root.name());
    if (auto colon = rn.find(':'); colon != std::string_view::npos) prefix = std::string(rn.substr(0, colon + 1));
    path = after ? root.insert_child_after((prefix + "path").c_str(), after) : root.prepend_child((prefix + "path").c_str());
  }
  std::string via_name = std::string(path.name()).substr(0, std::string(path.name()).find(':') + 1);
  if (via_name.find(':') == std::string::npos) via_name.clear();
  path.append_child((via_name + "via").c_str()).append_attribute("source") = self.c_str();
  std::ostringstream s;
  req.document->save(s, "", pugi::format_raw, pugi::encoding_utf8);
  return s.str();
}

}  // namespace

EcrfResult Ecrf::find_service(const LostRequest& req, const Snapshot& snap, QueryOutcome& out) const {
  std::vector<std::string> unsupported;
  auto chosen = choose_location(req, unsupported);
  if (!chosen) {
    out.result = "locationProfileUnrecognized";
    return Answer{profile_unrecognized(unsupported, config_)};
  }
  if (gis::check_service_urn(req.service)) {
    out.result = "serviceNotImplemented";
    return Answer{error_document("serviceNotImplemented", "'" + req.service + "' is not a service URN")};
  }

  // Which boundaries serve the requested service: its own, or its nearest ancestor's.
  const std::string requested = lower(req.service);
  std::optional<ResolvedService> resolved;
  for (std::string s = requested; !s.empty() && !resolved; s = parent_service(s)) {
    std::string gis_urn = config_.service_aliases.contains(s) ? config_.service_aliases.at(s) : s;
    if (snap.has_service(gis_urn)) resolved = ResolvedService{s, gis_urn, s != requested};
    else if (snap.has_service(s)) resolved = ResolvedService{s, s, s != requested};
    else if (config_.default_mappings.contains(s)) resolved = ResolvedService{s, "", s != requested};
  }
  if (!resolved) {
    out.result = "serviceNotImplemented";
    return Answer{error_document("serviceNotImplemented", "no boundaries for " + req.service + " or a parent service")};
  }
  std::vector<Warning> warnings;
  if (resolved->substituted) {
    out.substituted = true;
    warnings.push_back({"serviceSubstitution", req.service + " has no boundaries of its own; answering for " + resolved->provided});
  }

  Place place = place_of(*chosen, snap, config_.shape_segments, out);
  const Boundary* boundary = nullptr;
  if (!resolved->gis_urn.empty()) {
    if (place.point) boundary = snap.at_point(resolved->gis_urn, *place.point);
    else if (!place.area.empty()) boundary = snap.best_overlap(resolved->gis_urn, place.area);
  }

  if (!boundary) {
    if (const Peer* peer = peer_for(config_.peers, place)) {
      if (req.recursive) {
        out.result = "forward";
        return Forward{peer->id, peer->uri, with_our_via(req, config_.server_id)};
      }
      out.result = "redirect";
      Document d("redirect");
      d.root().append_attribute("target") = peer->id.c_str();
      d.root().append_attribute("source") = config_.server_id.c_str();
      add_message(d.root(), "the location is served by " + peer->id, config_.language);
      return Answer{d.str()};
    }
  }

  const DefaultMapping* fallback = nullptr;
  if (!boundary) {
    auto it = config_.default_mappings.find(resolved->provided);
    if (it == config_.default_mappings.end()) it = config_.default_mappings.find(requested);
    if (it == config_.default_mappings.end()) {
      out.result = "notFound";
      std::string why = place.point || !place.area.empty() ? "no " + resolved->provided + " boundary covers the location"
                                                          : "the civic address matches no published address or area";
      return Answer{error_document("notFound", why)};
    }
    fallback = &it->second;
    out.default_mapping = true;
    warnings.push_back({"defaultMappingReturned", "no boundary covers the location; the default route is returned"});
  }

  Document d("findServiceResponse");
  auto mapping = d.root().append_child("mapping");
  // Attribute order is free; elements follow the schema's order.
  std::time_t now = std::time(nullptr);
  std::string expires = config_.expires;
  if (expires != "NO-CACHE" && expires != "NO-EXPIRATION") {
    expires = utc_time(now + std::stol(config_.expires));
    if (boundary && boundary->expires && *boundary->expires < expires) expires = *boundary->expires;
  }
  mapping.append_attribute("expires") = expires.c_str();
  mapping.append_attribute("lastUpdated") = boundary ? boundary->last_updated.c_str() : started_at_.c_str();
  mapping.append_attribute("source") = config_.server_id.c_str();
  mapping.append_attribute("sourceId") = boundary ? token(boundary->es_nguid).c_str() : ("default." + token(resolved->provided)).c_str();
  // Always a displayName: some clients (Kamailio 5.6's lost module) fail without one.
  auto display = boundary ? boundary->display_name : fallback->display_name;
  if (display.empty()) display = boundary ? boundary->agency_id : fallback->uri;
  {
    auto dn = mapping.append_child("displayName");
    dn.text() = display.c_str();
    dn.append_attribute("xml:lang") = config_.language.c_str();
  }
  mapping.append_child("service").text() = resolved->provided.c_str();
  if (boundary) {
    if (req.boundary_by_value) {
      add_boundary_by_value(mapping, *boundary);
    } else {
      auto ref = mapping.append_child("serviceBoundaryReference");
      ref.append_attribute("source") = config_.server_id.c_str();
      ref.append_attribute("key") = token(boundary->es_nguid).c_str();
    }
  }
  out.uri = boundary ? boundary->uri : fallback->uri;
  mapping.append_child("uri").text() = out.uri.c_str();
  if (boundary && is_service_number(boundary->service_number))
    mapping.append_child("serviceNumber").text() = boundary->service_number.c_str();

  if (req.validate_location) {
    if (place.civic) {
      auto lv = d.root().append_child("locationValidation");
      lv.append_attribute("xmlns:civ") = kCivicNs;
      lv.append_attribute("xmlns:ext") = kCivicExtNs;
      auto list = [&](const char* name, const std::vector<std::string>& names) {
        if (names.empty()) return;
        std::string text;
        for (const auto& n : names) text += (text.empty() ? "" : " ") + (n.starts_with("ext:") ? n : "civ:" + n);
        lv.append_child(name).text() = text.c_str();
      };
      list("valid", place.civic->valid);
      list("invalid", place.civic->invalid);
      list("unchecked", place.civic->unchecked);
    }
    // Geodetic locations are not validated. RFC 5222 defines locationValidationUnavailable for
    // this, but its schema (Appendix A) leaves it out of the warnings container, so sending it
    // would make the response invalid; the absence of <locationValidation> says the same.
  }
  add_warnings(d.root(), warnings, config_);
  add_path(d.root(), req.path, config_.server_id);
  d.root().append_child("locationUsed").append_attribute("id") = chosen->location->id.c_str();
  out.result = "mapping";
  return Answer{d.str()};
}

namespace {

// Service URNs as clients know them: each served GIS URN, and each alias whose target is served.
std::set<std::string> exposed_services(const std::vector<std::string>& gis_services, const EcrfConfig& cfg,
                                       const std::set<std::string>* only = nullptr) {
  std::set<std::string> out;
  for (const auto& s : gis_services) out.insert(s);
  for (const auto& [alias, target] : cfg.service_aliases)
    if (std::find(gis_services.begin(), gis_services.end(), target) != gis_services.end()) out.insert(alias);
  if (!only)
    for (const auto& [service, mapping] : cfg.default_mappings) out.insert(service);
  return out;
}

}  // namespace

EcrfResult Ecrf::list_services(const LostRequest& req, const Snapshot& snap, QueryOutcome& out) const {
  auto all = exposed_services(snap.services(), config_);
  std::set<std::string> listed;
  const std::string parent = lower(req.service);
  for (const auto& s : all) {
    if (parent.empty()) listed.insert(top_level_service(s));
    else if (s.starts_with(parent + ".")) listed.insert(s);
  }
  if (!parent.empty() && listed.empty() && !all.contains(parent)) {
    out.result = "serviceNotImplemented";
    return Answer{error_document("serviceNotImplemented", "no services under " + req.service)};
  }
  Document d("listServicesResponse");
  std::string text;
  for (const auto& s : listed) text += (text.empty() ? "" : " ") + s;
  d.root().append_child("serviceList").text() = text.c_str();
  add_path(d.root(), req.path, config_.server_id);
  out.result = "serviceList";
  return Answer{d.str()};
}

EcrfResult Ecrf::list_services_by_location(const LostRequest& req, const Snapshot& snap, QueryOutcome& out) const {
  std::vector<std::string> unsupported;
  auto chosen = choose_location(req, unsupported);
  if (!chosen) {
    out.result = "locationProfileUnrecognized";
    return Answer{profile_unrecognized(unsupported, config_)};
  }
  Place place = place_of(*chosen, snap, config_.shape_segments, out);
  auto here = snap.services_at(as_area(place));
  std::set<std::string> here_set(here.begin(), here.end());
  auto exposed = exposed_services(here, config_, &here_set);
  const std::string parent = lower(req.service);
  std::set<std::string> listed;
  for (const auto& s : exposed) {
    if (parent.empty()) {
      listed.insert(req.recursive ? s : top_level_service(s));
    } else if (s.starts_with(parent + ".")) {
      // Non-recursive: direct children only.
      auto rest = s.substr(parent.size() + 1);
      listed.insert(req.recursive || rest.find('.') == std::string::npos ? s : parent + "." + rest.substr(0, rest.find('.')));
    }
  }
  Document d("listServicesByLocationResponse");
  std::string text;
  for (const auto& s : listed) text += (text.empty() ? "" : " ") + s;
  d.root().append_child("serviceList").text() = text.c_str();
  add_path(d.root(), req.path, config_.server_id);
  d.root().append_child("locationUsed").append_attribute("id") = chosen->location->id.c_str();
  out.result = "serviceList";
  return Answer{d.str()};
}

EcrfResult Ecrf::get_service_boundary(const LostRequest& req, const Snapshot& snap, QueryOutcome& out) const {
  const Boundary* b = snap.by_key(req.key);
  if (!b) {
    out.result = "notFound";
    return Answer{error_document("notFound", "no service boundary with key " + req.key)};
  }
  Document d("getServiceBoundaryResponse");
  add_boundary_by_value(d.root(), *b);
  add_path(d.root(), req.path, config_.server_id);
  out.result = "boundary";
  return Answer{d.str()};
}

}  // namespace ng911::ecrf
