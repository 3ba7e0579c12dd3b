#include "gis/source_reader.h"

#include <array>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include <cpl_error.h>
#include <gdal_priv.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>
#include <openssl/evp.h>

namespace ng911::gis {
namespace {

void register_drivers_once() {
  static std::once_flag once;
  std::call_once(once, [] { GDALAllRegister(); });
}

// GDAL prints its errors to stderr by default; we turn them into our own messages instead.
class QuietGdalErrors {
 public:
  QuietGdalErrors() {
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
  }
  ~QuietGdalErrors() { CPLPopErrorHandler(); }
  QuietGdalErrors(const QuietGdalErrors&) = delete;
  QuietGdalErrors& operator=(const QuietGdalErrors&) = delete;
  static std::string last() {
    std::string m = CPLGetLastErrorMsg();
    return m.empty() ? "unknown GDAL error" : m;
  }
};

struct DatasetCloser {
  void operator()(GDALDataset* ds) const { GDALClose(ds); }
};
struct FeatureDeleter {
  void operator()(OGRFeature* f) const { OGRFeature::DestroyFeature(f); }
};
struct TransformDeleter {
  void operator()(OGRCoordinateTransformation* t) const {
    OGRCoordinateTransformation::DestroyCT(t);
  }
};

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string iso_datetime(int y, int mo, int d, int h, int mi, float s, int tz) {
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%06.3f", y, mo, d, h, mi,
                        static_cast<double>(s));
  std::string out(buf, static_cast<std::size_t>(n));
  // OGR's TZFlag: 0 unknown, 1 local time, 100 UTC, 100 +/- n for n quarter hours.
  if (tz == 100) out += 'Z';
  else if (tz > 1) {
    int minutes = (tz - 100) * 15;
    char sign = minutes < 0 ? '-' : '+';
    if (minutes < 0) minutes = -minutes;
    std::snprintf(buf, sizeof buf, "%c%02d:%02d", sign, minutes / 60, minutes % 60);
    out += buf;
  }
  return out;
}

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0xf];
  }
  return out;
}

}  // namespace

FieldMapping parse_field_mapping(const LayerSpec& layer, const std::vector<std::string>& maps,
                                 const std::vector<std::string>& sets) {
  FieldMapping m;
  auto split = [&](const std::string& opt, const char* what) {
    auto eq = opt.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == opt.size())
      throw GisError(std::string(what) + " '" + opt + "': expected NENA_FIELD=" +
                     (std::string(what) == "--map" ? "SOURCE_FIELD" : "VALUE"));
    const FieldSpec* f = layer.field(opt.substr(0, eq));
    if (f == nullptr)
      throw GisError(std::string(what) + " '" + opt + "': layer " + std::string(layer.name) +
                     " has no field '" + opt.substr(0, eq) + "'");
    return std::pair{std::string(f->name), opt.substr(eq + 1)};
  };
  for (const auto& opt : maps) {
    auto [field, source] = split(opt, "--map");
    m.source_field[field] = source;
  }
  for (const auto& opt : sets) {
    auto [field, value] = split(opt, "--set");
    m.constant[field] = value;
  }
  return m;
}

struct SourceReader::Impl {
  const LayerSpec& layer;
  SourceOptions options;
  std::unique_ptr<GDALDataset, DatasetCloser> dataset;
  OGRLayer* source = nullptr;
  std::vector<int> field_index;  // per LayerSpec field: source field index, or -1
  std::unique_ptr<OGRCoordinateTransformation, TransformDeleter> transform;
  std::string srs_name;
  std::vector<std::string> unused_fields;

  Impl(const LayerSpec& l, SourceOptions o) : layer(l), options(std::move(o)) {}

  void open();
  void set_up_fields();
  void set_up_transform();
  std::optional<std::string> value_of(OGRFeature& f, std::size_t i) const;
  std::optional<std::string> geometry_of(OGRFeature& f, const std::string& label,
                                         ValidationReport& report) const;
};

void SourceReader::Impl::open() {
  register_drivers_once();
  QuietGdalErrors quiet;
  dataset.reset(static_cast<GDALDataset*>(
      GDALOpenEx(options.path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr)));
  if (!dataset) {
    std::ifstream probe(options.path);
    if (!probe) throw GisError(options.path + ": cannot open the file (missing or unreadable)");
    throw GisError(options.path + ": not a GIS vector format that GDAL can read (" +
                   QuietGdalErrors::last() + ")");
  }
  if (dataset->GetLayerCount() == 0) throw GisError(options.path + ": contains no layers");
  if (options.source_layer.empty()) {
    source = dataset->GetLayer(0);
  } else {
    source = dataset->GetLayerByName(options.source_layer.c_str());
    if (source == nullptr) {
      std::string names;
      for (int i = 0; i < dataset->GetLayerCount(); ++i)
        names += (i ? ", " : "") + std::string(dataset->GetLayer(i)->GetName());
      throw GisError(options.path + ": no layer '" + options.source_layer + "' (it has: " + names + ")");
    }
  }
}

