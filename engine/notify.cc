#include "engine/notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

namespace tlsgate::engine::notify {
namespace {

// One assignment a line: a value never carries a line break into the next one.
std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

std::string ready(std::string_view socket, std::string_view summary) {
  return "READY=1\nSTATUS=" +
         one_line("listening on " + std::string(socket) + ": " + std::string(summary));
}

std::string reloading(std::uint64_t monotonic_usec) {
  return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec) + "\nSTATUS=reloading";
}

std::string reloaded(bool taken, std::string_view summary) {
  const std::string status =
      taken ? "reloaded: " + std::string(summary)
            : "reload failed, the previous policy stays in force (see the log): " +
                  std::string(summary);
  return "READY=1\nSTATUS=" + one_line(status);
}

std::string stopping() { return "STOPPING=1\nSTATUS=stopping"; }

std::string failed(std::string_view reason, int error) {
  std::string message = "STATUS=" + one_line(reason);
  if (error != 0) message += "\nERRNO=" + std::to_string(error);
  return message;
}

bool send(const std::string& message) { return sd_notify(0, message.c_str()) > 0; }

std::uint64_t monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1'000u;
}

}  // namespace tlsgate::engine::notify
