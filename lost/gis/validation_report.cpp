#include "gis/validation_report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <ostream>

namespace ng911::gis {
namespace {

std::string format_area(double m2) {
  char buf[64];
  if (m2 >= 1e6) std::snprintf(buf, sizeof buf, "%.3f km²", m2 / 1e6);
  else std::snprintf(buf, sizeof buf, "%.1f m²", m2);
  return buf;
}

std::string format_point(const LonLat& p) {
  char buf[96];
  // Latitude first, as people read coordinates; the WKT form helps pasting into a GIS.
  std::snprintf(buf, sizeof buf, "%.6f, %.6f (POINT(%.6f %.6f))", p.lat, p.lon, p.lon, p.lat);
  return buf;
}

}  // namespace

void ValidationReport::add(Issue issue) {
  (issue.severity == Severity::error ? errors_ : warnings_)++;
  issues_.push_back(std::move(issue));
}

void ValidationReport::error(std::string code, std::string feature, std::string message) {
  add(Issue{Severity::error, std::move(code), std::move(feature), std::move(message), {}, {}});
}

void ValidationReport::warning(std::string code, std::string feature, std::string message) {
  add(Issue{Severity::warning, std::move(code), std::move(feature), std::move(message), {}, {}});
}

std::size_t ValidationReport::count(const std::string& code) const {
  return static_cast<std::size_t>(
      std::ranges::count_if(issues_, [&](const Issue& i) { return i.code == code; }));
}

void ValidationReport::print(std::ostream& out, std::size_t max_per_kind) const {
  for (Severity sev : {Severity::error, Severity::warning}) {
    std::map<std::string, std::vector<const Issue*>> by_code;
    for (const auto& i : issues_)
      if (i.severity == sev) by_code[i.code].push_back(&i);
    for (const auto& [code, list] : by_code) {
      out << (sev == Severity::error ? "ERROR" : "WARNING") << " " << code << " (" << list.size()
          << ")\n";
      for (std::size_t n = 0; n < list.size() && n < max_per_kind; ++n) {
        const Issue& i = *list[n];
        out << "  ";
        if (!i.feature.empty()) out << i.feature << ": ";
        out << i.message;
        if (i.area_m2) out << "; area " << format_area(*i.area_m2);
        if (i.where) out << "; at " << format_point(*i.where);
        out << '\n';
      }
      if (list.size() > max_per_kind)
        out << "  ... and " << (list.size() - max_per_kind) << " more\n";
    }
  }
}

nlohmann::json ValidationReport::to_json() const {
  auto list = nlohmann::json::array();
  for (const auto& i : issues_) {
    nlohmann::json j{{"severity", i.severity == Severity::error ? "error" : "warning"},
                     {"code", i.code},
                     {"message", i.message}};
    if (!i.feature.empty()) j["feature"] = i.feature;
    if (i.area_m2) j["area_m2"] = *i.area_m2;
    if (i.where) j["point"] = {{"lon", i.where->lon}, {"lat", i.where->lat}};
    list.push_back(std::move(j));
  }
  return {{"errors", errors_}, {"warnings", warnings_}, {"issues", std::move(list)}};
}

}  // namespace ng911::gis
