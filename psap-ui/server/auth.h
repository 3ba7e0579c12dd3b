#pragma once
// Call-takers' credentials and sessions: PBKDF2-HMAC-SHA256 password hashes with a salt of
// their own (OpenSSL EVP), compared in constant time; random session tokens, kept in the
// database only as their SHA-256, so that a copy of the table lets nobody log in.
#include <optional>
#include <string>
#include <string_view>

namespace ng911::psap {

enum class Role { call_taker, supervisor };
std::string_view role_name(Role role);  // "call-taker", "supervisor"
std::optional<Role> parse_role(std::string_view name);

// OWASP's 2023 floor for PBKDF2-HMAC-SHA256 is 600,000; a login costs ~0.3 s of one core at
// that, on the loop that also carries the calls, so the default trades some of it for latency.
inline constexpr unsigned kDefaultPbkdf2Iterations = 210'000;

// "pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX" with a 16-byte random salt and a 32-byte hash.
std::string hash_password(std::string_view password, unsigned iterations = kDefaultPbkdf2Iterations);
// False for a wrong password and for a stored value that is not one of ours (never throws).
bool verify_password(std::string_view password, std::string_view stored);

// 32 random bytes, hex: the value of the session cookie.
std::string new_session_token();
std::string sha256_hex(std::string_view data);

// The value of cookie `name` in a Cookie header ("a=1; sid=xyz"), if present.
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);

}  // namespace ng911::psap
