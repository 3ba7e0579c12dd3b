#pragma once
// Test inputs from files: whole, byte for byte.
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace ng911::test {

// The file's bytes; throws when it cannot be read, so a missing fixture fails the test loudly.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read test input " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The emergency INVITE with an SDP and PIDF-LO multipart body (tests/data/sip).
inline std::string emergency_invite() { return read_file(std::string(NG911_TEST_DATA_DIR) + "/sip/emergency-invite.sip"); }

}  // namespace ng911::test
