#include "gis/layer_catalog.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace ng911::gis {
namespace {

using enum FieldType;
using C = FieldCheck;

// Service boundaries: NENA-STA-006 PSAP, Police, Fire, EMS and generic service boundary layers.
constexpr std::array kServiceBoundaryFields{
    FieldSpec{"DiscrpAgID", text, true, C::domain},
    FieldSpec{"DateUpdate", timestamp, true, C::none},
    FieldSpec{"Effective", timestamp, false, C::none},
    FieldSpec{"Expire", timestamp, false, C::none},
    FieldSpec{"ES_NGUID", text, true, C::nguid},
    FieldSpec{"State", text, true, C::state},
    FieldSpec{"Agency_ID", text, true, C::domain},
    FieldSpec{"ServiceURI", text, true, C::service_uri},
    FieldSpec{"ServiceURN", text, true, C::service_urn},
    FieldSpec{"ServiceNum", text, false, C::none},
    FieldSpec{"AVcard_URI", text, false, C::uri},
    FieldSpec{"DsplayName", text, true, C::none},
};

// A1..A5: each level has the fields of the levels above it and requires its own area name.
constexpr FieldSpec kAdminFields[] = {
    FieldSpec{"DiscrpAgID", text, true, C::domain},
    FieldSpec{"DateUpdate", timestamp, true, C::none},
    FieldSpec{"Effective", timestamp, false, C::none},
    FieldSpec{"Expire", timestamp, false, C::none},
    FieldSpec{"NGUID", text, true, C::nguid},
    FieldSpec{"Country", text, true, C::country},
    FieldSpec{"State", text, true, C::state},
    FieldSpec{"County", text, true, C::none},
    FieldSpec{"AddCode", text, false, C::none},
    FieldSpec{"Inc_Muni", text, false, C::none},
    FieldSpec{"Uninc_Comm", text, false, C::none},
    FieldSpec{"Nbrhd_Comm", text, false, C::none},
};
template <std::size_t Count>
constexpr std::array<FieldSpec, Count> admin_fields() {
  std::array<FieldSpec, Count> fields{};
  for (std::size_t i = 0; i < Count; ++i) fields[i] = kAdminFields[i];
  fields[Count - 1].required = Count != 9;  // AddCode, last of A2's fields, stays optional
  return fields;
}
constexpr auto kA1Fields = admin_fields<7>();   // ... State
constexpr auto kA2Fields = admin_fields<9>();   // ... County, AddCode
constexpr auto kA3Fields = admin_fields<10>();  // ... Inc_Muni
constexpr auto kA4Fields = admin_fields<11>();  // ... Uninc_Comm
constexpr auto kA5Fields = admin_fields<12>();  // ... Nbrhd_Comm

constexpr std::array kAddressPointFields{
    FieldSpec{"DiscrpAgID", text, true, C::domain},
    FieldSpec{"DateUpdate", timestamp, true, C::none},
    FieldSpec{"Effective", timestamp, false, C::none},
    FieldSpec{"Expire", timestamp, false, C::none},
    FieldSpec{"Site_NGUID", text, true, C::nguid},
    FieldSpec{"Country", text, true, C::country},
    FieldSpec{"State", text, true, C::state},
    FieldSpec{"County", text, true, C::none},
    FieldSpec{"AddCode", text, false, C::none},
    FieldSpec{"Inc_Muni", text, true, C::none},
    FieldSpec{"Uninc_Comm", text, false, C::none},
    FieldSpec{"Nbrhd_Comm", text, false, C::none},
    FieldSpec{"St_PreMod", text, false, C::none},
    FieldSpec{"St_PreDir", text, false, C::none},
    FieldSpec{"St_PreTyp", text, false, C::none},
    FieldSpec{"St_PreSep", text, false, C::none},
    FieldSpec{"St_Name", text, true, C::none},
    FieldSpec{"St_PosTyp", text, false, C::none},
    FieldSpec{"St_PosDir", text, false, C::none},
    FieldSpec{"St_PosMod", text, false, C::none},
    FieldSpec{"AddNum_Pre", text, false, C::none},
    FieldSpec{"Add_Number", integer, false, C::none},
    FieldSpec{"AddNum_Suf", text, false, C::none},
    FieldSpec{"Building", text, false, C::none},
    FieldSpec{"Floor", text, false, C::none},
    FieldSpec{"Unit", text, false, C::none},
    FieldSpec{"Room", text, false, C::none},
    FieldSpec{"Seat", text, false, C::none},
    FieldSpec{"LandmkName", text, false, C::none},
    FieldSpec{"Post_Code", text, false, C::none},
    FieldSpec{"Post_Comm", text, false, C::none},
    FieldSpec{"Place_Type", text, false, C::none},
};

constexpr std::array kRoadCenterlineFields{
    FieldSpec{"DiscrpAgID", text, true, C::domain},
    FieldSpec{"DateUpdate", timestamp, true, C::none},
    FieldSpec{"Effective", timestamp, false, C::none},
    FieldSpec{"Expire", timestamp, false, C::none},
    FieldSpec{"RCL_NGUID", text, true, C::nguid},
    FieldSpec{"AddDataURI", text, false, C::uri},
    FieldSpec{"FromAddr_L", integer, false, C::none},
    FieldSpec{"ToAddr_L", integer, false, C::none},
    FieldSpec{"FromAddr_R", integer, false, C::none},
    FieldSpec{"ToAddr_R", integer, false, C::none},
    FieldSpec{"Parity_L", text, false, C::parity},
    FieldSpec{"Parity_R", text, false, C::parity},
    FieldSpec{"St_PreMod", text, false, C::none},
    FieldSpec{"St_PreDir", text, false, C::none},
    FieldSpec{"St_PreTyp", text, false, C::none},
    FieldSpec{"St_PreSep", text, false, C::none},
    FieldSpec{"St_Name", text, true, C::none},
    FieldSpec{"St_PosTyp", text, false, C::none},
    FieldSpec{"St_PosDir", text, false, C::none},
    FieldSpec{"St_PosMod", text, false, C::none},
    FieldSpec{"Country_L", text, true, C::country},
    FieldSpec{"Country_R", text, true, C::country},
    FieldSpec{"State_L", text, true, C::state},
    FieldSpec{"State_R", text, true, C::state},
    FieldSpec{"County_L", text, true, C::none},
    FieldSpec{"County_R", text, true, C::none},
    FieldSpec{"IncMuni_L", text, true, C::none},
    FieldSpec{"IncMuni_R", text, true, C::none},
    FieldSpec{"UnincCom_L", text, false, C::none},
    FieldSpec{"UnincCom_R", text, false, C::none},
    FieldSpec{"NbrhdCom_L", text, false, C::none},
    FieldSpec{"NbrhdCom_R", text, false, C::none},
    FieldSpec{"PostCode_L", text, false, C::none},
    FieldSpec{"PostCode_R", text, false, C::none},
    FieldSpec{"PostComm_L", text, false, C::none},
    FieldSpec{"PostComm_R", text, false, C::none},
};

constexpr std::string_view kBoundary = "gis.service_boundary";
constexpr std::string_view kAdmin = "gis.admin_area";
using enum GeometryKind;

const std::array kLayers{
    LayerSpec{"PsapPolygon", "", kBoundary, polygon, "ES_NGUID", "ServiceURN", kServiceBoundaryFields},
    LayerSpec{"PolicePolygon", "", kBoundary, polygon, "ES_NGUID", "ServiceURN", kServiceBoundaryFields},
    LayerSpec{"FirePolygon", "", kBoundary, polygon, "ES_NGUID", "ServiceURN", kServiceBoundaryFields},
    LayerSpec{"EmsPolygon", "", kBoundary, polygon, "ES_NGUID", "ServiceURN", kServiceBoundaryFields},
    LayerSpec{"ServiceBoundaryPolygon", "", kBoundary, polygon, "ES_NGUID", "ServiceURN",
              kServiceBoundaryFields},
    LayerSpec{"StateOrEquivalent", "A1", kAdmin, polygon, "NGUID", "", kA1Fields},
    LayerSpec{"CountyOrEquivalent", "A2", kAdmin, polygon, "NGUID", "", kA2Fields},
    LayerSpec{"IncorporatedMunicipality", "A3", kAdmin, polygon, "NGUID", "", kA3Fields},
    LayerSpec{"UnincorporatedCommunity", "A4", kAdmin, polygon, "NGUID", "", kA4Fields},
    LayerSpec{"NeighborhoodCommunity", "A5", kAdmin, polygon, "NGUID", "", kA5Fields},
    LayerSpec{"SiteStructureAddressPoint", "", "gis.address_point", point, "Site_NGUID", "",
              kAddressPointFields},
    LayerSpec{"RoadCenterLine", "", "gis.road_centerline", line, "RCL_NGUID", "",
              kRoadCenterlineFields},
};

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

std::string FieldSpec::column() const {
  std::string c(name);
  for (char& ch : c) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return c;
}

const FieldSpec* LayerSpec::field(std::string_view nena_name) const {
  for (const auto& f : fields)
    if (iequals(f.name, nena_name)) return &f;
  return nullptr;
}

std::string_view LayerSpec::geometry_name() const {
  switch (geometry) {
    case GeometryKind::polygon: return "MultiPolygon";
    case GeometryKind::point: return "Point";
    case GeometryKind::line: return "MultiLineString";
  }
  return "Geometry";
}

std::span<const LayerSpec> all_layers() { return kLayers; }

const LayerSpec* find_layer(std::string_view name) {
  for (const auto& l : kLayers)
    if (iequals(l.name, name) || (!l.alias.empty() && iequals(l.alias, name))) return &l;
  return nullptr;
}

std::string layer_names() {
  std::string out;
  for (const auto& l : kLayers) {
    if (!out.empty()) out += ", ";
    out += l.name;
    if (!l.alias.empty()) (out += " (") .append(l.alias) += ")";
  }
  return out;
}

}  // namespace ng911::gis
