// One configuration mistake, located as FILE:LINE.
#pragma once

#include <string>

namespace tlsgate::policy {

struct ConfigError {
  std::string file;
  int line = 0;  // 0: the file as a whole
  std::string message;

  std::string to_string() const {
    return line > 0 ? file + ":" + std::to_string(line) + ": " + message : file + ": " + message;
  }
};

}  // namespace tlsgate::policy
