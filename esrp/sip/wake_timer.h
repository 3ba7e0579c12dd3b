#pragma once
// One timer for a SIP user agent's many deadlines (its transactions' timers, its own refreshes
// and retransmissions): set to the earliest of them, and set again only when that changes.
// The ESRP's queue monitor and the PSAP endpoint each keep tables of client and server
// transactions whose entries carry a `wake` time; these are the pieces they share.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "sip/transaction.h"

namespace ng911::sip {

// The earliest of some optional deadlines.
class Earliest {
 public:
  void consider(const std::optional<TimePoint>& t) {
    if (t && (!next_ || *t < *next_)) next_ = t;
  }
  // Every entry's `wake` in a table of transactions.
  template <typename Table>
  void consider_wakes(const Table& table) {
    for (const auto& [key, entry] : table) consider(entry.wake);
  }
  const std::optional<TimePoint>& next() const { return next_; }

 private:
  std::optional<TimePoint> next_;
};

// The keys of a table's entries whose `wake` has come, collected before any is acted on (acting
// may add or remove entries).
template <typename Table>
std::vector<typename Table::key_type> due(const Table& table, TimePoint now) {
  std::vector<typename Table::key_type> keys;
  for (const auto& [key, entry] : table)
    if (entry.wake && *entry.wake <= now) keys.push_back(key);
  return keys;
}

// Runs on_timer(now) of every due transaction in a table and hands the key and its actions to
// `act` (which may change the table).
template <typename Table, typename Act>
void fire_due(Table& table, TimePoint now, Act&& act) {
  for (const auto& key : due(table, now))
    if (auto it = table.find(key); it != table.end()) act(key, it->second.tx.on_timer(now));
}

class WakeTimer {
 public:
  explicit WakeTimer(boost::asio::any_io_executor executor) : timer_(std::move(executor)) {}

  // Sets the timer for `next` (none: no timer); `fire(now)` runs when it expires. A deadline
  // equal to the one set changes nothing. `fire` must not outlive its owner unguarded: capture
  // a weak pointer. Destroying the WakeTimer before it fires drops `fire` unrun.
  void set(const std::optional<TimePoint>& next, std::function<void(TimePoint)> fire) {
    if (next == *armed_) return;
    if (!next) {
      cancel();
      return;
    }
    *armed_ = next;
    timer_.expires_at(*next);
    timer_.async_wait([armed = std::weak_ptr(armed_), fire = std::move(fire)](boost::system::error_code ec) {
      auto still = armed.lock();
      if (ec || !still) return;
      still->reset();
      fire(Clock::now());
    });
  }

  // The same, calling owner->on_timer(now) if the owner still exists then.
  template <typename Owner>
  void set(const std::optional<TimePoint>& next, std::weak_ptr<Owner> owner, void (Owner::*on_timer)(TimePoint)) {
    set(next, [owner = std::move(owner), on_timer](TimePoint now) {
      if (auto self = owner.lock()) ((*self).*on_timer)(now);
    });
  }

  // No timer until the next set().
  void cancel() {
    armed_->reset();
    timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  std::shared_ptr<std::optional<TimePoint>> armed_ = std::make_shared<std::optional<TimePoint>>();
};

}  // namespace ng911::sip
