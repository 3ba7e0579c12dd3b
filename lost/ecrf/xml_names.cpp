#include "ecrf/xml_names.h"

namespace ng911::ecrf {

std::string_view local_name(const pugi::xml_node& node) {
  std::string_view n(node.name());
  auto colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

std::string namespace_uri(const pugi::xml_node& node) {
  std::string_view name(node.name());
  auto colon = name.find(':');
  std::string attr = colon == std::string_view::npos ? "xmlns" : "xmlns:" + std::string(name.substr(0, colon));
  for (pugi::xml_node n = node; n; n = n.parent())
    if (auto a = n.attribute(attr.c_str())) return a.value();
  return {};
}

}  // namespace ng911::ecrf