void SourceReader::Impl::set_up_fields() {
  OGRFeatureDefn* defn = source->GetLayerDefn();
  std::vector<bool> used(static_cast<std::size_t>(defn->GetFieldCount()), false);
  for (const auto& field : layer.fields) {
    std::string wanted(field.name);
    bool explicitly_mapped = false;
    if (auto it = options.mapping.source_field.find(wanted); it != options.mapping.source_field.end()) {
      wanted = it->second;
      explicitly_mapped = true;
    }
    int index = -1;
    for (int i = 0; i < defn->GetFieldCount(); ++i)
      if (iequals(defn->GetFieldDefn(i)->GetNameRef(), wanted)) index = i;
    if (explicitly_mapped && index < 0)
      throw GisError(options.path + ": --map " + std::string(field.name) + "=" + wanted +
                     ": the source has no field '" + wanted + "'");
    if (index >= 0) used[static_cast<std::size_t>(index)] = true;
    field_index.push_back(index);
  }
  for (int i = 0; i < defn->GetFieldCount(); ++i)
    if (!used[static_cast<std::size_t>(i)]) unused_fields.emplace_back(defn->GetFieldDefn(i)->GetNameRef());
}

void SourceReader::Impl::set_up_transform() {
  OGRSpatialReference target;
  target.importFromEPSG(4326);
  target.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);

  OGRSpatialReference given;
  const OGRSpatialReference* src = source->GetSpatialRef();
  if (!options.source_srs.empty()) {
    if (given.SetFromUserInput(options.source_srs.c_str()) != OGRERR_NONE)
      throw GisError("--s-srs '" + options.source_srs + "': not a CRS GDAL knows (try EPSG:NNNN)");
    src = &given;
  }
  if (src == nullptr)
    throw GisError(options.path + ": the file does not say its coordinate reference system; name it "
                   "with --s-srs (e.g. --s-srs EPSG:4326 or the state plane EPSG code)");
  OGRSpatialReference source_srs(*src);
  source_srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  const char* name = source_srs.GetName();
  const char* auth = source_srs.GetAuthorityName(nullptr);
  const char* code = source_srs.GetAuthorityCode(nullptr);
  srs_name = std::string(name ? name : "unnamed CRS") +
             (auth && code ? " (" + std::string(auth) + ":" + code + ")" : std::string());
  if (source_srs.IsSame(&target)) return;
  QuietGdalErrors quiet;
  transform.reset(OGRCreateCoordinateTransformation(&source_srs, &target));
  if (!transform)
    throw GisError(options.path + ": cannot reproject from " + srs_name + " to EPSG:4326 (" +
                   QuietGdalErrors::last() + ")");
}

std::optional<std::string> SourceReader::Impl::value_of(OGRFeature& f, std::size_t i) const {
  const FieldSpec& spec = layer.fields[i];
  if (auto it = options.mapping.constant.find(std::string(spec.name)); it != options.mapping.constant.end())
    return it->second;
  int index = field_index[i];
  if (index < 0 || !f.IsFieldSetAndNotNull(index)) return std::nullopt;
  OGRFieldType type = f.GetFieldDefnRef(index)->GetType();
  if (type == OFTDate || type == OFTDateTime) {
    int y, mo, d, h, mi, tz;
    float s;
    f.GetFieldAsDateTime(index, &y, &mo, &d, &h, &mi, &s, &tz);
    if (type == OFTDate) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, mo, d);
      return std::string(buf);
    }
    return iso_datetime(y, mo, d, h, mi, s, tz);
  }
  std::string v = trim(f.GetFieldAsString(index));
  if (v.empty()) return std::nullopt;
  return v;
}

