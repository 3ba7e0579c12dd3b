#pragma once
// The caller's location by reference (RFC 6442: a Geolocation http: or https: URI),
// dereferenced the way RFC 6753 says: a HELD (RFC 5985) locationRequest POSTed to the URI
// itself, answered by a locationResponse that carries the PIDF-LO. Anything that goes wrong
// comes back as an error value, never an exception, so that the ESRP can fall back to its
// default location and log why.
#include <chrono>
#include <cstddef>
#include <utility>  // boost/asio/awaitable.hpp in Boost 1.74 uses std::exchange without it
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "routing/pidf_lo.h"

namespace ng911::esrp {

inline constexpr const char* kHeldNs = "urn:ietf:params:xml:ns:geopriv:held";
inline constexpr const char* kHeldContentType = "application/held+xml";
// A PIDF-LO is a few kilobytes even with a polygon; an answer far beyond that comes from a
// broken or hostile LIS, and parsing it would only delay the call.
inline constexpr std::size_t kHeldMaxResponseBytes = 256 * 1024;

// RFC 5985 locationType. The request always says exact="false": for routing, the location the
// LIS has is better than a cannotProvideLiType error for the one we would have preferred.
enum class HeldLocationType { any, geodetic, civic };

struct HeldConfig {
  std::chrono::milliseconds timeout{1500};  // the whole dereference, name resolution included
  std::string ca_file;                      // for https; empty: the system's trust store
  HeldLocationType location_type = HeldLocationType::any;
};

struct HeldResult {
  std::optional<PidfLocation> location;  // the first usable location in the answer
  std::string error;     // empty on success; else "timeout", "unreachable", "bad uri", "http 404",
                         // a HELD error code (RFC 5985 section 8: requestError, xmlError,
                         // generalLisError, locationUnknown, unsupportedMessage, timeout,
                         // cannotProvideLiType, notLocatable; others passed on as the LIS wrote
                         // them), "no location" (a locationUriSet or PIDF-LO without a usable
                         // location) or "malformed: ..." (not a HELD answer)
  std::string message;   // for the log: the LIS's <message>, or what the transport said
  std::string pidf_xml;  // the PIDF-LO document as received, with the namespace declarations it
                         // inherited from the locationResponse (for the log)
  std::vector<std::string> problems;  // unusable locations inside, as parse_pidf_lo reports them
};

// The locationRequest we POST (responseTime "emergencyRouting": the LIS must answer in time
// for routing, not with its most precise fix).
std::string held_location_request(HeldLocationType type = HeldLocationType::any);

// One parser for every HELD answer: locationResponse or error. Never throws.
HeldResult parse_held_response(std::string_view body);

// Dereferences `uri` on the calling coroutine's executor, giving up after config.timeout. The
// executor must not run the coroutine on several threads at once (an io_context with one
// thread, or a strand), as for http::post.
boost::asio::awaitable<HeldResult> dereference(std::string uri, HeldConfig config);

}  // namespace ng911::esrp
