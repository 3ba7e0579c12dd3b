#include "calllog/json_check.h"

#include <cstddef>

namespace ng911::esrp {

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t more = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range (RFC 3629 §4)
    if (c >= 0xC2 && c <= 0xDF) more = 1;
    else if (c >= 0xE0 && c <= 0xEF) more = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4) more = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else return false;
    if (s.size() - i - 1 < more) return false;
    for (std::size_t k = 1; k <= more; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) return false;
    }
    i += more + 1;
  }
  return true;
}

namespace {

// A recursive-descent recogniser; depth is bounded so that hostile nesting cannot exhaust the
// stack (the call log's details are flat, a few levels at most).
class Checker {
 public:
  explicit Checker(std::string_view t) : t_(t) {}

  bool object_document() {
    space();
    if (!peek('{') || !value(0)) return false;
    space();
    return i_ == t_.size();
  }

 private:
  static constexpr int kMaxDepth = 64;

  bool peek(char c) const { return i_ < t_.size() && t_[i_] == c; }
  bool eat(char c) {
    if (!peek(c)) return false;
    ++i_;
    return true;
  }
  void space() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r')) ++i_;
  }
  bool literal(std::string_view word) {
    if (t_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  static bool digit(char c) { return c >= '0' && c <= '9'; }
  static int hex(char c) {
    if (digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool value(int depth) {
    if (depth > kMaxDepth || i_ >= t_.size()) return false;
    switch (t_[i_]) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': return string();
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }

  bool object(int depth) {
    ++i_;  // {
    space();
    if (eat('}')) return true;
    for (;;) {
      space();
      if (!peek('"') || !string()) return false;
      space();
      if (!eat(':')) return false;
      space();
      if (!value(depth + 1)) return false;
      space();
      if (eat('}')) return true;
      if (!eat(',')) return false;
    }
  }

  bool array(int depth) {
    ++i_;  // [
    space();
    if (eat(']')) return true;
    for (;;) {
      space();
      if (!value(depth + 1)) return false;
      space();
      if (eat(']')) return true;
      if (!eat(',')) return false;
    }
  }

  bool string() {
    ++i_;  // "
    std::size_t run = i_;  // start of the raw bytes since the last escape, checked as UTF-8 in one go
    while (i_ < t_.size()) {
      auto c = static_cast<unsigned char>(t_[i_]);
      if (c == '"') {
        if (!valid_utf8(t_.substr(run, i_ - run))) return false;
        ++i_;
        return true;
      }
      if (c < 0x20) return false;
      if (c != '\\') {
        ++i_;
        continue;
      }
      if (!valid_utf8(t_.substr(run, i_ - run))) return false;
      if (++i_ >= t_.size()) return false;
      char e = t_[i_++];
      if (e == 'u') {
        if (!escaped_code_point()) return false;
      } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
        return false;
      }
      run = i_;
    }
    return false;
  }

  // \uXXXX after the "\u": surrogates must pair, and U+0000 is refused (jsonb cannot hold it).
  bool escaped_code_point() {
    int unit = four_hex();
    if (unit <= 0) return false;  // malformed, or U+0000
    if (unit >= 0xDC00 && unit <= 0xDFFF) return false;  // a low surrogate alone
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      if (!literal("\\u")) return false;
      int low = four_hex();
      return low >= 0xDC00 && low <= 0xDFFF;
    }
    return true;
  }

  int four_hex() {
    if (t_.size() - i_ < 4) return -1;
    int v = 0;
    for (int k = 0; k < 4; ++k) {
      int h = hex(t_[i_++]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    return v;
  }

  // Numbers a double cannot hold (nlohmann::json refuses them; PostgreSQL would take them) are
  // left to the call log's slow path: at most 40 characters and a two-digit exponent here.
  bool number() {
    const std::size_t start = i_;
    eat('-');
    if (eat('0')) {
    } else if (i_ < t_.size() && digit(t_[i_]) && t_[i_] != '0') {
      while (i_ < t_.size() && digit(t_[i_])) ++i_;
    } else {
      return false;
    }
    if (eat('.')) {
      if (i_ >= t_.size() || !digit(t_[i_])) return false;
      while (i_ < t_.size() && digit(t_[i_])) ++i_;
    }
    if (peek('e') || peek('E')) {
      ++i_;
      if (!eat('+')) eat('-');
      const std::size_t exponent = i_;
      if (i_ >= t_.size() || !digit(t_[i_])) return false;
      while (i_ < t_.size() && digit(t_[i_])) ++i_;
      if (i_ - exponent > 2) return false;
    }
    return i_ - start <= 40;
  }

  std::string_view t_;
  std::size_t i_ = 0;
};

}  // namespace

bool is_clean_json_object(std::string_view text) { return Checker(text).object_document(); }

}  // namespace ng911::esrp
