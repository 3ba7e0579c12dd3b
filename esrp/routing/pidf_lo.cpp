#include "routing/pidf_lo.h"

#include <cstdlib>
#include <sstream>

#include "ecrf/xml_names.h"
#include "sip/body.h"
#include "sip/text.h"

namespace ng911::esrp {
namespace {

constexpr const char* kPidfNs = "urn:ietf:params:xml:ns:pidf";
constexpr const char* kGeoprivNs = "urn:ietf:params:xml:ns:pidf:geopriv10";
constexpr const char* kConfidenceNs = "urn:ietf:params:xml:ns:geopriv:conf";  // RFC 7459

void collect(const pugi::xml_node& node, std::vector<pugi::xml_node>& out) {
  for (auto c : node.children()) {
    if (c.type() != pugi::node_element) continue;
    if (ecrf::local_name(c) == "geopriv" && ecrf::namespace_uri(c) == kGeoprivNs) out.push_back(c);
    else collect(c, out);
  }
}

std::string children_xml(const pugi::xml_node& node) {
  std::ostringstream s;
  for (auto c : node.children()) c.print(s, "", pugi::format_raw);
  return s.str();
}

// The namespace declarations a copied element needs when it leaves its document.
void keep_namespaces(pugi::xml_node copy, const pugi::xml_node& original) {
  for (pugi::xml_node n = original.parent(); n; n = n.parent())
    for (auto a : n.attributes()) {
      std::string_view name(a.name());
      if ((name == "xmlns" || name.starts_with("xmlns:")) && !copy.attribute(a.name())) copy.append_attribute(a.name()) = a.value();
    }
}

}  // namespace

std::vector<PidfLocation> parse_pidf_lo(std::string_view xml, std::vector<std::string>& problems) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size()) || !doc.document_element())
    throw ecrf::LocationInvalid("the PIDF-LO is not well-formed XML");
  auto root = doc.document_element();
  if (ecrf::local_name(root) != "presence" || ecrf::namespace_uri(root) != kPidfNs)
    throw ecrf::LocationInvalid("not a PIDF document (<presence> in " + std::string(kPidfNs) + ")");
  std::vector<pugi::xml_node> geoprivs;
  collect(root, geoprivs);
  std::vector<PidfLocation> out;
  for (const auto& gp : geoprivs) {
    pugi::xml_node info, method;
    for (auto c : gp.children()) {
      if (ecrf::local_name(c) == "location-info") info = c;
      if (ecrf::local_name(c) == "method") method = c;
    }
    if (!info) {
      problems.push_back("a geopriv element without location-info");
      continue;
    }
    // Copies of the shapes with the namespace declarations they inherited, so that they parse
    // (and travel in a LoST request) on their own.
    pugi::xml_document holder;
    auto location = holder.append_child("location");
    bool civic = false;
    std::optional<double> confidence;
    bool bad_confidence = false;
    for (auto c : info.children()) {
      if (c.type() != pugi::node_element) continue;
      if (ecrf::local_name(c) == "confidence" && ecrf::namespace_uri(c) == kConfidenceNs) {
        // RFC 7459 §5.1: a percentage, 0 to 100, beside the shape it qualifies.
        char* end = nullptr;
        std::string text(sip::trim(c.child_value()));
        double v = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || !(v >= 0 && v <= 100)) bad_confidence = true;
        else confidence = v;
        continue;
      }
      auto copy = location.append_copy(c);
      keep_namespaces(copy, c);
      civic = civic || ecrf::local_name(c) == "civicAddress";
    }
    try {
      PidfLocation loc;
      loc.profile = civic ? "civic" : "geodetic-2d";
      if (civic) loc.value = ecrf::parse_civic(location);
      else loc.value = ecrf::parse_geodetic(location);
      loc.location_info_xml = children_xml(location);
      loc.method = method ? std::string(sip::trim(method.child_value())) : "";
      loc.confidence = confidence;
      if (bad_confidence) problems.push_back("a confidence that is not a percentage (RFC 7459), ignored");
      // tuple, device or person: the child of <presence> that holds this geopriv.
      pugi::xml_node holder_element = gp;
      while (holder_element.parent() && holder_element.parent() != root) holder_element = holder_element.parent();
      loc.element = std::string(ecrf::local_name(holder_element));
      out.push_back(std::move(loc));
    } catch (const ecrf::LocationInvalid& e) {
      problems.push_back(e.what());
    }
  }
  if (geoprivs.empty()) problems.push_back("the PIDF holds no geopriv location");
  return out;
}

CallLocation location_of(const sip::Message& request) {
  CallLocation result;
  if (auto routing = request.value(sip::HeaderId::geolocation_routing); sip::iequals(sip::trim(routing), "no"))
    result.routing_allowed = false;
  std::vector<sip::NameAddr> values;
  try {
    values = request.geolocation();
  } catch (const sip::SyntaxError& e) {
    result.problems.push_back(std::string("Geolocation: ") + e.what());
    return result;
  }
  std::vector<sip::BodyPart> parts;
  try {
    parts = sip::body_parts(request);
  } catch (const sip::SyntaxError& e) {
    result.problems.push_back(std::string("body: ") + e.what());
  }
  for (const auto& v : values) {
    if (sip::iequals(v.uri.scheme_name, "cid")) {
      const sip::BodyPart* part = sip::find_by_content_id(parts, v.uri.text);
      if (!part) {
        result.problems.push_back("no body part for " + std::string(v.uri.text));
        continue;
      }
      try {
        std::vector<std::string> problems;
        auto locations = parse_pidf_lo(part->body, problems);
        for (auto& p : problems) result.problems.push_back(std::string(v.uri.text) + ": " + p);
        if (!locations.empty() && !result.location) result.location = std::move(locations.front());
      } catch (const ecrf::LocationInvalid& e) {
        result.problems.push_back(std::string(v.uri.text) + ": " + e.what());
      }
    } else {
      result.references.emplace_back(v.uri.text);
    }
    if (result.location) break;
  }
  if (values.empty()) result.problems.push_back("no Geolocation header field");
  return result;
}

}  // namespace ng911::esrp
