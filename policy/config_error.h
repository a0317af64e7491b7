// One configuration mistake, located as FILE:LINE.
#pragma once

#include <string>
#include <string_view>

namespace tlsgate::policy {

struct ConfigError {
  std::string file;
  int line = 0;  // 0: the file as a whole
  std::string message;

  // "FILE:LINE: message" as one line of text: messages quote what the file says, so
  // control characters (a stray CR, an escape sequence) are written as \xNN.
  std::string to_string() const {
    return printable(line > 0 ? file + ":" + std::to_string(line) + ": " + message
                              : file + ": " + message);
  }

 private:
  static std::string printable(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c == 0x7f) {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
      } else {
        out += ch;
      }
    }
    return out;
  }
};

}  // namespace tlsgate::policy
