#include "server/config.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>

namespace ng911::lost {
namespace po = boost::program_options;

namespace {

std::pair<std::string, unsigned short> split_listen(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("--listen '" + s + "': expected ADDRESS:PORT");
  std::string host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(s.substr(colon + 1));
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535) throw std::runtime_error("--listen '" + s + "': bad port");
  return {host, static_cast<unsigned short>(port)};
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

ecrf::MultiPolygon parse_region(const std::string& spec) {
  ecrf::MultiPolygon mp;
  if (spec.starts_with("bbox:")) {
    double v[4];
    char sep;
    std::istringstream in(spec.substr(5));
    if (!(in >> v[0] >> sep >> v[1] >> sep >> v[2] >> sep >> v[3]) || v[0] >= v[2] || v[1] >= v[3])
      throw std::runtime_error("region '" + spec + "': expected bbox:minlon,minlat,maxlon,maxlat");
    ecrf::Polygon p;
    p.outer() = {{v[0], v[1]}, {v[0], v[3]}, {v[2], v[3]}, {v[2], v[1]}, {v[0], v[1]}};
    mp.push_back(p);
  } else if (spec.starts_with("wkt:")) {
    try {
      mp = ecrf::multipolygon_from_wkt(spec.substr(4));
    } catch (const std::exception& e) {
      throw std::runtime_error("region '" + spec + "': " + e.what());
    }
  } else {
    throw std::runtime_error("region '" + spec + "': expected bbox:... or wkt:...");
  }
  return mp;
}

std::optional<Config> parse_config(int argc, const char* const* argv) {
  Config c;
  po::options_description desc(
      "ng911-lost: the LoST (RFC 5222) server of the appliance, the ECRF and LVF.\n"
      "It answers from the GIS layers that ng911-gis publishes and picks up each publish without\n"
      "a restart. Options");
  std::string listen = "127.0.0.1:8180", config_file;
  std::vector<std::string> aliases, defaults, peers;
  int threads = 0;
  desc.add_options()
      ("help,h", "this help")
      ("config", po::value(&config_file), "read options from this file (name = value per line)")
      ("listen", po::value(&listen)->default_value(listen), "ADDRESS:PORT to serve HTTP on")
      ("db", po::value<std::string>(), "PostgreSQL connection string (default: PG* variables, then 127.0.0.1:55432/ng911)")
      ("threads", po::value(&threads)->default_value(0), "worker threads (0: one per core)")
      ("server-id", po::value(&c.ecrf.server_id)->default_value(c.ecrf.server_id), "our LoST source name (a domain-like name)")
      ("language", po::value(&c.ecrf.language)->default_value(c.ecrf.language), "xml:lang of display names and messages")
      ("expires", po::value(&c.ecrf.expires)->default_value(c.ecrf.expires),
       "mapping lifetime in seconds, or NO-CACHE, or NO-EXPIRATION")
      ("service-alias", po::value(&aliases)->composing(),
       "REQUESTED=GIS: answer REQUESTED service URN from boundaries whose ServiceURN is GIS "
       "(default urn:service:sos=urn:emergency:service:sos.psap)")
      ("default-mapping", po::value(&defaults)->composing(),
       "\"SERVICE URI [DISPLAY NAME]\": the route returned (with defaultMappingReturned) where no boundary covers")
      ("peer", po::value(&peers)->composing(),
       "\"ID URI REGION\": another LoST server and the region it covers (REGION: bbox:minlon,minlat,maxlon,maxlat or wkt:...)")
      ("peer-timeout-ms", po::value<long>()->default_value(2000), "how long a recursive query waits for a peer")
      ("peer-ca", po::value(&c.peer_ca), "verify https peers against these CAs (PEM; default: the system's store)")
      ("tls-cert", po::value<std::string>(), "serve HTTPS with this certificate chain (PEM)")
      ("tls-key", po::value<std::string>(), "private key of --tls-cert (PEM)")
      ("tls-ca", po::value<std::string>(), "verify client certificates against these CAs (PEM)")
      ("tls-require-client-cert", po::bool_switch(), "mutual TLS: refuse clients without a valid certificate")
      ("max-body-bytes", po::value<std::size_t>()->default_value(c.http.max_body_bytes), "largest request body")
      ("max-header-bytes", po::value<std::size_t>()->default_value(c.http.max_header_bytes), "largest request header")
      ("request-timeout-ms", po::value<long>()->default_value(10000), "time to read and answer one request")
      ("idle-timeout-ms", po::value<long>()->default_value(60000), "keep-alive wait for the next request")
      ("max-connections", po::value<std::size_t>()->default_value(c.http.max_connections), "concurrent connections, all threads together")
      ("reload-check-seconds", po::value<long>()->default_value(5), "also look for new publishes this often")
      ("log-queries", po::value<bool>()->default_value(true), "log every query (JSON lines on stderr)");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, desc), vm);
  if (vm.count("config")) {
    std::ifstream in(vm["config"].as<std::string>());
    if (!in) throw std::runtime_error("cannot read --config " + vm["config"].as<std::string>());
    po::store(po::parse_config_file(in, desc), vm);
  }
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return std::nullopt;
  }
  auto [host, port] = split_listen(listen);
  c.http.address = host;
  c.http.port = port;
  c.http.threads = threads;
  if (vm.count("db")) c.db = vm["db"].as<std::string>();
  for (const auto& a : aliases) {
    auto eq = a.find('=');
    if (eq == std::string::npos) throw std::runtime_error("--service-alias '" + a + "': expected REQUESTED=GIS");
    c.ecrf.service_aliases[a.substr(0, eq)] = a.substr(eq + 1);
  }
  for (const auto& d : defaults) {
    auto w = words(d);
    if (w.size() < 2) throw std::runtime_error("--default-mapping '" + d + "': expected SERVICE URI [DISPLAY NAME]");
    std::string name;
    for (std::size_t i = 2; i < w.size(); ++i) name += (i > 2 ? " " : "") + w[i];
    c.ecrf.default_mappings[w[0]] = {w[1], name};
  }
  for (const auto& p : peers) {
    auto w = words(p);
    if (w.size() != 3) throw std::runtime_error("--peer '" + p + "': expected ID URI REGION");
    if (!http::parse_uri(w[1])) throw std::runtime_error("--peer '" + p + "': URI must be http:// or https://");
    c.ecrf.peers.push_back({w[0], w[1], parse_region(w[2])});
  }
  if (c.ecrf.expires != "NO-CACHE" && c.ecrf.expires != "NO-EXPIRATION") {
    try {
      if (std::stol(c.ecrf.expires) < 0) throw std::invalid_argument("negative");
    } catch (const std::exception&) {
      throw std::runtime_error("--expires '" + c.ecrf.expires + "': seconds, NO-CACHE or NO-EXPIRATION");
    }
  }
  c.peer_timeout = std::chrono::milliseconds(vm["peer-timeout-ms"].as<long>());
  c.reload_check = std::chrono::seconds(vm["reload-check-seconds"].as<long>());
  c.log_queries = vm["log-queries"].as<bool>();
  c.http.max_body_bytes = vm["max-body-bytes"].as<std::size_t>();
  c.http.max_header_bytes = vm["max-header-bytes"].as<std::size_t>();
  c.http.request_timeout = std::chrono::milliseconds(vm["request-timeout-ms"].as<long>());
  c.http.idle_timeout = std::chrono::milliseconds(vm["idle-timeout-ms"].as<long>());
  c.http.max_connections = vm["max-connections"].as<std::size_t>();
  if (vm.count("tls-cert") != vm.count("tls-key")) throw std::runtime_error("--tls-cert and --tls-key go together");
  if (vm.count("tls-cert")) {
    c.http.tls = http::TlsOptions{vm["tls-cert"].as<std::string>(), vm["tls-key"].as<std::string>(),
                                  vm.count("tls-ca") ? vm["tls-ca"].as<std::string>() : "",
                                  vm["tls-require-client-cert"].as<bool>()};
    if (c.http.tls->require_client_cert && c.http.tls->ca_file.empty())
      throw std::runtime_error("--tls-require-client-cert needs --tls-ca");
  }
  return c;
}

}  // namespace ng911::lost
