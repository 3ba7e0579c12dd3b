// libFuzzer target: any bytes as a LoST request body, through the parser and the ECRF, against
// a small snapshot. It must answer (an <errors> document at worst), never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ecrf/ecrf.h"

using namespace ng911::ecrf;

namespace {

std::shared_ptr<const Snapshot> snapshot() {
  std::vector<Boundary> list;
  for (int i = 0; i < 4; ++i) {
    Boundary b;
    b.layer = "PsapPolygon";
    b.service_urn = "urn:emergency:service:sos.psap";
    b.es_nguid = "urn:emergency:uid:gis:PSAP:" + std::to_string(i) + ":fuzz.example";
    b.display_name = "PSAP " + std::to_string(i);
    b.uri = "sip:psap-" + std::to_string(i) + "@fuzz.example";
    b.service_number = "911";
    b.agency_id = "fuzz.example";
    b.last_updated = "2026-01-01T00:00:00Z";
    double x = -97.75 + (i % 2) * 0.01, y = 30.26 + (i / 2) * 0.01;
    Polygon p;
    p.outer() = {{x, y}, {x, y + 0.01}, {x + 0.01, y + 0.01}, {x + 0.01, y}, {x, y}};
    b.geom.push_back(p);
    list.push_back(std::move(b));
  }
  CivicIndex civic;
  civic.add(AddressPoint{"US", "TX", "TRAVIS", "AUSTIN", "", "", "78701", "", "CONGRESS AVE", 100, "", {-97.7431, 30.2672}});
  civic.add(RoadSegment{"US", "TX", "TRAVIS", "CONGRESS AVE", "AUSTIN", "AUSTIN", "", "", 101, 199, 100, 198, "O", "E",
                        {{-97.7431, 30.266}, {-97.7431, 30.268}}});
  return Snapshot::from(std::move(list), std::move(civic));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto snap = snapshot();
  static const Ecrf ecrf = [] {
    EcrfConfig config;
    Peer peer{"peer.fuzz.example", "http://127.0.0.1:9/", {}};
    Polygon p;
    p.outer() = {{-96.8, 30.2}, {-96.8, 30.4}, {-96.6, 30.4}, {-96.6, 30.2}, {-96.8, 30.2}};
    peer.region.push_back(p);
    config.peers.push_back(peer);
    config.default_mappings["urn:service:sos"] = {"sip:default@fuzz.example", "Default"};
    return Ecrf(config, [] { return snap; });
  }();
  QueryOutcome outcome;
  auto result = ecrf.handle(std::string_view(reinterpret_cast<const char*>(data), size), outcome);
  if (std::holds_alternative<Answer>(result) && std::get<Answer>(result).body.empty()) __builtin_trap();
  return 0;
}
