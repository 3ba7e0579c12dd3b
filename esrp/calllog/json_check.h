#pragma once
// Checks, without building anything, that text is one JSON object (RFC 8259) whose strings are
// valid UTF-8 (RFC 3629) that PostgreSQL's jsonb takes (no escaped U+0000). The call log runs
// this on every event's detail on the ESRP's event loop; nlohmann::json::accept gives the same
// answer but copies every byte into two buffers for its error messages, which cost more than
// routing the call did. Differentially tested against nlohmann::json::accept.
#include <string_view>

namespace ng911::esrp {

bool valid_utf8(std::string_view s);
bool is_clean_json_object(std::string_view text);

}  // namespace ng911::esrp
