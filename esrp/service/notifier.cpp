#include "service/notifier.h"

#include <map>

#include <boost/asio/steady_timer.hpp>

#include "sip/dialog.h"
#include "sip/transport.h"

namespace ng911::esrp {

struct MessageNotifier::Impl : std::enable_shared_from_this<Impl> {
  struct Pending {
    sip::ClientTransaction tx;
    sip::Endpoint to;
    std::string target;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  boost::asio::io_context& io;
  std::string from;
  sip::TimerConfig timers;
  Log log;
  std::unique_ptr<sip::Transport> transport;
  std::map<std::string, Pending> pending;  // by client transaction key

  Impl(boost::asio::io_context& ctx, std::string from_uri, sip::TimerConfig t, Log l)
      : io(ctx), from(std::move(from_uri)), timers(t), log(std::move(l)) {}

  void start(const std::string& address) {
    std::weak_ptr<Impl> weak = shared_from_this();
    transport = std::make_unique<sip::Transport>(
        io, address, 0,
        [weak](std::string bytes, const sip::Endpoint&) {
          auto self = weak.lock();
          if (!self) return;
          sip::Message m = sip::Message::parse(std::move(bytes));
          if (!m.is_response() || !m.ok()) return;  // nothing but answers is expected here
          std::string key;
          try {
            key = sip::client_key(m);
          } catch (const sip::SyntaxError&) {
            return;
          }
          if (auto it = self->pending.find(key); it != self->pending.end())
            self->act(key, it->second.tx.on_response(std::move(m), sip::Clock::now()));
        },
        [weak](const sip::Endpoint& to, const std::string&) {
          auto self = weak.lock();
          if (!self) return;
          std::vector<std::string> hit;
          for (auto& [k, p] : self->pending)
            if (p.to == to) hit.push_back(k);
          for (auto& k : hit)
            if (auto it = self->pending.find(k); it != self->pending.end())
              self->act(k, it->second.tx.on_transport_error(sip::Clock::now()));
        });
  }

  void act(const std::string& key, sip::TxActions a) {
    auto it = pending.find(key);
    if (it == pending.end()) return;
    for (auto& bytes : a.send) transport->send(it->second.to, std::move(bytes));
    for (auto& r : a.to_tu)
      if (r.status() >= 200 && log) log(it->second.target, r.status(), r.status() < 300 ? "delivered" : "refused");
    if (a.timed_out && log) log(it->second.target, 408, "no answer");
    if (a.transport_failed && log) log(it->second.target, 503, "transport failure");
    if (a.terminated) {
      pending.erase(it);
      return;
    }
    if (a.wake) {
      it->second.timer->expires_at(*a.wake);
      it->second.timer->async_wait([weak = weak_from_this(), key](boost::system::error_code ec) {
        auto self = weak.lock();
        if (ec || !self) return;
        if (auto p = self->pending.find(key); p != self->pending.end())
          self->act(key, p->second.tx.on_timer(sip::Clock::now()));
      });
    }
  }
};

MessageNotifier::MessageNotifier(boost::asio::io_context& io, const std::string& address, std::string from_uri,
                                 sip::TimerConfig timers, Log log)
    : impl_(std::make_shared<Impl>(io, std::move(from_uri), timers, std::move(log))) {
  impl_->start(address);
}

MessageNotifier::~MessageNotifier() {
  for (auto& [k, p] : impl_->pending) p.timer->cancel();
}

void MessageNotifier::send(const std::string& target_uri, const std::string& text) {
  std::optional<sip::Endpoint> to;
  try {
    to = sip::endpoint_of(sip::parse_uri(target_uri));
  } catch (const sip::SyntaxError&) {
  }
  if (!to) {
    if (impl_->log) impl_->log(target_uri, 0, "unroutable URI");
    return;
  }
  auto a = impl_->transport->address();
  std::string host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  std::string sent_by = host + ":" + std::to_string(impl_->transport->port());
  auto b = sip::out_of_dialog_request("MESSAGE", target_uri, "<" + impl_->from + ">", "<" + target_uri + ">",
                                      "<sip:esrp@" + sent_by + ">", sent_by);
  b.body("text/plain;charset=UTF-8", text);
  std::string bytes = b.str();
  sip::Message m = sip::Message::parse(bytes);
  std::string key = sip::client_key(m.top_via().branch(), "MESSAGE");
  auto now = sip::Clock::now();
  Impl::Pending p{sip::ClientTransaction(bytes, false, now, impl_->timers), *to, target_uri,
                  std::make_unique<boost::asio::steady_timer>(impl_->io)};
  auto first = p.tx.start(now);
  impl_->pending.emplace(key, std::move(p));
  impl_->act(key, std::move(first));
}

}  // namespace ng911::esrp
