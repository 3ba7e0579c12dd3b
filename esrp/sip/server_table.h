#pragma once
// The server transactions of a SIP user agent that is not a proxy (the ESRP's queue monitor,
// the PSAP endpoint): keyed by server_key(), each with the peer its responses go to and the time
// its timers next want it (see wake_timer.h).
#include <map>
#include <optional>
#include <string>

#include "sip/transaction.h"
#include "sip/transport.h"

namespace ng911::sip {

struct ServerEntry {
  ServerTransaction tx;
  Endpoint peer;
  std::optional<TimePoint> wake;
};
using ServerTable = std::map<std::string, ServerEntry>;

// Carries out a server transaction's actions: its messages go to its peer, its wake time is
// kept, and the entry goes once the transaction has ended. Nothing when `key` is gone already.
void act_on_server(ServerTable& servers, Transport& transport, const std::string& key, TxActions actions);

// The transaction of a new request (not a retransmission: look it up first), started: what it
// sends at once (an INVITE's 100) is sent. What the request asks is the caller's to answer.
ServerTable::iterator start_server(ServerTable& servers, Transport& transport, const std::string& key, Message request,
                                   const Endpoint& from, const TimerConfig& timers, TimePoint now);

}  // namespace ng911::sip
