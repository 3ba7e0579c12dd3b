#pragma once
// SIP over UDP and TCP on Boost.Asio (RFC 3261 §18): one UDP socket and one TCP listener on the
// same address and port; TCP connections are reused in both directions and framed by
// Content-Length. Everything runs on the io_context it is given (one event loop; no locks).
// With reuse_port several transports, one per event loop, share the port (SO_REUSEPORT): the
// kernel spreads datagrams and connections over them.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include "sip/uri.h"

namespace ng911::sip {

enum class Protocol { udp, tcp, tls };
const char* protocol_name(Protocol p);  // "UDP", "TCP", "TLS"

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

// Where a SIP URI with a literal address sends to: sips: and transport=tls mean TLS,
// transport=tcp TCP, otherwise default_protocol; default port 5060 (5061 for TLS). nullopt for
// other schemes and for host names, which need DNS (RFC 3263).
std::optional<Endpoint> endpoint_of(const Uri& uri, Protocol default_protocol = Protocol::udp);
// "[udp:|tcp:|tls:]ADDRESS:PORT" (IPv6 in brackets); throws std::invalid_argument.
Endpoint parse_endpoint(std::string_view text);

// SIP over TLS (RFC 3261 §26, sips:): our certificate for the TLS listener, and the CAs that
// peers' certificates must chain to (client side: the server's, always checked; server side:
// the client's, when require_client_cert).
struct TlsConfig {
  std::string cert_file, key_file;
  std::string ca_file;
  std::uint16_t port = 0;  // the TLS listener; 0: the UDP/TCP port + 1 (5061 beside 5060), or any
                           // free port when the UDP/TCP port was 0
  bool require_client_cert = false;
};

class Transport {
 public:
  // Called for each complete message, with the peer it came from.
  using Receiver = std::function<void(std::string bytes, const Endpoint& from)>;
  // Called when a message could not be sent (connection refused, reset, ...).
  using SendFailure = std::function<void(const Endpoint& to, const std::string& why)>;

  Transport(boost::asio::io_context& io, const std::string& address, std::uint16_t port, Receiver on_message,
            SendFailure on_failure = {}, std::optional<TlsConfig> tls = std::nullopt, bool reuse_port = false);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  void send(const Endpoint& to, std::string bytes);
  // Called around each batch of received messages (the datagrams one wake-up drains, the
  // messages framed from one stream read): `end` runs after the batch's last message was
  // handled and before the messages it caused are sent, so that what the receiver kept aside
  // during the batch (the ESRP's call log events) is written once, and before those messages
  // leave. Either may be empty.
  void set_batch_hooks(std::function<void()> begin, std::function<void()> end);
  std::uint16_t port() const;
  std::uint16_t tls_port() const;  // 0 without TLS
  boost::asio::ip::address address() const;
  // The listening UDP socket (for a reuseport group's selector: dataplane/steer.h); owned here.
  int udp_socket_fd() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ng911::sip
