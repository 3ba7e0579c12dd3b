#include "ecrf/lost_request.h"

#include <cctype>
#include <cstring>

namespace ng911::ecrf {
namespace {

bool parse_bool(const pugi::xml_node& node, const char* attr, bool fallback) {
  auto a = node.attribute(attr);
  if (!a) return fallback;
  std::string_view v = a.value();
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  throw BadRequest(std::string("attribute ") + attr + "='" + std::string(v) + "' is not a boolean");
}

void check_shape(const pugi::xml_node& root, const ParseLimits& limits) {
  std::size_t elements = 0;
  struct Frame {
    pugi::xml_node node;
    std::size_t depth;
  };
  std::vector<Frame> stack{{root, 1}};
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (depth > limits.max_depth) throw BadRequest("the document is nested too deeply");
    if (++elements > limits.max_elements) throw BadRequest("the document has too many elements");
    for (auto c : node.children())
      if (c.type() == pugi::node_element) stack.push_back({c, depth + 1});
  }
}

std::string text_of(const pugi::xml_node& node) {
  std::string_view v = node.child_value();
  auto b = v.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = v.find_last_not_of(" \t\r\n");
  return std::string(v.substr(b, e - b + 1));
}

}  // namespace

const char* request_name(RequestKind kind) {
  switch (kind) {
    case RequestKind::find_service: return "findService";
    case RequestKind::list_services: return "listServices";
    case RequestKind::list_services_by_location: return "listServicesByLocation";
    case RequestKind::get_service_boundary: return "getServiceBoundary";
  }
  return "unknown";
}

namespace {

// Decodes one UTF-8 sequence at text[i]; returns its length, or 0 when malformed, and the code
// point in cp. Overlong forms and surrogates are malformed.
std::size_t decode_utf8(std::string_view text, std::size_t i, char32_t& cp) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = b(i);
  std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > text.size()) return 0;
  cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr char32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool xml_char(char32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
         (cp >= 0x10000 && cp <= 0x10FFFF);
}

}  // namespace

std::optional<std::size_t> first_non_xml_char(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    std::size_t len = decode_utf8(text, i, cp);
    if (len == 0 || !xml_char(cp)) return i;
    i += len;
  }
  return std::nullopt;
}

std::string xml_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    std::size_t len = decode_utf8(text, i, cp);
    if (len == 0 || !xml_char(cp)) {
      out += '?';
      i += len == 0 ? 1 : len;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

bool lower_ascii_equals(std::string_view text, std::string_view lower_case) {
  if (text.size() != lower_case.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != lower_case[i]) return false;
  return true;
}

LostRequest parse_lost_request(std::string_view body, const ParseLimits& limits) {
  if (body.empty()) throw BadRequest("empty request body");
  // pugixml checks neither the encoding nor XML's character set; LoST is UTF-8 XML 1.0.
  if (auto bad = first_non_xml_char(body))
    throw BadRequest("not well-formed XML: invalid UTF-8 or a character XML forbids at byte " + std::to_string(*bad));
  // DOCTYPE and entity declarations have no place in LoST; refusing them closes every entity
  // expansion trick before parsing.
  if (body.find("<!DOCTYPE") != std::string_view::npos || body.find("<!ENTITY") != std::string_view::npos)
    throw BadRequest("DOCTYPE and entity declarations are not allowed");
  LostRequest req;
  req.document = std::make_unique<pugi::xml_document>();
  auto result = req.document->load_buffer(body.data(), body.size(),
                                          pugi::parse_default,
                                          pugi::encoding_utf8);
  if (!result)
    throw BadRequest(std::string("malformed XML at offset ") + std::to_string(result.offset) + ": " + result.description());
  pugi::xml_node root = req.document->document_element();
  if (!root) throw BadRequest("no root element");
  check_shape(root, limits);
  if (namespace_uri(root) != kLostNs)
    throw BadRequest("the root element is not in the LoST namespace " + std::string(kLostNs));

  auto root_name = local_name(root);
  if (root_name == "findService") req.kind = RequestKind::find_service;
  else if (root_name == "listServices") req.kind = RequestKind::list_services;
  else if (root_name == "listServicesByLocation") req.kind = RequestKind::list_services_by_location;
  else if (root_name == "getServiceBoundary") req.kind = RequestKind::get_service_boundary;
  else throw BadRequest("unknown LoST request <" + std::string(root_name) + ">");

  for (auto c : root.children()) {
    if (c.type() != pugi::node_element) continue;
    std::string ns = namespace_uri(c);
    auto name = local_name(c);
    if (ns == kLostNs) {
      if (name == "location") {
        if (req.locations.size() == limits.max_locations) throw BadRequest("too many <location> elements");
        std::string id = c.attribute("id").value();
        if (id.empty()) throw BadRequest("a <location> needs an id attribute");
        req.locations.push_back({id, c.attribute("profile").value(), c});
      } else if (name == "service") {
        if (!req.service.empty()) throw BadRequest("more than one <service>");
        req.service = text_of(c);
        if (req.service.empty()) throw BadRequest("<service> is empty");
      } else if (name == "path") {
        for (auto via : c.children()) {
          if (via.type() != pugi::node_element) continue;
          if (namespace_uri(via) != kLostNs || local_name(via) != "via") throw BadRequest("<path> holds only <via> elements");
          std::string source = via.attribute("source").value();
          if (source.empty()) throw BadRequest("a <via> needs a source attribute");
          req.path.push_back(source);
        }
      } else {
        throw BadRequest("unexpected LoST element <" + std::string(name) + "> in <" + std::string(root_name) + ">");
      }
    } else if (ns == kNenaLostExtNs && (name == "ids" || name == "Ids")) {
      for (auto id : c.children()) {
        if (local_name(id) == "callId") req.call_id = text_of(id);
        if (local_name(id) == "incidentTrackingId") req.incident_tracking_id = text_of(id);
      }
    }
    // Other extension elements are allowed by the schema and ignored.
  }

  switch (req.kind) {
    case RequestKind::find_service:
      if (req.locations.empty()) throw BadRequest("findService needs at least one <location>");
      if (req.service.empty()) throw BadRequest("findService needs a <service>");
      req.validate_location = parse_bool(root, "validateLocation", false);
      req.recursive = parse_bool(root, "recursive", false);
      if (auto sb = root.attribute("serviceBoundary")) {
        std::string_view v = sb.value();
        if (v == "value") req.boundary_by_value = true;
        else if (v != "reference") throw BadRequest("serviceBoundary must be 'reference' or 'value'");
      }
      break;
    case RequestKind::list_services_by_location:
      if (req.locations.empty()) throw BadRequest("listServicesByLocation needs at least one <location>");
      req.recursive = parse_bool(root, "recursive", true);
      break;
    case RequestKind::list_services:
      if (!req.locations.empty()) throw BadRequest("listServices takes no <location>");
      break;
    case RequestKind::get_service_boundary:
      req.key = root.attribute("key").value();
      if (req.key.empty()) throw BadRequest("getServiceBoundary needs a key attribute");
      break;
  }
  return req;
}

}  // namespace ng911::ecrf
