// held_lis: a small HELD server (RFC 5985; dereference as in RFC 6753) standing in for an
// access network's LIS in the ESRP's tests. The LIS is a peer of the ESRP, not part of the
// product, so it lives with the tests; it is strict about what it is sent, so that a test
// passing against it says something about our requests.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <pthread.h>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/program_options.hpp>
#include <pugixml.hpp>

#include "ecrf/xml_names.h"
#include "http/server.h"

namespace {

using ng911::ecrf::local_name;
using ng911::ecrf::namespace_uri;

constexpr const char* kHeldNs = "urn:ietf:params:xml:ns:geopriv:held";
constexpr const char* kHeldType = "application/held+xml";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string serialize(const pugi::xml_document& doc) {
  std::ostringstream s;
  doc.save(s, "", pugi::format_raw, pugi::encoding_utf8);
  return s.str();
}

// RFC 5985 section 8: an error is a 200 response whose body says what went wrong.
ng911::http::Response held_error(const char* code, const std::string& message) {
  pugi::xml_document doc;
  auto e = doc.append_child("error");
  e.append_attribute("xmlns") = kHeldNs;
  e.append_attribute("code") = code;
  auto m = e.append_child("message");
  m.append_attribute("xml:lang") = "en";
  m.text() = message.c_str();
  return {200, kHeldType, serialize(doc), {}};
}

bool is_tokens_of(std::string_view text, std::initializer_list<std::string_view> allowed) {
  std::istringstream words{std::string(text)};
  std::string w;
  int n = 0;
  while (words >> w) {
    if (std::find(allowed.begin(), allowed.end(), w) == allowed.end()) return false;
    ++n;
  }
  return n > 0;
}

// Why the body is not a locationRequest we can serve: empty when it is one. The checks follow
// held-base.xsd: the element, responseTime, one optional locationType with a valid list.
std::string request_problem(const std::string& body, const char*& code) {
  code = "xmlError";
  if (body.find("<!DOCTYPE") != std::string::npos) return "DOCTYPE not allowed";
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size()) || !doc.document_element()) return "not well-formed XML";
  auto root = doc.document_element();
  if (namespace_uri(root) != kHeldNs) return "not in the HELD namespace";
  if (local_name(root) != "locationRequest") {
    code = "unsupportedMessage";
    return "<" + std::string(local_name(root)) + "> is not a request this LIS serves";
  }
  if (auto rt = root.attribute("responseTime")) {
    std::string_view v = rt.value();
    bool number = !v.empty() && v.find_first_not_of("0123456789") == std::string_view::npos;
    if (!number && v != "emergencyRouting" && v != "emergencyDispatch") return "bad responseTime";
  }
  int location_types = 0;
  for (auto c : root.children()) {
    if (c.type() != pugi::node_element) continue;
    if (namespace_uri(c) != kHeldNs) continue;  // extensions (xs:any ##other) are allowed
    if (local_name(c) != "locationType" || ++location_types > 1) return "unexpected <" + std::string(local_name(c)) + ">";
    std::string_view value = c.child_value();
    if (!is_tokens_of(value, {"any"}) && !is_tokens_of(value, {"civic", "geodetic", "locationURI"}))
      return "bad locationType";
    if (auto exact = c.attribute("exact")) {
      std::string_view e = exact.value();
      if (e != "true" && e != "false" && e != "1" && e != "0") return "bad exact";
    }
  }
  return {};
}

struct Lis {
  std::map<std::string, std::string> responses;  // path → locationResponse
  std::map<std::string, std::string> raw;        // path → body sent as it is
  std::map<std::string, unsigned> statuses;      // path → HTTP status
  std::chrono::milliseconds delay{0};

