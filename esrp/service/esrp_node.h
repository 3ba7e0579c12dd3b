#pragma once
// One ESRP node: the SIP proxy with the call router, the policy store (reloaded on change and
// SIGHUP), queue state subscriptions, the call log, policy notifications, /metrics and
// /healthz, and a graceful stop (SIGTERM: new calls are turned away with 503 so the caller's
// proxy tries another node, calls under way finish, the call log is flushed).
#include "service/config.h"

namespace ng911::esrp {

// Runs until SIGINT/SIGTERM; returns the process exit status. Throws for a setting that
// cannot be used at start (a port in use, a rule file that does not load).
int run_esrp(const EsrpOptions& options);

}  // namespace ng911::esrp
