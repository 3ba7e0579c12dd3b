#include "routing/ecrf_client.h"

#include <ctime>


namespace ng911::esrp {

std::chrono::system_clock::time_point expiry_of(const std::string& expires, std::chrono::system_clock::time_point now) {
  if (expires == "NO-EXPIRATION") return now + std::chrono::hours(24 * 365);
  std::tm tm{};
  // Our ECRF writes YYYY-MM-DDTHH:MM:SSZ; other forms are treated as not cacheable.
  if (expires.size() != 20 || expires.back() != 'Z' ||
      std::sscanf(expires.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec) != 6)
    return now;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

EcrfClient::EcrfClient(EcrfClientConfig config)
    : config_(std::move(config)), pool_(http::ClientPoolOptions{.ca_file = config_.ca_file}) {}

EcrfCounters EcrfClient::counters() const {
  EcrfCounters c = counters_;
  auto p = pool_.counters();
  c.connections_opened = p.connects;
  c.connections_reused = p.reuses;
  return c;
}

boost::asio::awaitable<LostAnswer> EcrfClient::find_service(const PidfLocation& location, std::string service,
                                                            LostIds ids) {
  ++counters_.queries;
  auto now = std::chrono::system_clock::now();
  std::string key = service + "\n" + location.profile + "\n" + location.location_info_xml;
  if (auto it = cache_.find(key); it != cache_.end()) {
    if (it->second.expiry->first > now) {
      ++counters_.cache_hits;
      co_return it->second.answer;
    }
    forget(it);
  }
  std::string request = find_service_request(location, service, ids);
  for (const auto& server : config_.servers) {
    auto reply = co_await pool_.post(server, "application/lost+xml", request, config_.timeout);
    if (!reply.ok || reply.status != 200) {
      ++counters_.server_failures;
      continue;  // next server
    }
    LostAnswer answer = parse_find_service_answer(reply.body);
    if (answer.error == "malformed" || answer.error == "serverTimeout" || answer.error == "serverError" ||
        answer.error == "internalError") {
      ++counters_.server_failures;
      continue;  // this server could not answer; another may
    }
    if (answer.mapping) {
      ++counters_.answers;
      auto until = expiry_of(answer.mapping->expires, now);
      if (until > now) remember(key, answer, until, now);
    } else {
      ++counters_.errors;
    }
    co_return answer;
  }
  ++counters_.errors;
  LostAnswer none;
  none.error = "unreachable";
  none.message = "no LoST server answered";
  co_return none;
}

void EcrfClient::remember(const std::string& key, const LostAnswer& answer, TimePoint until, TimePoint now) {
  if (config_.cache_entries == 0) return;
  // Expired answers go whether or not their location is asked for again.
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) forget(cache_.find(*by_expiry_.begin()->second));
  if (auto it = cache_.find(key); it != cache_.end()) forget(it);  // two queries for one place in flight
  if (cache_.size() >= config_.cache_entries) forget(cache_.find(*by_expiry_.begin()->second));
  auto it = cache_.emplace(key, Cached{answer, {}}).first;
  it->second.expiry = by_expiry_.emplace(until, &it->first);
}

void EcrfClient::forget(Cache::iterator it) {
  by_expiry_.erase(it->second.expiry);
  cache_.erase(it);
}

}  // namespace ng911::esrp
