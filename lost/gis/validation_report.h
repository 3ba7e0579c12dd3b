#pragma once
// What validation found in a load: one Issue per problem, and a readable report.
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ng911::gis {

enum class Severity { error, warning };

struct LonLat {
  double lon = 0;
  double lat = 0;
};

struct Issue {
  Severity severity = Severity::error;
  std::string code;     // stable kind: invalid_geometry, missing_field, bad_value, gap, overlap, ...
  std::string feature;  // which feature(s): "feature 12 (ES_NGUID ...)"; empty for layer-wide
  std::string message;
  std::optional<double> area_m2;  // gaps and overlaps
  std::optional<LonLat> where;    // a point on or inside the problem
};

class ValidationReport {
 public:
  void add(Issue issue);
  void error(std::string code, std::string feature, std::string message);
  void warning(std::string code, std::string feature, std::string message);

  const std::vector<Issue>& issues() const { return issues_; }
  std::size_t errors() const { return errors_; }
  std::size_t warnings() const { return warnings_; }
  std::size_t count(const std::string& code) const;

  // Errors first, grouped by kind; at most max_per_kind lines per kind, then a count of the rest.
  void print(std::ostream& out, std::size_t max_per_kind = 20) const;
  nlohmann::json to_json() const;

 private:
  std::vector<Issue> issues_;
  std::size_t errors_ = 0;
  std::size_t warnings_ = 0;
};

}  // namespace ng911::gis
