// The libmilter callbacks: thin trampolines into Session, behind one guard.
#pragma once

#include <libmilter/mfapi.h>

namespace tlsgate::milter {

class PolicyStore;

// The filter description to smfi_register; callbacks read policies from `store`.
smfiDesc make_filter(PolicyStore& store);

}  // namespace tlsgate::milter
