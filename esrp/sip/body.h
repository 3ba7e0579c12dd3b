#pragma once
// Message bodies: multipart/mixed (RFC 2046, as SIP uses it per RFC 5621) split into parts
// with their headers and Content-ID, nested multiparts included, so that a PIDF-LO can be
// found by the cid: URI of a Geolocation header (RFC 6442). Parts are views; bodies are never
// rewritten, so what is forwarded is byte-exact.
#include <string_view>
#include <vector>

#include "sip/message.h"

namespace ng911::sip {

struct BodyPart {
  std::vector<Header> headers;
  std::string_view content_type;  // raw value; empty means text/plain
  std::string_view content_id;    // without <>
  std::string_view body;
  std::vector<BodyPart> parts;    // when this part is itself multipart
};

// Splits a multipart body at its boundary; throws SyntaxError when the boundary is missing, a
// part has no header/body separator, or the close delimiter is absent. Nesting is limited to
// max_depth levels.
std::vector<BodyPart> split_multipart(std::string_view body, std::string_view boundary, int max_depth = 8);

// The message's body as parts: one part for a single body, the split parts for multipart.
std::vector<BodyPart> body_parts(const Message& message);

// Depth-first search by Content-ID; accepts "cid:abc@host", "<abc@host>" or "abc@host".
const BodyPart* find_by_content_id(const std::vector<BodyPart>& parts, std::string_view cid);
// Depth-first search by media type, e.g. ("application", "pidf+xml").
const BodyPart* find_by_type(const std::vector<BodyPart>& parts, std::string_view type, std::string_view subtype);

}  // namespace ng911::sip
