#pragma once
// Syntax checks of NENA GIS field values. Each returns std::nullopt when the value is fine, or
// a short explanation of what is wrong, phrased for a GIS administrator.
#include <optional>
#include <string>
#include <string_view>

#include "gis/layer_catalog.h"

namespace ng911::gis {

using Problem = std::optional<std::string>;

Problem check_absolute_uri(std::string_view v);
Problem check_service_uri(std::string_view v);
Problem check_service_urn(std::string_view v);
Problem check_nguid(std::string_view v);
Problem check_domain(std::string_view v);
Problem check_timestamp(std::string_view v);  // ISO 8601 date or date-time
Problem check_integer(std::string_view v);    // fits a 32-bit signed integer

// Applies the field's type and FieldCheck.
Problem check_field(const FieldSpec& field, std::string_view v);

}  // namespace ng911::gis
