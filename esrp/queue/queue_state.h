#pragma once
// The states of a PSAP queue in NENA i3's emergency-QueueState event package, shared by the
// ESRP (subscriber, policy conditions) and the PSAP endpoint (notifier): one definition.
#include <optional>
#include <string_view>

namespace ng911::esrp {

enum class QueueStatus { active, inactive, disabled, full, standby, resource_exhausted, unreachable };

// "Active", "Inactive", "Disabled", "Full", "Standby", "ResourceExhausted", "Unreachable".
std::string_view queue_status_name(QueueStatus s);
// The state named (case-insensitive), or nullopt for an unknown name.
std::optional<QueueStatus> parse_queue_status(std::string_view name);

}  // namespace ng911::esrp
