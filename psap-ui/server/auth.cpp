#include "auth.h"

#include <array>
#include <charconv>
#include <stdexcept>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace ng911::psap {

namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr std::size_t kSaltBytes = 16, kHashBytes = 32;

std::string to_hex(const unsigned char* data, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 0xf]);
  }
  return out;
}

std::optional<std::vector<unsigned char>> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::vector<unsigned char> out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, value, 16);
    if (ec != std::errc() || p != hex.data() + i + 2) return std::nullopt;
    out.push_back(static_cast<unsigned char>(value));
  }
  return out;
}

std::vector<unsigned char> random_bytes(std::size_t n) {
  std::vector<unsigned char> out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
  return out;
}

std::array<unsigned char, kHashBytes> pbkdf2(std::string_view password, const std::vector<unsigned char>& salt,
                                             unsigned iterations) {
  std::array<unsigned char, kHashBytes> out{};
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(), static_cast<int>(salt.size()),
                        static_cast<int>(iterations), EVP_sha256(), static_cast<int>(out.size()), out.data()) != 1)
    throw std::runtime_error("PKCS5_PBKDF2_HMAC failed");
  return out;
}

}  // namespace

std::string_view role_name(Role role) { return role == Role::supervisor ? "supervisor" : "call-taker"; }

std::optional<Role> parse_role(std::string_view name) {
  if (name == "call-taker") return Role::call_taker;
  if (name == "supervisor") return Role::supervisor;
  return std::nullopt;
}

std::string hash_password(std::string_view password, unsigned iterations) {
  if (iterations == 0) throw std::invalid_argument("PBKDF2 needs at least one iteration");
  auto salt = random_bytes(kSaltBytes);
  auto hash = pbkdf2(password, salt, iterations);
  return std::string(kScheme) + "$" + std::to_string(iterations) + "$" + to_hex(salt.data(), salt.size()) + "$" +
         to_hex(hash.data(), hash.size());
}

bool verify_password(std::string_view password, std::string_view stored) {
  std::array<std::string_view, 4> parts;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto dollar = stored.find('$');
    if ((i < 3) == (dollar == std::string_view::npos)) return false;
    parts[i] = stored.substr(0, dollar);
    stored = i < 3 ? stored.substr(dollar + 1) : std::string_view{};
  }
  if (parts[0] != kScheme) return false;
  unsigned iterations = 0;
  auto [p, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), iterations);
  // A bound on the work factor: a tampered row must not make a login burn minutes of CPU.
  if (ec != std::errc() || p != parts[1].data() + parts[1].size() || iterations == 0 || iterations > 10'000'000)
    return false;
  auto salt = from_hex(parts[2]);
  auto expected = from_hex(parts[3]);
  if (!salt || salt->empty() || !expected || expected->size() != kHashBytes) return false;
  try {
    auto got = pbkdf2(password, *salt, iterations);
    return CRYPTO_memcmp(got.data(), expected->data(), kHashBytes) == 0;
  } catch (const std::runtime_error&) {
    return false;
  }
}

std::string new_session_token() {
  auto bytes = random_bytes(32);
  return to_hex(bytes.data(), bytes.size());
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("EVP_Digest failed");
  return to_hex(digest, len);
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
  }
  return std::nullopt;
}

}  // namespace ng911::psap
