// The call log's JSON check: what it takes and refuses, and, over many mutated details, never a
// text that nlohmann::json (the project's JSON library) would refuse, nor a refusal of one it
// takes (but for the escaped U+0000 that PostgreSQL's jsonb cannot hold).
#define BOOST_TEST_MODULE ng911 ESRP call log JSON check tests
#include <boost/test/unit_test.hpp>

#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "calllog/json_check.h"
#include "server/log.h"

using ng911::esrp::is_clean_json_object;
using ng911::esrp::valid_utf8;

namespace {

bool library_says_object(const std::string& text) {
  if (!nlohmann::json::accept(text)) return false;
  auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string::npos && text[first] == '{';
}

const std::vector<std::string> kDetails = {
    R"({"result":"mapping","message":"","uris":["sip:psap-a@127.0.0.1:5071"],"took_ms":1.25})",
    R"({"lat":30.2672,"lon":-97.7431,"radius_m":10,"source":"value","shape":"Point"})",
    R"({"target":"sip:psap-b@127.0.0.1:5072","index":1,"status":408,"reason":"ring no answer"})",
    R"( {"rules":["overflow-a"],"targets":[{"uri":"sip:q@x","why":"rule"}],"ok":true,"none":null,"e":-1.5E+3} )",
    "{\"from\":\"\\\"Caller \\u00e9\\\" <sip:caller@example.com>\",\"tab\":\"a\\tb\",\"u\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x9a\x91\"}",
    R"({"pair":"\ud83d\ude91","slash":"\/","empty":{},"list":[]})",
};

}  // namespace

BOOST_AUTO_TEST_SUITE(esrp_json_check)

BOOST_AUTO_TEST_CASE(takes_clean_objects) {
  for (const auto& d : kDetails) {
    BOOST_TEST(is_clean_json_object(d), d);
    BOOST_TEST(library_says_object(d), d);
  }
}

BOOST_AUTO_TEST_CASE(refuses_what_jsonb_or_json_would_refuse) {
  for (const std::string& bad : std::vector<std::string>{"", "[]", "\"x\"", "1", "{", "{}}", "{} x", "{\"a\"}", "{\"a\":}", "{\"a\":1,}",
                          "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":.5}", "{\"a\":1e}", "{\"a\":tru}",
                          "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u0000\"}", "{\"a\":\"\\ud800\"}",
                          "{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}", "{a:1}", "{'a':1}",
                          std::string("{\"a\":\"\x01\"}"), std::string("{\"a\":\"x\0y\"}", 10)})
    BOOST_TEST(!is_clean_json_object(bad), bad);
  for (const std::string& bad_utf8 : std::vector<std::string>{"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80",
                               "\xc3", "\xe2\x82", "\x80", "a\xffz"}) {
    BOOST_TEST(!valid_utf8(bad_utf8));
    BOOST_TEST(!is_clean_json_object("{\"a\":\"" + bad_utf8 + "\"}"));
    BOOST_TEST(!is_clean_json_object("{\"" + bad_utf8 + "\":1}"));
  }
  BOOST_TEST(valid_utf8("plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x91"));
  std::string deep(100, '[');
  BOOST_TEST(!is_clean_json_object("{\"a\":" + deep + std::string(100, ']') + "}"));  // bounded depth
  BOOST_TEST(!is_clean_json_object("{\"a\":1e400}"));                      // over a double: slow path
  BOOST_TEST(!is_clean_json_object("{\"a\":" + std::string(60, '9') + "}"));
  BOOST_TEST(is_clean_json_object("{\"a\":-1.5e-12,\"b\":0,\"c\":1E+99}"));
}

// Every one-byte deletion and every replacement by a character that matters to JSON, in each
// sample: the check and the library agree on all of them.
BOOST_AUTO_TEST_CASE(agrees_with_the_library_on_mutations) {
  const std::string swaps = "{}[]\":,\\u0e.-+ \x01\xc3\xa9\xff";
  std::size_t tried = 0, taken = 0;
  auto compare = [&](const std::string& text) {
    ++tried;
    bool ours = is_clean_json_object(text);
    bool library = library_says_object(text);
    if (ours) ++taken;
    BOOST_TEST((!ours || library), text);  // never a text the library refuses
    // and the library's texts too, but for an escaped U+0000 and numbers a double cannot hold,
    // which the check leaves to the call log's slow path on purpose
    static const std::regex left_out(R"(\\u0000|[eE][+-]?[0-9]{3,}|[-0-9.eE+]{41,})");
    if (!std::regex_search(text, left_out)) BOOST_TEST(ours == library, text);
  };
  for (const auto& d : kDetails) {
    for (std::size_t i = 0; i < d.size(); ++i) {
      compare(d.substr(0, i) + d.substr(i + 1));
      for (char c : swaps) {
        std::string t = d;
        t[i] = c;
        compare(t);
      }
    }
  }
  BOOST_TEST(tried > 5000u);
  BOOST_TEST(taken > 100u);  // the mutations are not all broken: both sides saw good texts too
}

// The escaper every call-log record and log line goes through: whatever bytes of valid UTF-8 it
// is given come back unchanged from a JSON parser, and the text passes the check.
BOOST_AUTO_TEST_CASE(escaped_strings_round_trip) {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all += static_cast<char>(c);
  all += "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x91 \"quoted\" back\\slash";
  for (const std::string& s : {all, std::string(), std::string("plain"), std::string("\x01\x1f\n")}) {
    std::string text = "{\"v\":\"";
    ng911::lost::append_json_escaped(text, s);
    text += "\"}";
    BOOST_TEST(is_clean_json_object(text), text);
    BOOST_TEST(nlohmann::json::parse(text)["v"].get<std::string>() == s);
  }
}

// The escaper reads eight bytes at a time: each character that needs an escape, at every
// position of strings of every length around the word size, must still be found.
BOOST_AUTO_TEST_CASE(escaping_finds_every_special_character_at_every_position) {
  const std::vector<std::string> specials = {"\"", "\\", "\n", "\r", "\t", "\x01", "\x1f"};
  int checked = 0;
  for (std::size_t length = 1; length <= 26; ++length)
    for (std::size_t at = 0; at < length; ++at)
      for (const auto& special : specials) {
        std::string s(length, 'a');
        for (std::size_t i = 0; i < length; ++i) s[i] = static_cast<char>(i % 2 ? '~' : ' ');  // 0x7e and 0x20
        if (at >= 2) s.replace(0, 2, "\xc3\xa9");  // UTF-8 bytes pass unescaped
        s.replace(at, 1, special);
        std::string text = "{\"v\":\"";
        ng911::lost::append_json_escaped(text, s);
        text += "\"}";
        BOOST_TEST_REQUIRE(is_clean_json_object(text), text);
        BOOST_TEST_REQUIRE(nlohmann::json::parse(text)["v"].get<std::string>() == s, text);
        ++checked;
      }
  BOOST_TEST(checked == 351 * 7);
}

BOOST_AUTO_TEST_CASE(iso_utc_times) {
  using namespace std::chrono;
  auto t = sys_days{year{2026} / 11 / 26} + hours{9} + minutes{41} + seconds{21} + microseconds{123456};
  BOOST_TEST(ng911::lost::iso_utc(t, 6) == "2026-11-26T09:41:21.123456Z");
  BOOST_TEST(ng911::lost::iso_utc(t, 3) == "2026-11-26T09:41:21.123Z");
  BOOST_TEST(ng911::lost::iso_utc(t, 0) == "2026-11-26T09:41:21Z");
}

BOOST_AUTO_TEST_SUITE_END()
