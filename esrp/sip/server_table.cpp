#include "sip/server_table.h"

namespace ng911::sip {

void act_on_server(ServerTable& servers, Transport& transport, const std::string& key, TxActions actions) {
  auto it = servers.find(key);
  if (it == servers.end()) return;
  for (auto& bytes : actions.send) transport.send(it->second.peer, std::move(bytes));
  if (actions.terminated) servers.erase(it);
  else it->second.wake = actions.wake;
}

ServerTable::iterator start_server(ServerTable& servers, Transport& transport, const std::string& key, Message request,
                                   const Endpoint& from, const TimerConfig& timers, TimePoint now) {
  ServerEntry entry{ServerTransaction(std::move(request), from.protocol != Protocol::udp, timers), from, {}};
  auto started = entry.tx.start(now);
  servers.emplace(key, std::move(entry));
  act_on_server(servers, transport, key, std::move(started));
  return servers.find(key);
}

}  // namespace ng911::sip
