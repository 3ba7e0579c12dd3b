#include "sip/body.h"

#include <string>

#include "sip/text.h"

namespace ng911::sip {
namespace {

std::string_view strip_cid(std::string_view cid) {
  cid = trim(cid);
  if (cid.size() >= 4 && iequals(cid.substr(0, 4), "cid:")) cid.remove_prefix(4);
  if (cid.size() >= 2 && cid.front() == '<' && cid.back() == '>') cid = cid.substr(1, cid.size() - 2);
  return cid;
}

BodyPart make_part(std::string_view raw, int depth_left) {
  BodyPart part;
  // Headers, then an empty line, then the body. A part may have no headers at all (it then
  // starts with the empty line).
  std::size_t pos = 0;
  while (true) {
    auto nl = raw.find('\n', pos);
    if (nl == std::string_view::npos) throw SyntaxError("multipart part without an empty line after its headers");
    std::string_view line = raw.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    if (line.empty()) break;
    // Folded continuation lines belong to the previous header.
    if ((line.front() == ' ' || line.front() == '\t') && !part.headers.empty()) {
      auto& last = part.headers.back();
      last.value = std::string_view(last.value.data(), static_cast<std::size_t>(line.data() + line.size() - last.value.data()));
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) throw SyntaxError("multipart part header without ':'");
    std::string_view name = trim(line.substr(0, colon));
    if (!is_token(name)) throw SyntaxError("bad multipart part header name");
    part.headers.push_back(Header{header_id(name), name, trim(line.substr(colon + 1))});
  }
  part.body = raw.substr(pos);
  for (const auto& h : part.headers) {
    if (h.id == HeaderId::content_type) part.content_type = h.value;
    if (h.id == HeaderId::content_id) part.content_id = strip_cid(h.value);
  }
  if (!part.content_type.empty()) {
    MediaType type = parse_media_type(part.content_type);
    if (iequals(type.type, "multipart")) {
      if (depth_left == 0) throw SyntaxError("multipart nested too deeply");
      part.parts = split_multipart(part.body, type.param_value("boundary"), depth_left - 1);
    }
  }
  return part;
}

}  // namespace

std::vector<BodyPart> split_multipart(std::string_view body, std::string_view boundary, int max_depth) {
  if (boundary.empty() || boundary.size() > 70) throw SyntaxError("multipart without a valid boundary");
  std::string delimiter = "--" + std::string(boundary);
  std::vector<BodyPart> parts;
  // The first delimiter may open the body or follow a preamble after a line break.
  std::size_t at = body.starts_with(delimiter) ? 0 : std::string_view::npos;
  if (at == std::string_view::npos) {
    auto crlf = body.find("\n" + delimiter);
    if (crlf == std::string_view::npos) throw SyntaxError("multipart boundary not found in the body");
    at = crlf + 1;
  }
  while (true) {
    std::size_t after = at + delimiter.size();
    if (body.substr(after, 2) == "--") return parts;  // close delimiter
    // Rest of the delimiter line (transport padding) up to its line break.
    auto eol = body.find('\n', after);
    if (eol == std::string_view::npos) throw SyntaxError("multipart delimiter line not terminated");
    std::size_t start = eol + 1;
    auto next = body.find("\n" + delimiter, start);
    if (next == std::string_view::npos) throw SyntaxError("multipart body has no close delimiter");
    // The line break before a delimiter belongs to the delimiter, not to the part.
    std::size_t end = next;
    if (end > start && body[end - 1] == '\r') --end;
    if (parts.size() == 256) throw SyntaxError("too many multipart parts");
    parts.push_back(make_part(body.substr(start, end - start), max_depth));
    at = next + 1;
  }
}

std::vector<BodyPart> body_parts(const Message& message) {
  std::vector<BodyPart> out;
  if (message.body().empty()) return out;
  auto type = message.content_type();
  if (type && iequals(type->type, "multipart")) return split_multipart(message.body(), type->param_value("boundary"));
  BodyPart single;
  single.content_type = message.value(HeaderId::content_type);
  single.content_id = strip_cid(message.value(HeaderId::content_id));
  single.body = message.body();
  out.push_back(single);
  return out;
}

const BodyPart* find_by_content_id(const std::vector<BodyPart>& parts, std::string_view cid) {
  cid = strip_cid(cid);
  for (const auto& p : parts) {
    if (!p.content_id.empty() && p.content_id == cid) return &p;
    if (const BodyPart* inner = find_by_content_id(p.parts, cid)) return inner;
  }
  return nullptr;
}

const BodyPart* find_by_type(const std::vector<BodyPart>& parts, std::string_view type, std::string_view subtype) {
  for (const auto& p : parts) {
    if (!p.content_type.empty()) {
      try {
        if (parse_media_type(p.content_type).is(type, subtype)) return &p;
      } catch (const SyntaxError&) {
      }
    }
    if (const BodyPart* inner = find_by_type(p.parts, type, subtype)) return inner;
  }
  return nullptr;
}

}  // namespace ng911::sip
