#pragma once
// SIP over UDP and TCP on Boost.Asio (RFC 3261 §18): one UDP socket and one TCP listener on the
// same address and port; TCP connections are reused in both directions and framed by
// Content-Length. Everything runs on the io_context it is given (one event loop; no locks).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

namespace ng911::sip {

enum class Protocol { udp, tcp };
const char* protocol_name(Protocol p);  // "UDP", "TCP"

struct Endpoint {
  Protocol protocol = Protocol::udp;
  boost::asio::ip::address address;
  std::uint16_t port = 0;
  std::string str() const;
  bool operator==(const Endpoint& o) const { return protocol == o.protocol && address == o.address && port == o.port; }
  bool operator<(const Endpoint& o) const {
    if (protocol != o.protocol) return protocol < o.protocol;
    if (address != o.address) return address < o.address;
    return port < o.port;
  }
};

class Transport {
 public:
  // Called for each complete message, with the peer it came from.
  using Receiver = std::function<void(std::string bytes, const Endpoint& from)>;
  // Called when a message could not be sent (connection refused, reset, ...).
  using SendFailure = std::function<void(const Endpoint& to, const std::string& why)>;

  Transport(boost::asio::io_context& io, const std::string& address, std::uint16_t port, Receiver on_message,
            SendFailure on_failure = {});
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  void send(const Endpoint& to, std::string bytes);
  std::uint16_t port() const;
  boost::asio::ip::address address() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ng911::sip
