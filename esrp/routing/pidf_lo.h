#pragma once
// The caller's location by value: a PIDF-LO (RFC 4119, shapes of RFC 5491, civic addresses of
// RFC 5139) from the body part that a Geolocation cid: URI names (RFC 6442). The shapes and
// civic elements are parsed by the same code as LoST's locations (lost/ecrf/location.h): one
// definition of each.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "ecrf/location.h"
#include "sip/message.h"

namespace ng911::esrp {

struct PidfLocation {
  std::string profile;            // "geodetic-2d" or "civic"
  ecrf::LocationValue value;      // the parsed shape or civic address
  std::string location_info_xml;  // the <location-info> children as received, for the LoST query
  std::string method;             // <method> (GPS, Cell, Manual, ...), if given
  std::string element;            // tuple, device or person it came from
  // RFC 7459 <confidence> (percent) beside the shape, if given; not part of location_info_xml,
  // since a LoST geodetic-2d location holds the shape alone.
  std::optional<double> confidence;
};

// Every usable location in a PIDF-LO document, in document order; those that do not parse are
// reported in `problems` (one line each) and skipped. Throws ecrf::LocationInvalid only when
// the document itself is not a PIDF.
std::vector<PidfLocation> parse_pidf_lo(std::string_view xml, std::vector<std::string>& problems);

// RFC 6442 applied to an INVITE or MESSAGE: each Geolocation value in order; a cid: URI is
// looked up in the multipart body and parsed; the first usable location wins. Location by
// reference (http:, https:, sip:) is returned in `references` for dereferencing (HELD).
struct CallLocation {
  std::optional<PidfLocation> location;
  std::vector<std::string> references;
  std::vector<std::string> problems;  // why values were not usable, for the call's log
  bool routing_allowed = true;        // Geolocation-Routing: no forbids routing on it
};
CallLocation location_of(const sip::Message& request);

}  // namespace ng911::esrp
