#pragma once
// Namespace-aware names on pugixml nodes, which keep prefixes as written: the local part of a
// name, and the namespace URI its prefix is bound to in scope.
#include <string>
#include <string_view>

#include <pugixml.hpp>

namespace ng911::ecrf {

std::string_view local_name(const pugi::xml_node& node);
std::string namespace_uri(const pugi::xml_node& node);

}  // namespace ng911::ecrf