std::optional<std::string> SourceReader::Impl::geometry_of(OGRFeature& f, const std::string& label,
                                                           ValidationReport& report) const {
  OGRGeometry* g = f.GetGeometryRef();
  if (g == nullptr || g->IsEmpty()) {
    report.error("missing_geometry", label, "the feature has no geometry");
    return std::nullopt;
  }
  std::unique_ptr<OGRGeometry> geom(g->clone());
  if (geom->hasCurveGeometry()) geom.reset(geom->getLinearGeometry());
  geom->flattenTo2D();
  if (transform) {
    QuietGdalErrors quiet;
    if (geom->transform(transform.get()) != OGRERR_NONE) {
      report.error("reprojection_failed", label,
                   "cannot reproject to EPSG:4326 (" + QuietGdalErrors::last() + ")");
      return std::nullopt;
    }
  }
  OGREnvelope env;
  geom->getEnvelope(&env);
  if (env.MinX < -180.0 || env.MaxX > 180.0 || env.MinY < -90.0 || env.MaxY > 90.0) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "coordinates (%g .. %g, %g .. %g) are outside longitude/latitude range "
                  "in EPSG:4326: is the file's CRS right? (--s-srs names it)",
                  env.MinX, env.MaxX, env.MinY, env.MaxY);
    report.error("wrong_crs", label, buf);
    return std::nullopt;
  }
  OGRwkbGeometryType type = wkbFlatten(geom->getGeometryType());
  switch (layer.geometry) {
    case GeometryKind::polygon:
      if (type != wkbPolygon && type != wkbMultiPolygon) {
        report.error("wrong_geometry_type", label,
                     std::string("a polygon layer needs Polygon or MultiPolygon, not ") +
                         OGRGeometryTypeToName(type));
        return std::nullopt;
      }
      geom.reset(OGRGeometryFactory::forceToMultiPolygon(geom.release()));
      break;
    case GeometryKind::line:
      if (type != wkbLineString && type != wkbMultiLineString) {
        report.error("wrong_geometry_type", label,
                     std::string("a line layer needs LineString or MultiLineString, not ") +
                         OGRGeometryTypeToName(type));
        return std::nullopt;
      }
      geom.reset(OGRGeometryFactory::forceToMultiLineString(geom.release()));
      break;
    case GeometryKind::point:
      if (type == wkbMultiPoint && geom->toMultiPoint()->getNumGeometries() == 1)
        geom.reset(geom->toMultiPoint()->getGeometryRef(0)->clone());
      else if (type != wkbPoint) {
        report.error("wrong_geometry_type", label,
                     std::string("a point layer needs Point, not ") + OGRGeometryTypeToName(type));
        return std::nullopt;
      }
      break;
  }
  std::vector<unsigned char> wkb(static_cast<std::size_t>(geom->WkbSize()));
  geom->exportToWkb(wkbNDR, wkb.data(), wkbVariantIso);
  return hex(wkb.data(), wkb.size());
}

SourceReader::SourceReader(const LayerSpec& layer, SourceOptions options)
    : impl_(std::make_unique<Impl>(layer, std::move(options))) {
  impl_->open();
  impl_->set_up_fields();
  impl_->set_up_transform();
  feature_count_ = impl_->source->GetFeatureCount(TRUE);
  if (feature_count_ == 0) throw GisError(impl_->options.path + ": contains no features");
  impl_->source->ResetReading();
}

SourceReader::~SourceReader() = default;

std::optional<SourceFeature> SourceReader::next(ValidationReport& report) {
  std::unique_ptr<OGRFeature, FeatureDeleter> f(impl_->source->GetNextFeature());
  if (!f) return std::nullopt;
  SourceFeature out;
  out.fid = f->GetFID();
  for (std::size_t i = 0; i < impl_->layer.fields.size(); ++i) out.values.push_back(impl_->value_of(*f, i));

  // Name the feature the way its owner would look for it.
  out.label = "feature " + std::to_string(out.fid);
  std::optional<std::string> name;
  for (std::size_t i = 0; i < impl_->layer.fields.size(); ++i) {
    const auto& field = impl_->layer.fields[i];
    if ((field.name == "DsplayName" || field.name == impl_->layer.id_field) && out.values[i]) {
      name = out.values[i];
      if (field.name == "DsplayName") break;
    }
  }
  if (name) out.label += " (" + *name + ")";
  out.wkb_hex = impl_->geometry_of(*f, out.label, report);
  return out;
}

std::string SourceReader::description() const {
  std::ostringstream s;
  s << impl_->options.path << ": " << impl_->dataset->GetDriver()->GetDescription() << ", layer '"
    << impl_->source->GetName() << "', " << feature_count_ << " features, CRS " << impl_->srs_name;
  if (impl_->transform) s << " (reprojected to EPSG:4326)";
  if (!impl_->unused_fields.empty()) {
    s << "\n  source fields not used:";
    for (const auto& f : impl_->unused_fields) s << ' ' << f;
  }
  std::string missing;
  for (std::size_t i = 0; i < impl_->layer.fields.size(); ++i) {
    const auto& spec = impl_->layer.fields[i];
    if (impl_->field_index[i] < 0 && !impl_->options.mapping.constant.contains(std::string(spec.name)))
      missing += " " + std::string(spec.name) + (spec.required ? "(required)" : "");
  }
  if (!missing.empty()) s << "\n  NENA fields not in the source:" << missing;
  return s.str();
}

std::string file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::array<char, 1 << 16> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  return hex(digest, len);
}

}  // namespace ng911::gis
