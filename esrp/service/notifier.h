#pragma once
// The policy's notify action: a SIP MESSAGE (RFC 3428, text/plain) to the URI the rule names,
// e.g. a supervisor's console, sent as a client transaction from a port of its own so that it
// never competes with the calls on the proxy's port. Outcomes go to the log callback.
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "sip/transaction.h"

namespace ng911::esrp {

class MessageNotifier {
 public:
  using Log = std::function<void(const std::string& target, int status, const std::string& outcome)>;
  MessageNotifier(boost::asio::io_context& io, const std::string& address, std::string from_uri,
                  sip::TimerConfig timers, Log log);
  ~MessageNotifier();
  void send(const std::string& target_uri, const std::string& text);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ng911::esrp
