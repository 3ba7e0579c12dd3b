#pragma once
// Building and editing SIP messages: add, remove and replace header fields, push and pop Via,
// rewrite the Request-URI, set a body, and serialise with a correct Content-Length. Unchanged
// fields stay views of the message being edited; only new text is stored.
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.h"

namespace ng911::sip {

class MessageBuilder {
 public:
  static MessageBuilder request(std::string_view method, std::string_view request_uri);
  static MessageBuilder response(int status, std::string_view reason);
  // Starts from an existing message, which must outlive the builder.
  static MessageBuilder edit(const Message& message);
  // RFC 3261 §8.2.6.2: the response to a request: its Via fields, From, To (with to_tag added
  // when To has none), Call-ID and CSeq.
  static MessageBuilder response_to(const Message& request, int status, std::string_view reason,
                                    std::string_view to_tag = {});

  MessageBuilder& request_uri(std::string_view uri);
  MessageBuilder& add(std::string_view name, std::string_view value);      // after the others
  MessageBuilder& add_top(std::string_view name, std::string_view value);  // before the others
  MessageBuilder& remove(HeaderId id);                                     // every field of it
  // The first field of `id` gets the value; the other fields of it are removed; added if absent.
  MessageBuilder& replace(HeaderId id, std::string_view value);
  MessageBuilder& push_via(std::string_view value) { return add_top("Via", value); }
  // Removes the topmost value of a header (Via, Route): one value of a comma list, or the field.
  MessageBuilder& pop_first_value(HeaderId id);
  MessageBuilder& pop_via() { return pop_first_value(HeaderId::via); }
  MessageBuilder& body(std::string_view content_type, std::string_view content);

  // The first value of a header as it will be written (empty if none).
  std::string_view first_value(HeaderId id) const;
  std::string str() const;

 private:
  struct Field {
    HeaderId id;
    std::string_view name, value;
  };
  std::string_view own(std::string text);

  std::deque<std::string> arena_;  // stable storage for text we made
  std::string start_line_;
  std::vector<Field> fields_;
  std::string_view body_;
  std::string_view body_type_;
  bool body_replaced_ = false;
};

}  // namespace ng911::sip
