#include "routing/lost_client.h"

#include <sstream>

#include "ecrf/lost_request.h"

namespace ng911::esrp {

std::string find_service_request(const PidfLocation& location, std::string_view service, const LostIds& ids,
                                 bool recursive) {
  pugi::xml_document doc;
  auto root = doc.append_child("findService");
  root.append_attribute("xmlns") = ecrf::kLostNs;
  root.append_attribute("recursive") = recursive ? "true" : "false";
  root.append_attribute("serviceBoundary") = "reference";
  auto loc = root.append_child("location");
  loc.append_attribute("id") = "caller";
  loc.append_attribute("profile") = location.profile.c_str();
  pugi::xml_document fragment;
  std::string wrapped = "<x>" + location.location_info_xml + "</x>";
  if (fragment.load_buffer(wrapped.data(), wrapped.size()))
    for (auto c : fragment.document_element().children()) loc.append_copy(c);
  root.append_child("service").text() = std::string(service).c_str();
  if (!ids.call_id.empty() || !ids.incident_tracking_id.empty()) {
    auto ext = root.append_child("ids");
    ext.append_attribute("xmlns") = ecrf::kNenaLostExtNs;
    if (!ids.call_id.empty()) ext.append_child("callId").text() = ids.call_id.c_str();
    if (!ids.incident_tracking_id.empty()) ext.append_child("incidentTrackingId").text() = ids.incident_tracking_id.c_str();
  }
  std::ostringstream s;
  doc.save(s, "", pugi::format_raw, pugi::encoding_utf8);
  return s.str();
}

LostAnswer parse_find_service_answer(std::string_view body) {
  LostAnswer a;
  pugi::xml_document doc;
  if (ecrf::first_non_xml_char(body) || !doc.load_buffer(body.data(), body.size()) || !doc.document_element() ||
      ecrf::namespace_uri(doc.document_element()) != ecrf::kLostNs) {
    a.error = "malformed";
    a.message = "the answer is not a LoST document";
    return a;
  }
  auto root = doc.document_element();
  auto name = ecrf::local_name(root);
  auto first_error = [&](pugi::xml_node container) {
    for (auto e : container.children())
      if (e.type() == pugi::node_element) {
        a.error = std::string(ecrf::local_name(e));
        a.message = e.attribute("message").value();
        return;
      }
    a.error = "malformed";
  };
  if (name == "errors") {
    first_error(root);
    return a;
  }
  if (name == "redirect") {
    a.redirect_target = root.attribute("target").value();
    a.error = "redirect";
    a.message = root.attribute("message").value();
    return a;
  }
  if (name != "findServiceResponse") {
    a.error = "malformed";
    a.message = "unexpected <" + std::string(name) + ">";
    return a;
  }
  LostMapping m;
  for (auto c : root.children()) {
    if (c.type() != pugi::node_element) continue;
    auto cname = ecrf::local_name(c);
    if (cname == "mapping" && m.uris.empty()) {
      m.expires = c.attribute("expires").value();
      m.last_updated = c.attribute("lastUpdated").value();
      m.source = c.attribute("source").value();
      m.source_id = c.attribute("sourceId").value();
      for (auto f : c.children()) {
        auto fname = ecrf::local_name(f);
        if (fname == "uri") m.uris.emplace_back(f.child_value());
        else if (fname == "displayName" && m.display_name.empty()) m.display_name = f.child_value();
        else if (fname == "service") m.service = f.child_value();
      }
    } else if (cname == "warnings") {
      for (auto w : c.children())
        if (w.type() == pugi::node_element) m.warnings.emplace_back(ecrf::local_name(w));
    }
  }
  if (m.uris.empty()) {
    a.error = "malformed";
    a.message = "a mapping without a <uri>";
    return a;
  }
  a.mapping = std::move(m);
  return a;
}

}  // namespace ng911::esrp
