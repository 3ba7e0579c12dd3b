#include "sip/transport.h"

#include <deque>

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "sip/message.h"

namespace ng911::sip {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;

const char* protocol_name(Protocol p) { return p == Protocol::udp ? "UDP" : "TCP"; }

std::string Endpoint::str() const {
  std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return std::string(protocol_name(protocol)) + ":" + host + ":" + std::to_string(port);
}

namespace {
constexpr std::size_t kMaxDatagram = 65535;
constexpr std::size_t kMaxStreamBuffer = 256 * 1024;
}  // namespace

struct Transport::Impl : std::enable_shared_from_this<Impl> {
  struct Connection : std::enable_shared_from_this<Connection> {
    tcp::socket socket;
    Endpoint peer;
    std::string in;
    std::deque<std::string> out;
    bool connected = false, writing = false, closed = false;
    std::weak_ptr<Impl> owner;
    explicit Connection(tcp::socket s) : socket(std::move(s)) {}
  };

  asio::io_context& io;
  udp::socket udp_socket;
  tcp::acceptor acceptor;
  Receiver on_message;
  SendFailure on_failure;
  std::array<char, kMaxDatagram> datagram{};
  udp::endpoint datagram_from;
  std::map<Endpoint, std::shared_ptr<Connection>> connections;

  Impl(asio::io_context& ctx, const std::string& address, std::uint16_t port, Receiver r, SendFailure f)
      : io(ctx), udp_socket(ctx), acceptor(ctx), on_message(std::move(r)), on_failure(std::move(f)) {
    auto addr = asio::ip::make_address(address);
    udp_socket.open(addr.is_v6() ? udp::v6() : udp::v4());
    udp_socket.bind(udp::endpoint(addr, port));
    // Bursts of calls must not overflow the kernel's datagram queue: a lost INVITE costs the
    // caller T1 and more. 4 MiB, forced past net.core.rmem_max when we may (root).
    int size = 4 * 1024 * 1024;
    if (::setsockopt(udp_socket.native_handle(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
      ::setsockopt(udp_socket.native_handle(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (::setsockopt(udp_socket.native_handle(), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
      ::setsockopt(udp_socket.native_handle(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    port = udp_socket.local_endpoint().port();  // the same port for TCP when 0 was asked
    tcp::endpoint ep(addr, port);
    acceptor.open(ep.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen();
  }

  void start() {
    receive_datagram();
    accept();
  }

  void receive_datagram() {
    udp_socket.async_receive_from(asio::buffer(datagram), datagram_from,
                                  [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                                    if (ec == asio::error::operation_aborted) return;
                                    if (!ec && n > 0)
                                      self->on_message(std::string(self->datagram.data(), n),
                                                       Endpoint{Protocol::udp, self->datagram_from.address(),
                                                                self->datagram_from.port()});
                                    self->receive_datagram();
                                  });
  }

  void accept() {
    acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        auto remote = socket.remote_endpoint(ec);
        if (!ec) {
          auto c = std::make_shared<Connection>(std::move(socket));
          c->peer = Endpoint{Protocol::tcp, remote.address(), remote.port()};
          c->connected = true;
          c->owner = self;
          self->connections[c->peer] = c;
          self->read(c);
        }
      }
      self->accept();
    });
  }

  void close(const std::shared_ptr<Connection>& c, const std::string& why, bool report) {
    if (c->closed) return;
    c->closed = true;
    boost::system::error_code ignored;
    c->socket.close(ignored);
    connections.erase(c->peer);
    if (report && on_failure && !c->out.empty()) on_failure(c->peer, why);
  }

  void read(const std::shared_ptr<Connection>& c) {
    auto buf = std::make_shared<std::array<char, 16384>>();
    c->socket.async_read_some(asio::buffer(*buf), [self = shared_from_this(), c, buf](boost::system::error_code ec,
                                                                                      std::size_t n) {
      if (ec) return self->close(c, ec.message(), true);
      c->in.append(buf->data(), n);
      // Frame every complete message in the buffer (RFC 3261 §18.3: by Content-Length).
      while (true) {
        std::optional<std::size_t> length;
        try {
          length = stream_frame_length(c->in);
        } catch (const SyntaxError&) {
          return self->close(c, "unframeable stream", false);  // no way to resynchronise
        }
        if (!length) break;
        std::string message = c->in.substr(0, *length);
        c->in.erase(0, *length);
        self->on_message(std::move(message), c->peer);
        if (c->closed) return;
      }
      if (c->in.size() > kMaxStreamBuffer) return self->close(c, "stream buffer overflow", false);
      self->read(c);
    });
  }

  void write(const std::shared_ptr<Connection>& c) {
    if (c->writing || c->out.empty() || !c->connected) return;
    c->writing = true;
    asio::async_write(c->socket, asio::buffer(c->out.front()), [self = shared_from_this(), c](boost::system::error_code ec,
                                                                                              std::size_t) {
      c->writing = false;
      if (ec) return self->close(c, ec.message(), true);
      c->out.pop_front();
      self->write(c);
    });
  }

  void send(const Endpoint& to, std::string bytes) {
    if (to.protocol == Protocol::udp) {
      auto data = std::make_shared<std::string>(std::move(bytes));
      udp_socket.async_send_to(asio::buffer(*data), udp::endpoint(to.address, to.port),
                               [self = shared_from_this(), data, to](boost::system::error_code ec, std::size_t) {
                                 if (ec && self->on_failure) self->on_failure(to, ec.message());
                               });
      return;
    }
    auto it = connections.find(to);
    if (it != connections.end()) {
      it->second->out.push_back(std::move(bytes));
      write(it->second);
      return;
    }
    // RFC 3261 §18.1.1: open a connection to the peer; later messages reuse it.
    auto c = std::make_shared<Connection>(tcp::socket(io));
    c->peer = to;
    c->owner = weak_from_this();
    c->out.push_back(std::move(bytes));
    connections[to] = c;
    c->socket.async_connect(tcp::endpoint(to.address, to.port), [self = shared_from_this(), c](boost::system::error_code ec) {
      if (ec) return self->close(c, "connect: " + ec.message(), true);
      c->connected = true;
      self->read(c);
      self->write(c);
    });
  }

  void stop() {
    boost::system::error_code ignored;
    udp_socket.close(ignored);
    acceptor.close(ignored);
    for (auto& [peer, c] : connections) c->socket.close(ignored);
    connections.clear();
  }
};

Transport::Transport(asio::io_context& io, const std::string& address, std::uint16_t port, Receiver on_message,
                     SendFailure on_failure)
    : impl_(std::make_shared<Impl>(io, address, port, std::move(on_message), std::move(on_failure))) {
  impl_->start();
}

Transport::~Transport() { impl_->stop(); }

void Transport::send(const Endpoint& to, std::string bytes) { impl_->send(to, std::move(bytes)); }
std::uint16_t Transport::port() const { return impl_->udp_socket.local_endpoint().port(); }
asio::ip::address Transport::address() const { return impl_->udp_socket.local_endpoint().address(); }

}  // namespace ng911::sip
