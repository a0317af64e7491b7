// Telling the service manager how tlsgate is doing (systemd's sd_notify(3), for a
// Type=notify unit): ready once it listens with its policy loaded, reloading and
// ready again around a SIGUSR1, stopping, and why a start failed. Started without
// systemd (no NOTIFY_SOCKET) sending does nothing. The messages are built apart
// from sending them, so that they can be tested.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tlsgate::engine::notify {

// "READY=1\nSTATUS=listening on SOCKET: SUMMARY".
std::string ready(std::string_view socket, std::string_view summary);
// "RELOADING=1\nMONOTONIC_USEC=N\nSTATUS=reloading": N is CLOCK_MONOTONIC now,
// which systemd 253 and later want beside RELOADING=1.
std::string reloading(std::uint64_t monotonic_usec);
// "READY=1\nSTATUS=..." after a reload: whether the new file was taken, and the
// policy in force either way.
std::string reloaded(bool taken, std::string_view summary);
std::string stopping();
// "STATUS=REASON\nERRNO=N" (no ERRNO when 0): a start that failed.
std::string failed(std::string_view reason, int error);

// Sends a message to $NOTIFY_SOCKET; false when there is none or sending failed.
bool send(const std::string& message);
// CLOCK_MONOTONIC in microseconds, for reloading().
std::uint64_t monotonic_usec();

}  // namespace tlsgate::engine::notify
