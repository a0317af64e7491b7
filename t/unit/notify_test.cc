// The messages to systemd (engine/notify.h), and that send() delivers them to
// $NOTIFY_SOCKET the way systemd receives them: one datagram on a unix socket.
#include "engine/notify.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <string>

#include "engine/unique_fd.h"

namespace tlsgate::engine::notify {
namespace {

TEST(NotifyMessages, ReadyNamesTheSocketAndThePolicy) {
  EXPECT_EQ(ready("inet:8891@127.0.0.1", "5 sources, 7 netblocks; monitor: legacy"),
            "READY=1\nSTATUS=listening on inet:8891@127.0.0.1: 5 sources, 7 netblocks; "
            "monitor: legacy");
}

TEST(NotifyMessages, ReloadingThenReadyWithWhatHappened) {
  EXPECT_EQ(reloading(123456789), "RELOADING=1\nMONOTONIC_USEC=123456789\nSTATUS=reloading");
  EXPECT_EQ(reloaded(true, "2 sources, 1 netblock; monitor: none"),
            "READY=1\nSTATUS=reloaded: 2 sources, 1 netblock; monitor: none");
  EXPECT_EQ(reloaded(false, "5 sources, 7 netblocks; monitor: legacy"),
            "READY=1\nSTATUS=reload failed, the previous policy stays in force (see the log): "
            "5 sources, 7 netblocks; monitor: legacy");
}

TEST(NotifyMessages, StoppingAndFailed) {
  EXPECT_EQ(stopping(), "STOPPING=1\nSTATUS=stopping");
  EXPECT_EQ(failed("cannot listen on inet:25@127.0.0.1: Address already in use", 98),
            "STATUS=cannot listen on inet:25@127.0.0.1: Address already in use\nERRNO=98");
  EXPECT_EQ(failed("unknown user tlsgate", 0), "STATUS=unknown user tlsgate");
}

TEST(NotifyMessages, AValueNeverBreaksIntoAnotherLine) {
  EXPECT_EQ(failed("one\ntwo\rthree", 0), "STATUS=one two three");
  EXPECT_EQ(ready("unix:/x\nREADY=0", "s"), "READY=1\nSTATUS=listening on unix:/x READY=0: s");
}

TEST(NotifySend, NothingWithoutNotifySocket) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(send(ready("inet:1@127.0.0.1", "x")));
}

TEST(NotifySend, OneDatagramToNotifySocket) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("tlsgate-notify-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "notify").string();
  UniqueFd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  ASSERT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  const std::string message = reloaded(true, "1 source, 0 netblocks; monitor: none");
  EXPECT_TRUE(send(message));
  unsetenv("NOTIFY_SOCKET");
  std::array<char, 512> buffer{};
  const ssize_t n = recv(fd.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
  std::filesystem::remove_all(dir);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buffer.data(), static_cast<std::size_t>(n)), message);
}

}  // namespace
}  // namespace tlsgate::engine::notify
