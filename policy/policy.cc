#include "policy/policy.h"

namespace tlsgate::policy {

std::optional<NetblockOrigin> Policy::matched_netblock(const Address& a) const {
  const NetblockOrigin* best = nullptr;
  for (const NetblockOrigin& n : netblocks_) {
    if (n.prefix.contains(a) && (best == nullptr || n.prefix.length > best->prefix.length)) {
      best = &n;
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

}  // namespace tlsgate::policy
