// A tally vector indexed by a number that may be new: grown to hold it.
#pragma once

#include <cstddef>
#include <vector>

namespace tlsgate::report {

template <typename T>
T& grow_to(std::vector<T>& v, std::size_t index) {
  if (v.size() <= index) v.resize(index + 1);
  return v[index];
}

}  // namespace tlsgate::report
