#include "service/default_location.h"

#include <cstdio>
#include <stdexcept>

#include "sip/transaction.h"

namespace ng911::esrp {

DefaultLocation make_default_location(double latitude, double longitude, double radius_m, std::string_view esrp_id) {
  if (!(latitude >= -90 && latitude <= 90) || !(longitude >= -180 && longitude <= 180) || !(radius_m >= 0))
    throw std::invalid_argument("default location out of range (latitude -90..90, longitude -180..180, radius >= 0)");
  char pos[96];
  std::snprintf(pos, sizeof pos, "%.7f %.7f", latitude, longitude);
  std::string shape;
  if (radius_m > 0) {
    char radius[48];
    std::snprintf(radius, sizeof radius, "%.1f", radius_m);
    shape = std::string("<gs:Circle srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:pos>") + pos +
            "</gml:pos><gs:radius uom=\"urn:ogc:def:uom:EPSG::9001\">" + radius + "</gs:radius></gs:Circle>";
  } else {
    shape = std::string("<gml:Point srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:pos>") + pos + "</gml:pos></gml:Point>";
  }
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" xmlns:gp=\"urn:ietf:params:xml:ns:pidf:geopriv10\" "
      "xmlns:gml=\"http://www.opengis.net/gml\" xmlns:gs=\"http://www.opengis.net/pidflo/1.0\" entity=\"pres:" +
      std::string(esrp_id) +
      "\">\n <tuple id=\"esrp-default-location\"><status><gp:geopriv><gp:location-info>" + shape +
      "</gp:location-info><gp:usage-rules/><gp:method>Manual</gp:method></gp:geopriv></status>"
      "<note>Default location inserted by ESRP " +
      std::string(esrp_id) + ": the call had no usable location</note></tuple>\n</presence>\n";
  std::vector<std::string> problems;
  auto found = parse_pidf_lo(xml, problems);
  if (found.empty()) throw std::invalid_argument("default location: " + (problems.empty() ? "unusable" : problems.front()));
  return DefaultLocation{std::move(found.front()), std::move(xml)};
}

LocationInsertion insert_location(const sip::Message& request, std::string_view pidf_xml, std::string_view content_id) {
  LocationInsertion out;
  out.geolocation = "<cid:" + std::string(content_id) + ">";
  std::string part_headers =
      "Content-Type: application/pidf+xml\r\nContent-ID: <" + std::string(content_id) + ">\r\n\r\n";
  std::string_view body = request.body();
  std::optional<sip::MediaType> type;
  try {
    type = request.content_type();
  } catch (const sip::SyntaxError&) {
    type.reset();
  }
  if (!body.empty() && type && type->is("multipart", "mixed") && !type->param_value("boundary").empty()) {
    // The new part goes just before the close delimiter; everything before it stays as it was.
    std::string delimiter = "--" + std::string(type->param_value("boundary"));
    std::size_t close = body.rfind(delimiter + "--");
    if (close != std::string_view::npos) {
      out.content_type = std::string(request.value(sip::HeaderId::content_type));
      out.body.append(body.substr(0, close)).append(delimiter).append("\r\n").append(part_headers).append(pidf_xml);
      out.body.append("\r\n").append(body.substr(close));
      return out;
    }
  }
  if (body.empty()) {
    // RFC 6442: a cid: URI may name the whole body through the message's Content-ID; a
    // one-part multipart is simpler for every receiver and says the same.
    std::string boundary = "esrp-" + sip::new_branch().substr(7, 12);
    out.content_type = "multipart/mixed;boundary=" + boundary;
    out.body.append("--").append(boundary).append("\r\n").append(part_headers).append(pidf_xml);
    out.body.append("\r\n--").append(boundary).append("--\r\n");
    return out;
  }
  std::string boundary = "esrp-" + sip::new_branch().substr(7, 12);
  std::string original_type = type ? std::string(request.value(sip::HeaderId::content_type)) : "application/sdp";
  out.content_type = "multipart/mixed;boundary=" + boundary;
  out.body.append("--").append(boundary).append("\r\nContent-Type: ").append(original_type).append("\r\n\r\n");
  out.body.append(body).append("\r\n--").append(boundary).append("\r\n").append(part_headers).append(pidf_xml);
  out.body.append("\r\n--").append(boundary).append("--\r\n");
  return out;
}

}  // namespace ng911::esrp
