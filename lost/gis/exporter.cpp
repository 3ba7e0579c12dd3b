// GisStore::export_layer: a published (or any stored) version written out through OGR, so that
// GIS admins get their data back in the format they work in.
#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>
#include <cpl_error.h>

#include <mutex>
#include <pqxx/pqxx>

#include "gis/gis_store.h"
#include "gis/store_connection.h"

namespace ng911::gis {
namespace {

struct DatasetCloser {
  void operator()(GDALDataset* ds) const { GDALClose(ds); }
};

OGRwkbGeometryType ogr_type(GeometryKind k) {
  switch (k) {
    case GeometryKind::polygon: return wkbMultiPolygon;
    case GeometryKind::point: return wkbPoint;
    case GeometryKind::line: return wkbMultiLineString;
  }
  return wkbUnknown;
}

OGRFieldType ogr_field_type(FieldType t) {
  switch (t) {
    case FieldType::text: return OFTString;
    case FieldType::timestamp: return OFTDateTime;
    case FieldType::integer: return OFTInteger;
  }
  return OFTString;
}

std::vector<unsigned char> unhex(const std::string& h) {
  std::vector<unsigned char> out(h.size() / 2);
  auto nib = [](char c) { return static_cast<unsigned char>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10); };
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<unsigned char>(nib(h[2 * i]) << 4 | nib(h[2 * i + 1]));
  return out;
}

}  // namespace

ExportResult GisStore::export_layer(const LayerSpec& layer, std::optional<std::int64_t> version,
                                    const std::string& path, const std::string& driver_name) {
  ExportResult result;
  if (version) {
    result.version_id = *version;
  } else {
    auto v = published_version(layer);
    if (!v) throw GisError("layer " + std::string(layer.name) + " has never been published");
    result.version_id = *v;
  }

  static std::once_flag once;
  std::call_once(once, [] { GDALAllRegister(); });
  GDALDriver* driver = GetGDALDriverManager()->GetDriverByName(driver_name.c_str());
  if (driver == nullptr) throw GisError("GDAL has no driver '" + driver_name + "'");

  // Times as ISO 8601 in UTC; OGR parses them back into its DateTime fields.
  std::string columns;
  for (const auto& f : layer.fields) {
    columns += ", ";
    if (f.type == FieldType::timestamp)
      columns += "to_char(" + f.column() + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";
    else
      columns += f.column() + "::text";
  }
  pqxx::read_transaction tx(db_->conn);
  auto rows = tx.exec_params("SELECT encode(ST_AsBinary(geom), 'hex')" + columns + " FROM " +
                                 std::string(layer.table) + " WHERE version_id = $1 AND layer = $2 ORDER BY " +
                                 std::string(layer.field(layer.id_field)->column()),
                             result.version_id, std::string(layer.name));
  if (rows.empty())
    throw GisError("version " + std::to_string(result.version_id) + " of " + std::string(layer.name) +
                   " has no features (it was not published)");

  CPLPushErrorHandler(CPLQuietErrorHandler);
  std::unique_ptr<GDALDataset, DatasetCloser> ds(driver->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
  CPLPopErrorHandler();
  if (!ds) throw GisError("cannot create " + path + ": " + CPLGetLastErrorMsg());
  OGRSpatialReference wgs84;
  wgs84.importFromEPSG(4326);
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  OGRLayer* out = ds->CreateLayer(std::string(layer.name).c_str(), &wgs84, ogr_type(layer.geometry), nullptr);
  if (out == nullptr) throw GisError("cannot create layer in " + path + ": " + CPLGetLastErrorMsg());
  for (const auto& f : layer.fields) {
    OGRFieldDefn defn(std::string(f.name).c_str(), ogr_field_type(f.type));
    out->CreateField(&defn);
  }
  for (const auto& r : rows) {
    auto feature = std::unique_ptr<OGRFeature, void (*)(OGRFeature*)>(
        OGRFeature::CreateFeature(out->GetLayerDefn()), OGRFeature::DestroyFeature);
    for (std::size_t i = 0; i < layer.fields.size(); ++i)
      if (!r[static_cast<int>(i + 1)].is_null())
        feature->SetField(static_cast<int>(i), r[static_cast<int>(i + 1)].c_str());
    auto wkb = unhex(r[0].as<std::string>());
    OGRGeometry* geom = nullptr;
    if (OGRGeometryFactory::createFromWkb(wkb.data(), &wgs84, &geom, wkb.size()) == OGRERR_NONE)
      feature->SetGeometryDirectly(geom);
    if (out->CreateFeature(feature.get()) != OGRERR_NONE)
      throw GisError("cannot write a feature to " + path + ": " + CPLGetLastErrorMsg());
    ++result.features;
  }
  return result;
}

}  // namespace ng911::gis
