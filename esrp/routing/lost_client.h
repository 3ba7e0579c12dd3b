#pragma once
// The ESRP's side of LoST (RFC 5222): a findService request for the caller's location, and
// the answer read back (mapping, error or redirect). Transport-free; the ESRP posts it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "routing/pidf_lo.h"

namespace ng911::esrp {

struct LostIds {
  std::string call_id, incident_tracking_id;  // NENA lostExt ids, sent when not empty
};

// findService for the location (its location-info copied as received, the way a LoST client
// forwards what the caller's device said), `service`, and NENA's ids.
std::string find_service_request(const PidfLocation& location, std::string_view service, const LostIds& ids = {},
                                 bool recursive = true);

struct LostMapping {
  std::vector<std::string> uris;  // in the server's order
  std::string display_name, service, source, source_id, expires, last_updated;
  std::vector<std::string> warnings;  // names: serviceSubstitution, defaultMappingReturned, ...
};

struct LostAnswer {
  std::optional<LostMapping> mapping;
  std::string error;          // the error's element name (notFound, serverTimeout, ...), or
                              // "malformed" when the answer is not a LoST document
  std::string message;        // its message, if any
  std::string redirect_target;
};

// Never throws: anything that is not a LoST answer comes back as error "malformed".
LostAnswer parse_find_service_answer(std::string_view body);

}  // namespace ng911::esrp
