#pragma once
// The published GIS data in PostGIS: loading a layer (stage, validate, publish atomically as a
// new version), rolling back, listing versions, exporting.
//
// Publishing model: every load is a gis.layer_version; its features are written under that
// version_id, and gis.published_layer points each layer at one version. A publish or rollback
// moves that pointer in one transaction, so any reader's query sees the old version or the new
// one, never a mix. See docs/gis.md.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gis/layer_catalog.h"
#include "gis/source_reader.h"
#include "gis/validation_report.h"

namespace ng911::gis {

// Receives progress of long operations; the CLI shows it, tests ignore it.
class Progress {
 public:
  virtual ~Progress() = default;
  virtual void phase(std::string_view name) = 0;
  virtual void advance(std::int64_t done, std::int64_t total) = 0;
};

struct LoadOptions {
  bool force = false;       // publish despite errors: bad features are left out, invalid
                            // geometries are repaired (ST_MakeValid)
  bool dry_run = false;     // validate only; nothing is written
  bool if_changed = false;  // skip when the published version came from a file with the same bytes
  double tolerance_m2 = 1000.0;  // gaps and overlaps smaller than this are warnings
  std::string loaded_by;         // who runs the load (the OS user)
};

enum class LoadOutcome { published, refused, validated, unchanged };

struct LoadResult {
  LoadOutcome outcome = LoadOutcome::refused;
  std::int64_t version_id = 0;
  std::int64_t features_read = 0;
  std::int64_t features_published = 0;
  std::int64_t previous_version_id = 0;  // what was published before, 0 if nothing
  ValidationReport report;
};

struct VersionInfo {
  std::int64_t version_id = 0;
  std::string layer;
  std::string state;
  std::int64_t feature_count = 0;
  std::int64_t error_count = 0;
  std::int64_t warning_count = 0;
  bool forced = false;
  std::string loaded_by;
  std::string started_at;
  std::string published_at;
  std::string source_file;
};

struct ExportResult {
  std::int64_t version_id = 0;
  std::int64_t features = 0;
};

class GisStore {
 public:
  // Connects; throws GisError saying where it tried and why it failed.
  explicit GisStore(const std::string& conninfo);
  ~GisStore();
  GisStore(const GisStore&) = delete;
  GisStore& operator=(const GisStore&) = delete;

  LoadResult load(const LayerSpec& layer, SourceReader& source, const std::string& source_file,
                  const LoadOptions& options, Progress* progress = nullptr);

  // Back to the version published before the current one, or to `to`. Returns the version now
  // published. Throws GisError when there is nothing to roll back to.
  std::int64_t rollback(const LayerSpec& layer, std::optional<std::int64_t> to, const std::string& by);

  // Newest first; all layers when layer is null.
  std::vector<VersionInfo> versions(const LayerSpec* layer, int limit = 50);
  std::optional<std::int64_t> published_version(const LayerSpec& layer);

  // Writes a version (default: the published one) through OGR: GeoJSON, or any OGR driver.
  ExportResult export_layer(const LayerSpec& layer, std::optional<std::int64_t> version,
                            const std::string& path, const std::string& driver = "GeoJSON");

 private:
  struct Connection;  // keeps libpqxx out of this header
  std::unique_ptr<Connection> db_;
};

}  // namespace ng911::gis
