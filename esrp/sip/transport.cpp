#include "sip/transport.h"

#include <array>
#include <cerrno>
#include <deque>
#include <vector>

#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "sip/message.h"
#include "sip/text.h"

namespace ng911::sip {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;

const char* protocol_name(Protocol p) {
  switch (p) {
    case Protocol::udp: return "UDP";
    case Protocol::tcp: return "TCP";
    case Protocol::tls: return "TLS";
  }
  return "?";
}

std::string Endpoint::str() const {
  std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return std::string(protocol_name(protocol)) + ":" + host + ":" + std::to_string(port);
}

std::optional<Endpoint> endpoint_of(const Uri& uri, Protocol default_protocol) {
  if (!uri.is_sip()) return std::nullopt;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(std::string(uri.host), ec);
  if (ec) return std::nullopt;
  Protocol p = default_protocol;
  if (const Param* t = uri.param("transport"))
    p = iequals(t->value, "tls") ? Protocol::tls : iequals(t->value, "tcp") ? Protocol::tcp : Protocol::udp;
  if (uri.scheme == Scheme::sips) p = Protocol::tls;  // sips: is TLS hop by hop (§26.2)
  return Endpoint{p, addr, static_cast<std::uint16_t>(uri.port.value_or(p == Protocol::tls ? 5061 : 5060))};
}

Endpoint parse_endpoint(std::string_view text) {
  std::string_view s = text;
  Protocol p = Protocol::udp;
  if (s.starts_with("udp:")) s.remove_prefix(4);
  else if (s.starts_with("tcp:")) s.remove_prefix(4), p = Protocol::tcp;
  else if (s.starts_with("tls:")) s.remove_prefix(4), p = Protocol::tls;
  auto colon = s.rfind(':');
  auto port = colon == std::string_view::npos ? std::nullopt : parse_uint(s.substr(colon + 1), 65535);
  std::string host(s.substr(0, colon == std::string_view::npos ? 0 : colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (!port || ec) throw std::invalid_argument("'" + std::string(text) + "': expected [udp:|tcp:|tls:]ADDRESS:PORT");
  return Endpoint{p, addr, static_cast<std::uint16_t>(*port)};
}

namespace {
constexpr std::size_t kMaxDatagram = 65535;
constexpr std::size_t kMaxStreamBuffer = 256 * 1024;
// Datagrams taken by one recvmmsg(2), and the most handled in a row before the loop lets its
// other work (timers, TCP, LoST answers) run. Under load one system call then carries a burst
// of SIP messages, and the replies they cause leave together by one sendmmsg(2).
constexpr unsigned kDatagramBatch = 16;
constexpr unsigned kDatagramsPerWake = 64;
constexpr std::size_t kMaxGather = 64;  // messages in one gathered stream write (IOV_MAX is 1024)

// A send refused for want of room (the socket's buffer, the device queue): wait, not fail.
bool buffer_full(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS; }
}  // namespace

// SIP messages are whole and small: Nagle's algorithm would hold a BYE back behind the ACK
// just sent on the same connection until the peer's delayed ACK (about 40 ms).
namespace {
void no_delay(tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
}
}  // namespace

struct Transport::Impl : std::enable_shared_from_this<Impl> {
  struct Connection : std::enable_shared_from_this<Connection> {
    tcp::socket socket;
    std::unique_ptr<ssl::stream<tcp::socket&>> tls;  // over `socket` for TLS connections
    Endpoint peer;
    std::string in;
    std::deque<std::string> out;
    std::vector<asio::const_buffer> gather;  // the messages of the write in flight, front of `out`
    bool connected = false, writing = false, closed = false;
    bool kicked = false;  // in `kicked`: written at the end of the datagram batch
    std::weak_ptr<Impl> owner;
    // One buffer per connection for its reads (only one is ever pending): a fresh zeroed 16 KiB
    // buffer per read cost more than framing the messages in it.
    std::array<char, 16384> read_buffer;
    explicit Connection(tcp::socket s) : socket(std::move(s)) {}
  };

  asio::io_context& io;
  udp::socket udp_socket;
  tcp::acceptor acceptor;
  tcp::acceptor tls_acceptor;
  std::optional<TlsConfig> tls_config;
  std::unique_ptr<ssl::context> tls_server, tls_client;
  Receiver on_message;
  SendFailure on_failure;
  // recvmmsg(2)'s slots: a whole datagram each, so nothing is ever truncated. Only the bytes
  // a datagram fills are touched, so the megabyte reserved costs little memory.
  std::unique_ptr<char[]> datagrams = std::make_unique_for_overwrite<char[]>(kDatagramBatch * kMaxDatagram);
  std::array<udp::endpoint, kDatagramBatch> datagram_from;
  std::array<iovec, kDatagramBatch> datagram_iov{};
  std::array<mmsghdr, kDatagramBatch> datagram_hdr{};
  // UDP sends made while a batch of datagrams is handled wait here for one sendmmsg(2).
  struct Outgoing {
    udp::endpoint to;
    std::string bytes;
  };
  std::vector<Outgoing> outgoing;
  bool batching = false;
  std::function<void()> batch_begin, batch_end;
  // Connections given messages during a batch: written once it is handled, so that what one
  // batch sends a peer (a call's ACK and BYE, INVITEs for one PSAP queue) leaves in one write.
  std::vector<std::shared_ptr<Connection>> kicked;
  // Sends handed to Asio because the socket's buffer was full: later ones queue behind them,
  // so that datagrams to one peer keep their order.
  std::size_t queued_sends = 0;
  std::map<Endpoint, std::shared_ptr<Connection>> connections;
  // Where we are, asked once: the proxy reads them for every message (Via, Record-Route,
  // loop checks) and getsockname(2) each time showed in profiles.
  asio::ip::address bound_address;
  std::uint16_t bound_port = 0, bound_tls_port = 0;

  Impl(asio::io_context& ctx, const std::string& address, std::uint16_t port, Receiver r, SendFailure f,
       std::optional<TlsConfig> tls, bool reuse_port)
      : io(ctx), udp_socket(ctx), acceptor(ctx), tls_acceptor(ctx), tls_config(std::move(tls)), on_message(std::move(r)),
        on_failure(std::move(f)) {
    auto addr = asio::ip::make_address(address);
    int one = 1;
    bool any_port = port == 0;
    // With any port, TCP takes the number UDP got; that one may be taken for TCP by someone
    // else, so a few pairs are tried before giving up.
    for (int attempt = 0;; ++attempt) {
      udp_socket.open(addr.is_v6() ? udp::v6() : udp::v4());
      if (reuse_port) ::setsockopt(udp_socket.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
      udp_socket.bind(udp::endpoint(addr, any_port ? 0 : port));
      tcp::endpoint ep(addr, udp_socket.local_endpoint().port());
      acceptor.open(ep.protocol());
      acceptor.set_option(asio::socket_base::reuse_address(true));
      if (reuse_port) ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
      boost::system::error_code ec;
      acceptor.bind(ep, ec);
      if (!ec) break;
      if (!any_port || attempt >= 20) throw boost::system::system_error(ec, "bind TCP " + ep.address().to_string() + ":" + std::to_string(ep.port()));
      acceptor.close();
      udp_socket.close();
    }
    port = udp_socket.local_endpoint().port();
    // Bursts of calls must not overflow the kernel's datagram queue: a lost INVITE costs the
    // caller T1 and more. 4 MiB, forced past net.core.rmem_max when we may (root).
    int size = 4 * 1024 * 1024;
    if (::setsockopt(udp_socket.native_handle(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
      ::setsockopt(udp_socket.native_handle(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (::setsockopt(udp_socket.native_handle(), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
      ::setsockopt(udp_socket.native_handle(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    acceptor.listen();
    // TLS beside it: port + 1 (5061 beside 5060), or any free port when any was asked, since
    // port + 1 of an ephemeral port may well be taken.
    if (tls_config) set_up_tls(addr, any_port ? 0 : static_cast<std::uint16_t>(port + 1), reuse_port);
    bound_address = udp_socket.local_endpoint().address();
    bound_port = udp_socket.local_endpoint().port();
    bound_tls_port = tls_config ? tls_acceptor.local_endpoint().port() : 0;
  }

  void set_up_tls(const asio::ip::address& addr, std::uint16_t default_port, bool reuse_port) {
    tls_server = std::make_unique<ssl::context>(ssl::context::tls_server);
    tls_server->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                            ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls_server->use_certificate_chain_file(tls_config->cert_file);
    tls_server->use_private_key_file(tls_config->key_file, ssl::context::pem);
    if (!tls_config->ca_file.empty()) tls_server->load_verify_file(tls_config->ca_file);
    if (tls_config->require_client_cert)
      tls_server->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    tls_client = std::make_unique<ssl::context>(ssl::context::tls_client);
    tls_client->set_options(ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (tls_config->ca_file.empty()) tls_client->set_default_verify_paths();
    else tls_client->load_verify_file(tls_config->ca_file);
    tls_client->set_verify_mode(ssl::verify_peer);
    // A client certificate for peers that ask for one (mutual TLS between ESInet elements).
    tls_client->use_certificate_chain_file(tls_config->cert_file);
    tls_client->use_private_key_file(tls_config->key_file, ssl::context::pem);
    tcp::endpoint ep(addr, tls_config->port ? tls_config->port : default_port);
    tls_acceptor.open(ep.protocol());
    tls_acceptor.set_option(asio::socket_base::reuse_address(true));
    int one = 1;
    if (reuse_port) ::setsockopt(tls_acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    tls_acceptor.bind(ep);
    tls_acceptor.listen();
  }

  void start() {
    // recvmmsg's slots point at their buffers once; the kernel rewrites only the lengths.
    for (unsigned i = 0; i < kDatagramBatch; ++i) {
      datagram_iov[i] = iovec{datagrams.get() + i * kMaxDatagram, kMaxDatagram};
      datagram_hdr[i].msg_hdr.msg_name = datagram_from[i].data();
      datagram_hdr[i].msg_hdr.msg_iov = &datagram_iov[i];
      datagram_hdr[i].msg_hdr.msg_iovlen = 1;
    }
    receive_datagrams();
    accept();
    if (tls_config) accept_tls();
  }

  void accept_tls() {
    tls_acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (auto c = ec ? nullptr : self->adopt(std::move(socket), Protocol::tls)) {
        c->tls = std::make_unique<ssl::stream<tcp::socket&>>(c->socket, *self->tls_server);
        c->tls->async_handshake(ssl::stream_base::server, [self, c](boost::system::error_code hec) {
          if (hec) return self->close(c, "TLS handshake: " + hec.message(), false);
          c->connected = true;
          self->read(c);
          self->write(c);
        });
      }
      self->accept_tls();
    });
  }

  // Waits for the socket to be readable, then takes what is there in batches (see
  // kDatagramBatch). Asio's async_receive_from would cost a recvfrom(2) per datagram plus one
  // more that finds the socket empty each time the loop catches up.
  void receive_datagrams() {
    udp_socket.async_wait(udp::socket::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
      if (ec == asio::error::operation_aborted || !self->udp_socket.is_open()) return;
      self->drain_datagrams();
    });
  }

  void drain_datagrams() {
    unsigned handled = 0;
    while (handled < kDatagramsPerWake) {
      for (unsigned i = 0; i < kDatagramBatch; ++i)
        datagram_hdr[i].msg_hdr.msg_namelen = static_cast<socklen_t>(datagram_from[i].capacity());
      int n = ::recvmmsg(udp_socket.native_handle(), datagram_hdr.data(), kDatagramBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) break;  // empty (EAGAIN), or an error that waiting for readability will show again
      {
        BatchScope batch(*this);
        for (int i = 0; i < n && udp_socket.is_open(); ++i) {
          auto& from = datagram_from[i];
          from.resize(datagram_hdr[i].msg_hdr.msg_namelen);
          if (datagram_hdr[i].msg_len > 0)
            on_message(std::string(datagrams.get() + i * kMaxDatagram, datagram_hdr[i].msg_len),
                       Endpoint{Protocol::udp, from.address(), from.port()});
        }
      }
      handled += static_cast<unsigned>(n);
      if (!udp_socket.is_open()) return;
      // Fewer than asked: the socket was empty a moment ago, and anything arriving since wakes
      // the reactor again.
      if (static_cast<unsigned>(n) < kDatagramBatch) return receive_datagrams();
    }
    if (handled < kDatagramsPerWake) return receive_datagrams();
    // More may be waiting: come back after the loop's other ready work.
    asio::post(io, [self = shared_from_this()] {
      if (self->udp_socket.is_open()) self->drain_datagrams();
    });
  }

  // Sends right away (sendto(2), MSG_DONTWAIT); a full socket buffer hands the datagram to Asio,
  // which waits for room. Failures are reported from the loop, never from inside send(), whose
  // caller may be in the middle of changing the transaction the failure concerns.
  void send_datagram(const udp::endpoint& to, std::string bytes) {
    if (queued_sends == 0) {
      ssize_t sent = ::sendto(udp_socket.native_handle(), bytes.data(), bytes.size(), MSG_DONTWAIT, to.data(), static_cast<socklen_t>(to.size()));
      if (sent >= 0) return;
      if (!buffer_full(errno))
        return report_failure(to, boost::system::error_code(errno, boost::system::system_category()));
    }
    queue_datagram(to, std::move(bytes));
  }

  void queue_datagram(const udp::endpoint& to, std::string bytes) {
    ++queued_sends;
    auto data = std::make_shared<std::string>(std::move(bytes));
    udp_socket.async_send_to(asio::buffer(*data), to, [self = shared_from_this(), data, to](boost::system::error_code ec, std::size_t) {
      --self->queued_sends;
      if (ec && ec != asio::error::operation_aborted) self->report_failure(to, ec);
    });
  }

  void report_failure(const udp::endpoint& to, boost::system::error_code ec) {
    if (!on_failure) return;
    asio::post(io, [self = shared_from_this(), to, why = ec.message()] {
      self->on_failure(Endpoint{Protocol::udp, to.address(), to.port()}, why);
    });
  }

  // A batch of received messages: what they cause is sent at its end (flush_outgoing), after
  // the receiver's own end-of-batch work.
  void begin_batch() {
    batching = true;
    if (batch_begin) batch_begin();
  }
  void end_batch() {
    if (batch_end) batch_end();
    batching = false;
    flush_outgoing();
  }
  // A batch ended on every way out of the handler that began it.
  struct BatchScope {
    Impl& transport;
    explicit BatchScope(Impl& t) : transport(t) { transport.begin_batch(); }
    ~BatchScope() {
      try {
        transport.end_batch();
      } catch (...) {
        // Only the hook can throw (out of memory); the messages still went out.
      }
    }
    BatchScope(const BatchScope&) = delete;
    BatchScope& operator=(const BatchScope&) = delete;
  };

  // The datagrams a batch of received ones caused, in one sendmmsg(2) where possible; and the
  // stream messages it caused, one write per connection.
  void flush_outgoing() {
    for (auto& c : kicked) {
      c->kicked = false;
      write(c);
    }
    kicked.clear();
    std::size_t done = 0;
    while (done < outgoing.size() && queued_sends == 0) {
      std::size_t count = std::min<std::size_t>(outgoing.size() - done, 64);
      std::array<iovec, 64> iov;
      std::array<mmsghdr, 64> hdr;
      for (std::size_t i = 0; i < count; ++i) {
        auto& o = outgoing[done + i];
        iov[i] = iovec{o.bytes.data(), o.bytes.size()};
        hdr[i] = mmsghdr{};
        hdr[i].msg_hdr.msg_name = o.to.data();
        hdr[i].msg_hdr.msg_namelen = static_cast<socklen_t>(o.to.size());
        hdr[i].msg_hdr.msg_iov = &iov[i];
        hdr[i].msg_hdr.msg_iovlen = 1;
      }
      int sent = ::sendmmsg(udp_socket.native_handle(), hdr.data(), static_cast<unsigned>(count), MSG_DONTWAIT);
      if (sent > 0) {
        done += static_cast<std::size_t>(sent);
        continue;
      }
      if (buffer_full(errno)) break;
      // This one datagram cannot go (sendmmsg reports the first failure); the rest still may.
      report_failure(outgoing[done].to, boost::system::error_code(errno, boost::system::system_category()));
      ++done;
    }
    for (; done < outgoing.size(); ++done) queue_datagram(outgoing[done].to, std::move(outgoing[done].bytes));
    outgoing.clear();
  }

  // An accepted connection, registered under its peer; null when the peer already left.
  std::shared_ptr<Connection> adopt(tcp::socket socket, Protocol protocol) {
    boost::system::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    if (ec) return nullptr;
    no_delay(socket);
    auto c = std::make_shared<Connection>(std::move(socket));
    c->peer = Endpoint{protocol, remote.address(), remote.port()};
    c->owner = weak_from_this();
    connections[c->peer] = c;
    return c;
  }

  void accept() {
    acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (auto c = ec ? nullptr : self->adopt(std::move(socket), Protocol::tcp)) {
        c->connected = true;
        self->read(c);
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
    auto on_read = [self = shared_from_this(), c](boost::system::error_code ec, std::size_t n) {
      if (ec) return self->close(c, ec.message(), true);
      c->in.append(c->read_buffer.data(), n);
      // Frame every complete message in the buffer (RFC 3261 §18.3: by Content-Length), as one
      // batch: the datagrams they cause (a PSAP's 180 and 200 forwarded to a caller over UDP)
      // leave together.
      std::optional<BatchScope> batch;
      if (!self->batching) batch.emplace(*self);
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
    };
    if (c->tls) c->tls->async_read_some(asio::buffer(c->read_buffer), std::move(on_read));
    else c->socket.async_read_some(asio::buffer(c->read_buffer), std::move(on_read));
  }

  // Everything queued for the connection goes in one gathered write (sendmsg(2) with an iovec
  // per message): on loopback and in VMs each send wakes the peer, which costs more than the
  // copy; messages queued meanwhile go together in the next write.
  void write(const std::shared_ptr<Connection>& c) {
    if (c->writing || c->out.empty() || !c->connected || c->closed) return;
    c->writing = true;
    c->gather.clear();
    for (std::size_t i = 0; i < c->out.size() && i < kMaxGather; ++i) c->gather.push_back(asio::buffer(c->out[i]));
    auto on_written = [self = shared_from_this(), c](boost::system::error_code ec, std::size_t) {
      c->writing = false;
      if (ec) return self->close(c, ec.message(), true);
      c->out.erase(c->out.begin(), c->out.begin() + static_cast<std::ptrdiff_t>(c->gather.size()));
      c->gather.clear();
      self->write(c);
    };
    if (c->tls) asio::async_write(*c->tls, c->gather, std::move(on_written));
    else asio::async_write(c->socket, c->gather, std::move(on_written));
  }

  void send(const Endpoint& to, std::string bytes) {
    if (to.protocol == Protocol::udp) {
      udp::endpoint peer(to.address, to.port);
      if (batching) outgoing.push_back(Outgoing{peer, std::move(bytes)});
      else send_datagram(peer, std::move(bytes));
      return;
    }
    auto it = connections.find(to);
    if (it != connections.end()) {
      auto& c = it->second;
      c->out.push_back(std::move(bytes));
      if (!batching) {
        write(c);
      } else if (!c->kicked) {
        c->kicked = true;
        kicked.push_back(c);
      }
      return;
    }
    // RFC 3261 §18.1.1: open a connection to the peer; later messages reuse it.
    auto c = std::make_shared<Connection>(tcp::socket(io));
    c->peer = to;
    c->owner = weak_from_this();
    c->out.push_back(std::move(bytes));
    connections[to] = c;
    if (to.protocol == Protocol::tls) {
      if (!tls_client) {
        if (on_failure) on_failure(to, "TLS is not configured");
        connections.erase(to);
        return;
      }
      c->tls = std::make_unique<ssl::stream<tcp::socket&>>(c->socket, *tls_client);
      // The peer's certificate must name the address we dialled (RFC 5922 asks for the domain;
      // with literal addresses the IP is what we can check).
      c->tls->set_verify_callback(ssl::host_name_verification(to.address.to_string()));
    }
    c->socket.async_connect(tcp::endpoint(to.address, to.port), [self = shared_from_this(), c](boost::system::error_code ec) {
      if (ec) return self->close(c, "connect: " + ec.message(), true);
      no_delay(c->socket);
      if (!c->tls) {
        c->connected = true;
        self->read(c);
        self->write(c);
        return;
      }
      c->tls->async_handshake(ssl::stream_base::client, [self, c](boost::system::error_code hec) {
        if (hec) return self->close(c, "TLS handshake: " + hec.message(), true);
        c->connected = true;
        self->read(c);
        self->write(c);
      });
    });
  }

  void stop() {
    boost::system::error_code ignored;
    udp_socket.close(ignored);
    acceptor.close(ignored);
    tls_acceptor.close(ignored);
    for (auto& [peer, c] : connections) c->socket.close(ignored);
    connections.clear();
  }
};

Transport::Transport(asio::io_context& io, const std::string& address, std::uint16_t port, Receiver on_message,
                     SendFailure on_failure, std::optional<TlsConfig> tls, bool reuse_port)
    : impl_(std::make_shared<Impl>(io, address, port, std::move(on_message), std::move(on_failure), std::move(tls),
                                   reuse_port)) {
  impl_->start();
}

Transport::~Transport() { impl_->stop(); }

void Transport::send(const Endpoint& to, std::string bytes) { impl_->send(to, std::move(bytes)); }
void Transport::set_batch_hooks(std::function<void()> begin, std::function<void()> end) {
  impl_->batch_begin = std::move(begin);
  impl_->batch_end = std::move(end);
}

std::uint16_t Transport::port() const { return impl_->bound_port; }
std::uint16_t Transport::tls_port() const { return impl_->bound_tls_port; }
asio::ip::address Transport::address() const { return impl_->bound_address; }
int Transport::udp_socket_fd() const { return impl_->udp_socket.native_handle(); }

}  // namespace ng911::sip
