#include <set>
#include <string>

#include <boost/test/unit_test.hpp>

#include "db/conninfo.h"
#include "gis/layer_catalog.h"
#include "gis/source_reader.h"

using namespace ng911::gis;

BOOST_AUTO_TEST_SUITE(layer_catalog)

BOOST_AUTO_TEST_CASE(finds_layers_by_name_and_alias) {
  BOOST_TEST(find_layer("PsapPolygon")->name == "PsapPolygon");
  BOOST_TEST(find_layer("psappolygon")->name == "PsapPolygon");
  BOOST_TEST(find_layer("A2")->name == "CountyOrEquivalent");
  BOOST_TEST(find_layer("NoSuchLayer") == nullptr);
  for (const char* name : {"PsapPolygon", "PolicePolygon", "FirePolygon", "EmsPolygon", "ServiceBoundaryPolygon",
                           "SiteStructureAddressPoint", "RoadCenterLine", "A1", "A3", "A4", "A5"})
    BOOST_TEST(find_layer(name) != nullptr, name);
}

BOOST_AUTO_TEST_CASE(every_layer_has_its_id_and_group_fields) {
  for (const auto& layer : all_layers()) {
    const FieldSpec* id = layer.field(layer.id_field);
    BOOST_TEST_REQUIRE(id != nullptr, layer.name);
    BOOST_TEST(id->required, layer.name);
    if (!layer.group_field.empty()) BOOST_TEST(layer.field(layer.group_field) != nullptr, layer.name);
    std::set<std::string> columns;
    for (const auto& f : layer.fields) BOOST_TEST(columns.insert(f.column()).second, f.name);
    BOOST_TEST(layer.field("DateUpdate")->required, layer.name);
  }
}

BOOST_AUTO_TEST_CASE(columns_are_lower_cased_nena_names) {
  BOOST_TEST(find_layer("PsapPolygon")->field("DsplayName")->column() == "dsplayname");
  BOOST_TEST(find_layer("PsapPolygon")->field("es_nguid")->name == "ES_NGUID");
}

BOOST_AUTO_TEST_CASE(field_mapping_options) {
  const LayerSpec& psap = *find_layer("PsapPolygon");
  auto m = parse_field_mapping(psap, {"DsplayName=AGENCY_NAME", "serviceuri=ROUTE_URI"}, {"State=TX"});
  BOOST_TEST(m.source_field.at("DsplayName") == "AGENCY_NAME");
  BOOST_TEST(m.source_field.at("ServiceURI") == "ROUTE_URI");
  BOOST_TEST(m.constant.at("State") == "TX");
  BOOST_CHECK_THROW(parse_field_mapping(psap, {"NoSuchField=X"}, {}), GisError);
  BOOST_CHECK_THROW(parse_field_mapping(psap, {"DsplayName"}, {}), GisError);
  BOOST_CHECK_THROW(parse_field_mapping(psap, {}, {"=x"}), GisError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(conninfo)

using ng911::db::resolve_conninfo;

auto env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

BOOST_AUTO_TEST_CASE(defaults_to_the_local_cluster) {
  BOOST_TEST(resolve_conninfo(std::nullopt, env_of({})) == "host=127.0.0.1 port=55432 dbname=ng911 user=postgres");
}

BOOST_AUTO_TEST_CASE(explicit_db_option_wins) {
  BOOST_TEST(resolve_conninfo(std::string("host=db1 dbname=x"), env_of({{"PGPORT", "1"}})) == "host=db1 dbname=x");
}

BOOST_AUTO_TEST_CASE(pg_environment_fills_its_own_fields) {
  BOOST_TEST(resolve_conninfo(std::nullopt, env_of({{"PGPORT", "6000"}, {"PGDATABASE", "other"}})) ==
             "host=127.0.0.1 user=postgres");
  BOOST_TEST(resolve_conninfo(std::nullopt, env_of({{"PGSERVICE", "ecrf"}})).empty());
}

BOOST_AUTO_TEST_SUITE_END()
