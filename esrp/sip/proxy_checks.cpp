#include "sip/proxy_checks.h"

#include "sip/text.h"

namespace ng911::sip {

std::optional<Rejection> check_request(const Message& request, const ProxyRules& rules) {
  if (!request.is_request()) return Rejection{400, "not a request", {}};
  if (!request.ok()) return Rejection{request.error_status(), request.error(), {}};
  Uri ruri = request.parsed_request_uri();
  bool routable = ruri.is_sip() || (ruri.scheme == Scheme::tel && rules.accept_tel) ||
                  (ruri.scheme == Scheme::urn && rules.accept_urn);
  if (!routable) return Rejection{416, "Unsupported URI Scheme", {}};
  if (auto mf = request.max_forwards(); mf && *mf == 0) return Rejection{483, "Too Many Hops", {}};
  std::string unsupported;
  for (const auto* h : request.find_all(HeaderId::proxy_require))
    for (auto tag : parse_token_list(h->value)) {
      bool known = false;
      for (const auto& s : rules.supported_extensions) known = known || iequals(s, tag);
      if (!known) unsupported += (unsupported.empty() ? "" : ", ") + std::string(tag);
    }
  if (!unsupported.empty()) return Rejection{420, "Bad Extension", unsupported};
  return std::nullopt;
}

bool response_forwardable(const Message& response) {
  if (!response.is_response() || !response.ok()) return false;
  auto vias = response.vias();
  if (vias.size() < 2) return false;  // the top one is ours; nobody to forward to
  const Via& next = vias[1];
  return next.host != "255.255.255.255" && next.host != "0.0.0.0" && next.host != "::";
}

}  // namespace ng911::sip
