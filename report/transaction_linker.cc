#include "report/transaction_linker.h"

#include <algorithm>

namespace tlsgate::report {

void TransactionLinker::begin_file() {
  ++file_;
  file_start_.reset();
}

void TransactionLinker::at_time(std::int64_t time) {
  if (!file_start_) file_start_ = time;
  while (!expiry_.empty() && expiry_.front().second + window_ < time) {
    const auto& [key, when] = expiry_.front();
    if (const auto it = open_.find(key); it != open_.end()) {
      if (!it->second.empty() && it->second.front().time == when) {
        forget_one(it->second.front().client);
        it->second.pop_front();
      }
      if (it->second.empty()) open_.erase(it);
    }
    expiry_.pop_front();
  }
}

bool TransactionLinker::would_reject(std::string_view key, bool unique, std::uint32_t client,
                                     std::int64_t time,
                                     std::optional<AcceptedDecision>& taken_back) {
  taken_back.reset();
  at_time(time);
  const bool may_end_early_accept =
      std::any_of(early_spans_.begin(), early_spans_.end(), [this, time](const Span& s) {
        return s.file != file_ && time <= s.last && time + window_ >= s.first;
      });
  if (!may_end_early_accept) {
    // nothing to look up
  } else if (const auto it = early_.find(key); it != early_.end()) {
    auto& list = it->second;
    for (auto e = list.begin(); e != list.end(); ++e) {
      if (e->file == file_) continue;  // an accept earlier in this file is another session
      taken_back = e->decision;
      list.erase(e);
      --early_count_;
      if (list.empty()) early_.erase(it);
      break;
    }
    if (taken_back && !unique) return true;  // that accept was its end: nothing waits
  }
  auto it = open_.find(key);
  if (it == open_.end()) it = open_.emplace(std::string(key), std::deque<Waiting>()).first;
  if (unique && !it->second.empty()) return false;
  it->second.push_back({time, client, false});
  expiry_.emplace_back(it->first, time);
  if (waiting_per_client_.size() <= client) waiting_per_client_.resize(client + 1);
  ++waiting_per_client_[client];
  return true;
}

bool TransactionLinker::first_exposure(std::string_view key) {
  const auto it = open_.find(key);
  if (it == open_.end() || it->second.empty()) return true;
  Waiting& w = it->second.back();  // the session of the would-reject just read
  const bool first = !w.exposed;
  w.exposed = true;
  return first;
}

TransactionLinker::Accept TransactionLinker::accept(std::string_view key, bool unique,
                                                    std::uint32_t client, std::int64_t time,
                                                    bool& exposure_counted) {
  at_time(time);
  exposure_counted = false;
  if (waiting_for(client)) {
    if (const auto it = open_.find(key); it != open_.end()) {
      exposure_counted = it->second.front().exposed;
      if (unique) {
        for (const Waiting& w : it->second) forget_one(w.client);
        open_.erase(it);  // the session is over
      } else {
        forget_one(it->second.front().client);
        it->second.pop_front();
        if (it->second.empty()) open_.erase(it);
      }
      return Accept::ends_session;
    }
  }
  return time - *file_start_ <= window_ ? Accept::remember : Accept::decision;
}

void TransactionLinker::remember(std::string_view key, std::int64_t time,
                                 const AcceptedDecision& decision) {
  early_[std::string(key)].push_back({file_, decision});
  ++early_count_;
  if (early_spans_.empty() || early_spans_.back().file != file_) {
    early_spans_.push_back({file_, time, time});
  }
  early_spans_.back().first = std::min(early_spans_.back().first, time);
  early_spans_.back().last = std::max(early_spans_.back().last, time);
}

}  // namespace tlsgate::report
