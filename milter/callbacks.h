// The libmilter callbacks: thin trampolines into Session, behind one guard.
#pragma once

#include <libmilter/mfapi.h>

namespace tlsgate::engine {
class PolicyStore;
}

namespace tlsgate::milter {

// The filter description to smfi_register; callbacks read policies from `store`.
smfiDesc make_filter(engine::PolicyStore& store);

}  // namespace tlsgate::milter
