#include "queue/queue_state_body.h"

#include <limits>

#include <nlohmann/json.hpp>

namespace ng911::esrp {
namespace {

using nlohmann::json;

const json& member(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) throw QueueStateBodyError(std::string("queue state: \"") + name + "\" is missing");
  return *it;
}

// A count of calls: a JSON integer from 0 up (nlohmann reads those as unsigned; negatives and
// fractions have other types).
unsigned count(const json& object, const char* name) {
  const json& v = member(object, name);
  if (!v.is_number_unsigned() || v.get<std::uint64_t>() > std::numeric_limits<unsigned>::max())
    throw QueueStateBodyError(std::string("queue state: \"") + name + "\" must be an integer from 0 up, not " + v.dump());
  return v.get<unsigned>();
}

const std::string& text(const json& object, const char* name) {
  const json& v = member(object, name);
  if (!v.is_string()) throw QueueStateBodyError(std::string("queue state: \"") + name + "\" must be a string, not " + v.dump());
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty()) throw QueueStateBodyError(std::string("queue state: \"") + name + "\" is empty");
  return s;
}

}  // namespace

QueueStateBody parse_queue_state_body(std::string_view body) {
  json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded()) throw QueueStateBodyError("queue state: the body is not JSON");
  if (!doc.is_object()) throw QueueStateBodyError("queue state: the body must be a JSON object, not " + std::string(doc.type_name()));
  const json* object = &doc;
  if (auto it = doc.find("queueState"); it != doc.end()) {
    if (!it->is_object())
      throw QueueStateBodyError("queue state: \"queueState\" must be an object, not " + std::string(it->type_name()));
    object = &*it;
  } else if (!doc.contains("state")) {
    throw QueueStateBodyError("queue state: \"queueState\" is missing");
  }
  QueueStateBody out;
  out.queue_uri = text(*object, "queueUri");
  out.queue_length = count(*object, "queueLength");
  out.max_length = count(*object, "queueMaxLength");
  const std::string& name = text(*object, "state");
  auto state = parse_queue_status(name);
  if (!state) throw QueueStateBodyError("queue state: unknown state \"" + name + "\"");
  out.state = *state;
  return out;
}

std::string queue_state_body(const QueueStateBody& body) {
  // ordered_json keeps the members in the order NENA lists them, which readers of logs expect.
  nlohmann::ordered_json inner;
  inner["queueUri"] = body.queue_uri;
  inner["queueLength"] = body.queue_length;
  inner["queueMaxLength"] = body.max_length;
  inner["state"] = std::string(queue_status_name(body.state));
  nlohmann::ordered_json doc;
  doc["queueState"] = std::move(inner);
  return doc.dump();
}

}  // namespace ng911::esrp
