#include "queue/queue_state.h"

#include <array>
#include <utility>

#include "sip/text.h"

namespace ng911::esrp {
namespace {
constexpr std::array<std::pair<QueueStatus, std::string_view>, 7> kNames{{
    {QueueStatus::active, "Active"},
    {QueueStatus::inactive, "Inactive"},
    {QueueStatus::disabled, "Disabled"},
    {QueueStatus::full, "Full"},
    {QueueStatus::standby, "Standby"},
    {QueueStatus::resource_exhausted, "ResourceExhausted"},
    {QueueStatus::unreachable, "Unreachable"},
}};
}  // namespace

std::string_view queue_status_name(QueueStatus s) {
  for (const auto& [status, name] : kNames)
    if (status == s) return name;
  return "Unreachable";
}

std::optional<QueueStatus> parse_queue_status(std::string_view name) {
  for (const auto& [status, known] : kNames)
    if (sip::iequals(known, name)) return status;
  return std::nullopt;
}

}  // namespace ng911::esrp
