#include "routing/held_client.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <sstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "ecrf/lost_request.h"
#include "ecrf/xml_names.h"
#include "http/server.h"
#include "sip/text.h"

namespace ng911::esrp {
namespace {

constexpr const char* kPidfNs = "urn:ietf:params:xml:ns:pidf";
// parse_pidf_lo and the shape parsers recurse over the tree; a LIS must not be able to exhaust
// the ESRP's stack or time with a deep or bushy document. Real PIDF-LOs are a dozen levels deep.
constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxElements = 20000;

HeldResult malformed(std::string why) {
  HeldResult r;
  r.error = "malformed: " + why;
  return r;
}

// Counts with pugixml's own iterative walk, so that the check itself cannot overflow the stack.
struct TreeSize : pugi::xml_tree_walker {
  int depth_seen = 0;
  std::size_t elements = 0;
  bool for_each(pugi::xml_node& node) override {
    if (node.type() != pugi::node_element) return true;
    ++elements;
    depth_seen = std::max(depth_seen, depth());
    return elements <= kMaxElements && depth_seen <= kMaxDepth;
  }
};

// The element as a document of its own, with the namespace declarations it inherited, so that
// it parses alone and reads in the log as the LIS meant it.
std::string standalone_xml(const pugi::xml_node& element) {
  pugi::xml_document doc;
  auto copy = doc.append_copy(element);
  for (pugi::xml_node n = element.parent(); n; n = n.parent())
    for (auto a : n.attributes()) {
      std::string_view name(a.name());
      // The nearest declaration of a prefix is the one in scope: ancestors further up do not override it.
      if ((name == "xmlns" || name.starts_with("xmlns:")) && !copy.attribute(a.name()))
        copy.append_attribute(a.name()) = a.value();
    }
  std::ostringstream s;
  doc.save(s, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return s.str();
}

const char* location_type_name(HeldLocationType type) {
  switch (type) {
    case HeldLocationType::geodetic: return "geodetic";
    case HeldLocationType::civic: return "civic";
    case HeldLocationType::any: break;
  }
  return "any";
}

// http::post takes its URI and content type by reference; a post that runs on after the
// dereference gave up on it must own them, so they are copied into this coroutine's frame.
boost::asio::awaitable<http::ClientResult> post_owned(std::string uri, std::string body, std::chrono::milliseconds timeout,
                                                      std::string ca_file) {
  std::string content_type = kHeldContentType;
  co_return co_await http::post(uri, content_type, std::move(body), timeout, std::move(ca_file));
}

// The outcome of http::post, handed from the coroutine that runs it to the one that waits.
struct Exchange {
  explicit Exchange(const boost::asio::any_io_executor& executor) : done(executor) {}
  std::optional<http::ClientResult> reply;
  boost::asio::steady_timer done;  // cancelled when the reply is in
};

}  // namespace

std::string held_location_request(HeldLocationType type) {
  pugi::xml_document doc;
  auto root = doc.append_child("locationRequest");
  root.append_attribute("xmlns") = kHeldNs;
  root.append_attribute("responseTime") = "emergencyRouting";
  auto location_type = root.append_child("locationType");
  location_type.append_attribute("exact") = "false";
  location_type.text() = location_type_name(type);
  std::ostringstream s;
  doc.save(s, "", pugi::format_raw, pugi::encoding_utf8);
  return s.str();
}

HeldResult parse_held_response(std::string_view body) {
  if (body.size() > kHeldMaxResponseBytes)
    return malformed("the answer is " + std::to_string(body.size()) + " bytes, over the limit of " +
                     std::to_string(kHeldMaxResponseBytes));
  if (auto bad = ecrf::first_non_xml_char(body))
    return malformed("a character XML does not allow at byte " + std::to_string(*bad));
  // HELD has no use for a DTD; refusing one closes every entity trick before pugixml sees it.
  if (body.find("<!DOCTYPE") != std::string_view::npos || body.find("<!ENTITY") != std::string_view::npos)
    return malformed("DOCTYPE and entity declarations are not allowed");
  pugi::xml_document doc;
  auto loaded = doc.load_buffer(body.data(), body.size());
  if (!loaded || !doc.document_element())
    return malformed(std::string("not well-formed XML (") + loaded.description() + " at byte " +
                     std::to_string(loaded.offset) + ")");
  TreeSize size;
  if (!doc.traverse(size))
    return malformed("the document is nested deeper than " + std::to_string(kMaxDepth) + " or has more than " +
                     std::to_string(kMaxElements) + " elements");
  auto root = doc.document_element();
  if (ecrf::namespace_uri(root) != kHeldNs)
    return malformed("<" + std::string(ecrf::local_name(root)) + "> is not in the HELD namespace " + kHeldNs);
  auto name = ecrf::local_name(root);
  if (name == "error") {
    auto code = sip::trim(root.attribute("code").value());
    if (!sip::is_token(code)) return malformed("a HELD error without a usable code");
    HeldResult r;
    r.error = std::string(code);
    for (auto c : root.children())
      if (c.type() == pugi::node_element && ecrf::local_name(c) == "message" && ecrf::namespace_uri(c) == kHeldNs) {
        r.message = std::string(sip::trim(c.child_value()));
        break;
      }
    return r;
  }
  if (name != "locationResponse") return malformed("unexpected <" + std::string(name) + ">");

  HeldResult r;
  bool uri_set = false, presence = false;
  for (auto c : root.children()) {
    if (c.type() != pugi::node_element) continue;
    if (ecrf::local_name(c) == "locationUriSet" && ecrf::namespace_uri(c) == kHeldNs) uri_set = true;
    if (ecrf::local_name(c) != "presence" || ecrf::namespace_uri(c) != kPidfNs) continue;
    presence = true;
    std::string xml = standalone_xml(c);
    try {
      auto locations = parse_pidf_lo(xml, r.problems);
      if (!locations.empty() && !r.location) {
        r.location = std::move(locations.front());
        r.pidf_xml = std::move(xml);
      }
    } catch (const ecrf::LocationInvalid& e) {
      r.problems.push_back(e.what());
    }
    // Without a usable location, the first PIDF-LO is the one worth logging.
    if (!r.location && r.pidf_xml.empty()) r.pidf_xml = std::move(xml);
  }
  if (!r.location) {
    r.error = "no location";
    r.message = presence  ? "no usable location in the PIDF-LO"
                : uri_set ? "only a locationUriSet, no location by value"
                          : "an empty locationResponse";
  }
  return r;
}

boost::asio::awaitable<HeldResult> dereference(std::string uri, HeldConfig config) {
  // RFC 3986 schemes are case-insensitive; the HTTP client reads them in lower case only.
  if (auto colon = uri.find(':'); colon != std::string::npos)
    std::transform(uri.begin(), uri.begin() + static_cast<std::ptrdiff_t>(colon), uri.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!http::parse_uri(uri)) {
    HeldResult r;
    r.error = "bad uri";
    r.message = "HELD dereferences http: and https: URIs only, not " + uri;
    co_return r;
  }
  auto executor = co_await boost::asio::this_coro::executor;
  auto exchange = std::make_shared<Exchange>(executor);
  // http::post's own deadline starts after name resolution, which can hang on a sick resolver;
  // this one bounds the whole dereference, as the call waiting for it needs.
  exchange->done.expires_after(config.timeout);
  boost::asio::co_spawn(
      executor,
      post_owned(uri, held_location_request(config.location_type), config.timeout, config.ca_file),
      [exchange](std::exception_ptr e, http::ClientResult reply) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {  // e.g. an unreadable CA file
            reply.error = x.what();
          } catch (...) {
            reply.error = "unknown failure";
          }
        }
        exchange->reply = std::move(reply);
        exchange->done.cancel();
      });
  if (!exchange->reply) {
    boost::system::error_code ec;
    co_await exchange->done.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  HeldResult r;
  if (!exchange->reply) {
    r.error = "timeout";
    r.message = "no answer within " + std::to_string(config.timeout.count()) + " ms";
    co_return r;
  }
  auto& reply = *exchange->reply;
  if (!reply.ok) {
    r.error = reply.timed_out ? "timeout" : "unreachable";
    r.message = reply.error;
    co_return r;
  }
  if (reply.status != 200) {
    r.error = "http " + std::to_string(reply.status);
    // A LIS may explain a failure status with a HELD error; worth a line in the log.
    if (auto held = parse_held_response(reply.body); !held.error.starts_with("malformed") && !held.error.empty())
      r.message = held.error + (held.message.empty() ? "" : ": " + held.message);
    co_return r;
  }
  co_return parse_held_response(reply.body);
}

}  // namespace ng911::esrp
