#pragma once
// LoST (RFC 5222) requests as received: parsed with pugixml, namespaces checked, attribute
// defaults of the schema applied. One parser for every request type.
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "ecrf/xml_names.h"

namespace ng911::ecrf {

inline constexpr const char* kLostNs = "urn:ietf:params:xml:ns:lost1";
// NENA i3's LoST extension carrying the call's identifiers.
inline constexpr const char* kNenaLostExtNs = "urn:nena:xml:ns:lostExt";

// A request the server cannot take: LoST's badRequest, with a message for the client.
class BadRequest : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class RequestKind { find_service, list_services, list_services_by_location, get_service_boundary };
const char* request_name(RequestKind kind);

struct RequestLocation {
  std::string id;
  std::string profile;
  pugi::xml_node node;  // the <location> element, in LostRequest::document
};

struct LostRequest {
  RequestKind kind = RequestKind::find_service;
  std::string service;            // empty when absent
  std::vector<std::string> path;  // via sources, in order
  std::vector<RequestLocation> locations;
  bool validate_location = false;  // findService
  bool boundary_by_value = false;  // findService serviceBoundary="value"
  bool recursive = false;          // findService default false, listServicesByLocation default true
  std::string key;                 // getServiceBoundary
  std::string call_id, incident_tracking_id;  // NENA lostExt
  std::unique_ptr<pugi::xml_document> document;
};

struct ParseLimits {
  std::size_t max_depth = 64;
  std::size_t max_elements = 20000;
  std::size_t max_locations = 16;
};

// Throws BadRequest. No DTD, no external entities: pugixml is used without parse_doctype, and
// a document carrying a DOCTYPE is refused outright.
LostRequest parse_lost_request(std::string_view body, const ParseLimits& limits = {});

bool lower_ascii_equals(std::string_view text, std::string_view lower_case);
// Where `text` is not well-formed UTF-8 or holds a character XML 1.0 forbids: the byte offset.
std::optional<std::size_t> first_non_xml_char(std::string_view text);
// `text` with every invalid UTF-8 sequence and XML-forbidden character replaced by '?', fit to
// be copied into an answer.
std::string xml_safe(std::string_view text);

}  // namespace ng911::ecrf