  boost::asio::awaitable<ng911::http::Response> handle(ng911::http::Request& request) {
    if (delay.count() > 0) {
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    std::string path = request.target.substr(0, request.target.find('?'));
    if (auto s = statuses.find(path); s != statuses.end()) co_return ng911::http::Response{s->second, "text/plain", "status as configured\n", {}};
    if (request.method != "POST")
      co_return ng911::http::Response{405, "text/plain", "HELD takes POST\n", {{"Allow", "POST"}}};
    if (auto r = raw.find(path); r != raw.end()) co_return ng911::http::Response{200, kHeldType, r->second, {}};
    const char* code = nullptr;
    if (auto problem = request_problem(request.body, code); !problem.empty()) co_return held_error(code, problem);
    auto found = responses.find(path);
    if (found == responses.end()) co_return held_error("locationUnknown", "no location for " + path);
    co_return ng911::http::Response{200, kHeldType, found->second, {}};
  }
};

std::pair<std::string, std::string> split_mapping(const std::string& option, const std::string& value) {
  auto eq = value.find('=');
  if (eq == std::string::npos || eq == 0 || value[0] != '/')
    throw std::runtime_error("--" + option + " wants PATH=VALUE with PATH starting with /, not " + value);
  return {value.substr(0, eq), value.substr(eq + 1)};
}

// The locationResponse around the PIDF-LO in `file`, as RFC 5985 section 6.2 lays it out.
std::string location_response(const std::string& file) {
  std::string pidf = read_file(file);
  pugi::xml_document in;
  if (!in.load_buffer(pidf.data(), pidf.size()) || !in.document_element())
    throw std::runtime_error(file + " is not well-formed XML");
  pugi::xml_document out;
  auto root = out.append_child("locationResponse");
  root.append_attribute("xmlns") = kHeldNs;
  root.append_copy(in.document_element());
  return serialize(out);
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  // SIGINT and SIGTERM are waited for below; blocked before the server's thread starts, so
  // that they reach the waiter and not a worker.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    po::options_description desc("held_lis: a test LIS answering HELD locationRequests");
    std::string listen;
    std::vector<std::string> locations, raws, statuses;
    int delay_ms = 0;
    std::string tls_cert, tls_key;
    desc.add_options()("help", "this text")
        ("listen", po::value(&listen)->default_value("127.0.0.1:0"), "ADDRESS:PORT ([::1]:PORT for IPv6; port 0: any free one)")
        ("location", po::value(&locations), "PATH=FILE: answer POSTs to PATH with a locationResponse around the PIDF-LO in FILE (repeatable)")
        ("raw", po::value(&raws), "PATH=FILE: answer POSTs to PATH with FILE's bytes as they are (repeatable)")
        ("status", po::value(&statuses), "PATH=CODE: answer requests for PATH with this HTTP status (repeatable)")
        ("delay-ms", po::value(&delay_ms), "wait this long before each answer")
        ("tls-cert", po::value(&tls_cert), "serve HTTPS with this certificate (PEM)")
        ("tls-key", po::value(&tls_key), "and this key (PEM)");
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << desc;
      return 0;
    }
    Lis lis;
    lis.delay = std::chrono::milliseconds(delay_ms);
    for (const auto& l : locations) {
      auto [path, file] = split_mapping("location", l);
      lis.responses[path] = location_response(file);
    }
    for (const auto& r : raws) {
      auto [path, file] = split_mapping("raw", r);
      lis.raw[path] = read_file(file);
    }
    for (const auto& s : statuses) {
      auto [path, code] = split_mapping("status", s);
      lis.statuses[path] = static_cast<unsigned>(std::stoul(code));
    }

    ng911::http::ServerOptions options;
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("--listen wants ADDRESS:PORT, not " + listen);
    options.address = listen.substr(0, colon);
    if (options.address.size() > 2 && options.address.front() == '[' && options.address.back() == ']')
      options.address = options.address.substr(1, options.address.size() - 2);
    options.port = static_cast<unsigned short>(std::stoul(listen.substr(colon + 1)));
    options.threads = 1;
    if (!tls_cert.empty()) options.tls = ng911::http::TlsOptions{tls_cert, tls_key, "", false};
    ng911::http::Server server(options, [&lis](ng911::http::Request& r) { return lis.handle(r); });
    bool v6 = options.address.find(':') != std::string::npos;
    std::cout << "held_lis listening on " << (options.tls ? "https://" : "http://") << (v6 ? "[" : "")
              << options.address << (v6 ? "]" : "") << ":" << server.port() << "/" << std::endl;
    std::thread worker([&server] { server.run(); });
    int signal = 0;
    sigwait(&signals, &signal);
    server.stop();
    worker.join();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "held_lis: " << e.what() << "\n";
    return 2;
  }
}
