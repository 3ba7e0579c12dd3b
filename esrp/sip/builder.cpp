#include "sip/builder.h"

#include "sip/text.h"

namespace ng911::sip {

std::string_view MessageBuilder::own(std::string text) {
  arena_.push_back(std::move(text));
  return arena_.back();
}

MessageBuilder MessageBuilder::request(std::string_view method, std::string_view request_uri) {
  MessageBuilder b;
  b.start_line_ = std::string(method) + " " + std::string(request_uri) + " SIP/2.0";
  return b;
}

MessageBuilder MessageBuilder::response(int status, std::string_view reason) {
  MessageBuilder b;
  b.start_line_ = "SIP/2.0 " + std::to_string(status) + " " + std::string(reason);
  return b;
}

MessageBuilder MessageBuilder::edit(const Message& m) {
  MessageBuilder b;
  if (m.is_request())
    b.start_line_ = std::string(m.method()) + " " + std::string(m.request_uri()) + " SIP/2.0";
  else
    b.start_line_ = "SIP/2.0 " + std::to_string(m.status()) + " " + std::string(m.reason());
  for (const auto& h : m.headers())
    if (h.id != HeaderId::content_length) b.fields_.push_back({h.id, h.name, h.value});
  b.body_ = m.body();
  return b;
}

MessageBuilder MessageBuilder::response_to(const Message& request, int status, std::string_view reason,
                                           std::string_view to_tag) {
  MessageBuilder b = response(status, reason);
  for (const auto& h : request.headers()) {
    switch (h.id) {
      case HeaderId::via:
      case HeaderId::from:
      case HeaderId::call_id:
      case HeaderId::cseq:
        b.fields_.push_back({h.id, canonical_name(h.id), h.value});
        break;
      case HeaderId::to: {
        bool tagged = false;
        try {
          tagged = !parse_name_addr(h.value).tag().empty();
        } catch (const SyntaxError&) {
        }
        if (!tagged && !to_tag.empty() && status > 100)
          b.fields_.push_back({h.id, "To", b.own(std::string(h.value) + ";tag=" + std::string(to_tag))});
        else
          b.fields_.push_back({h.id, "To", h.value});
        break;
      }
      default:
        break;
    }
  }
  return b;
}

MessageBuilder& MessageBuilder::request_uri(std::string_view uri) {
  auto sp1 = start_line_.find(' ');
  auto sp2 = start_line_.rfind(' ');
  start_line_ = start_line_.substr(0, sp1 + 1) + std::string(uri) + start_line_.substr(sp2);
  return *this;
}

MessageBuilder& MessageBuilder::add(std::string_view name, std::string_view value) {
  fields_.push_back({header_id(name), own(std::string(name)), own(std::string(value))});
  return *this;
}

MessageBuilder& MessageBuilder::add_top(std::string_view name, std::string_view value) {
  fields_.insert(fields_.begin(), Field{header_id(name), own(std::string(name)), own(std::string(value))});
  return *this;
}

MessageBuilder& MessageBuilder::remove(HeaderId id) {
  std::erase_if(fields_, [id](const Field& f) { return f.id == id; });
  return *this;
}

MessageBuilder& MessageBuilder::replace(HeaderId id, std::string_view value) {
  bool done = false;
  std::string_view stored = own(std::string(value));
  std::erase_if(fields_, [&](Field& f) {
    if (f.id != id) return false;
    if (done) return true;
    f.value = stored;
    done = true;
    return false;
  });
  if (!done) fields_.push_back({id, canonical_name(id), stored});
  return *this;
}

MessageBuilder& MessageBuilder::pop_first_value(HeaderId id) {
  for (auto it = fields_.begin(); it != fields_.end(); ++it) {
    if (it->id != id) continue;
    std::string_view rest;
    bool first = true, more = false;
    for_each_comma_value(it->value, [&](std::string_view v) {
      if (first) {
        first = false;
        return true;
      }
      // Everything from the second value on, as written.
      rest = std::string_view(v.data(), static_cast<std::size_t>(it->value.data() + it->value.size() - v.data()));
      more = true;
      return false;
    });
    if (more) it->value = rest;
    else fields_.erase(it);
    return *this;
  }
  return *this;
}

MessageBuilder& MessageBuilder::body(std::string_view content_type, std::string_view content) {
  body_ = own(std::string(content));
  body_type_ = own(std::string(content_type));
  body_replaced_ = true;
  return *this;
}

std::string_view MessageBuilder::first_value(HeaderId id) const {
  for (const auto& f : fields_)
    if (f.id == id) return f.value;
  return {};
}

std::string MessageBuilder::str() const {
  std::string out;
  std::size_t size = start_line_.size() + body_.size() + 64;
  for (const auto& f : fields_) size += f.name.size() + f.value.size() + 4;
  out.reserve(size);
  out += start_line_;
  out += "\r\n";
  for (const auto& f : fields_) {
    if (body_replaced_ && f.id == HeaderId::content_type) continue;
    out += f.name;
    out += ": ";
    out += f.value;
    out += "\r\n";
  }
  if (body_replaced_ && !body_type_.empty()) {
    out += "Content-Type: ";
    out += body_type_;
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(body_.size());
  out += "\r\n\r\n";
  out += body_;
  return out;
}

}  // namespace ng911::sip
