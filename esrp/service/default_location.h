#pragma once
// The ESRP's default location (NENA i3: a call with no usable location is routed on a
// configured default and carries it onward, the caller's own Geolocation values kept): a
// PIDF-LO made once at start, and the body of a forwarded request with it added as a part
// that a new top-most Geolocation cid: URI names. The caller's bytes are kept as they were.
#include <string>
#include <string_view>

#include "routing/pidf_lo.h"
#include "sip/message.h"

namespace ng911::esrp {

struct DefaultLocation {
  PidfLocation location;  // parsed by the PIDF-LO parser the calls go through: one definition
  std::string pidf_xml;
};

// A PIDF-LO with a point (radius_m 0) or a circle, marked as the ESRP's default: the tuple id
// "esrp-default-location" and a note saying why it is there. Throws std::invalid_argument for
// coordinates out of range.
DefaultLocation make_default_location(double latitude, double longitude, double radius_m, std::string_view esrp_id);

struct LocationInsertion {
  std::string content_type;  // of the new body
  std::string body;
  std::string geolocation;   // the value for the new top-most Geolocation ("<cid:...>")
};
// The request's body with the PIDF-LO added under `content_id`: a part appended to a
// multipart/mixed body (same boundary, existing parts untouched), or a new multipart/mixed
// around a single body, or the PIDF-LO alone when there was no body.
LocationInsertion insert_location(const sip::Message& request, std::string_view pidf_xml, std::string_view content_id);

}  // namespace ng911::esrp
