#include "engine/reducer.hpp"

#include <algorithm>
#include <cstring>

#include "kernels/assert.hpp"

namespace pwas::engine {
namespace {

class Writer {
 public:
  template <typename T>
  void put(const T& v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void put(const std::string& s) {
    put<std::uint64_t>(s.size());
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    bytes_.insert(bytes_.end(), p, p + s.size());
  }
  std::vector<std::byte> take() { return std::move(bytes_); }

 private:
  std::vector<std::byte> bytes_;
};

class Reader {
 public:
  explicit Reader(const std::vector<std::byte>& b) : b_(b) {}
  template <typename T>
  T get() {
    PWAS_ASSERT(pos_ + sizeof(T) <= b_.size());
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string get_string() {
    const auto n = get<std::uint64_t>();
    PWAS_ASSERT(pos_ + n <= b_.size());
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  bool done() const { return pos_ == b_.size(); }

 private:
  const std::vector<std::byte>& b_;
  std::size_t pos_ = 0;
};

void put_row(Writer& w, const io::ResultRow& r) {
  w.put(r.outcome);
  w.put(r.predictor);
  w.put(r.protein);
  w.put(r.errcode);
  w.put(r.obs_ct);
  w.put(r.case_ct);
  for (double v : {r.beta, r.se, r.stat, r.p, r.effect, r.effect_l95, r.effect_u95, r.p_bonf, r.q_fdr}) w.put(v);
  w.put<std::uint64_t>(r.extra.size());
  for (double v : r.extra) w.put(v);
}

io::ResultRow get_row(Reader& rd) {
  io::ResultRow r;
  r.outcome = rd.get_string();
  r.predictor = rd.get_string();
  r.protein = rd.get_string();
  r.errcode = rd.get_string();
  r.obs_ct = rd.get<std::int64_t>();
  r.case_ct = rd.get<std::int64_t>();
  for (double* v : {&r.beta, &r.se, &r.stat, &r.p, &r.effect, &r.effect_l95, &r.effect_u95, &r.p_bonf, &r.q_fdr})
    *v = rd.get<double>();
  r.extra.resize(rd.get<std::uint64_t>());
  for (double& v : r.extra) v = rd.get<double>();
  return r;
}

}  // namespace

std::vector<std::byte> pack(const RankOutput& out) {
  Writer w;
  w.put<std::uint64_t>(out.per_plan.size());
  for (const auto& plan : out.per_plan) {
    w.put<std::uint64_t>(plan.size());
    for (const auto& pr : plan) {
      w.put(pr.protein);
      w.put<std::uint64_t>(pr.rows.size());
      for (const auto& r : pr.rows) put_row(w, r);
      w.put<std::uint64_t>(pr.split.size());
      for (double v : pr.split) w.put(v);
    }
  }
  w.put<std::uint64_t>(out.qc_dropped.size());
  for (auto q : out.qc_dropped) w.put(q);
  w.put<std::uint64_t>(out.timings.size());
  for (double t : out.timings) w.put(t);
  w.put<std::uint64_t>(out.replicate_max.size());
  for (double m : out.replicate_max) w.put(m);
  return w.take();
}

RankOutput unpack(const std::vector<std::byte>& bytes, std::size_t n_plans) {
  Reader rd(bytes);
  RankOutput out;
  PWAS_ASSERT(rd.get<std::uint64_t>() == n_plans);
  out.per_plan.resize(n_plans);
  for (auto& plan : out.per_plan) {
    plan.resize(rd.get<std::uint64_t>());
    for (auto& pr : plan) {
      pr.protein = rd.get<std::int64_t>();
      pr.rows.resize(rd.get<std::uint64_t>());
      for (auto& r : pr.rows) r = get_row(rd);
      pr.split.resize(rd.get<std::uint64_t>());
      for (auto& v : pr.split) v = rd.get<double>();
    }
  }
  out.qc_dropped.resize(rd.get<std::uint64_t>());
  for (auto& q : out.qc_dropped) q = rd.get<std::int64_t>();
  out.timings.resize(rd.get<std::uint64_t>());
  for (auto& t : out.timings) t = rd.get<double>();
  out.replicate_max.resize(rd.get<std::uint64_t>());
  for (auto& m : out.replicate_max) m = rd.get<double>();
  PWAS_ASSERT(rd.done());
  return out;
}

void merge_replicate_max(std::vector<double>& into, const std::vector<double>& from) {
  if (from.empty()) return;
  if (into.empty()) into.assign(from.size(), 0.0);
  PWAS_ASSERT(into.size() == from.size());
  for (std::size_t i = 0; i < from.size(); ++i) into[i] = std::max(into[i], from[i]);
}

Gathered gather_outputs(Comm& comm, const RankOutput& mine, std::size_t n_plans) {
  const auto bytes = pack(mine);
  auto all = comm.gather(bytes, 0);
  Gathered g;
  if (comm.rank() != 0) return g;
  g.per_plan.resize(n_plans);
  for (const auto& b : all) {
    RankOutput o = unpack(b, n_plans);
    for (std::size_t p = 0; p < n_plans; ++p)
      for (auto& pr : o.per_plan[p]) g.per_plan[p].push_back(std::move(pr));
    g.qc_dropped.insert(g.qc_dropped.end(), o.qc_dropped.begin(), o.qc_dropped.end());
    g.timings.push_back(std::move(o.timings));
  }
  for (auto& plan : g.per_plan)
    std::sort(plan.begin(), plan.end(), [](const ProteinRows& a, const ProteinRows& b) { return a.protein < b.protein; });
  std::sort(g.qc_dropped.begin(), g.qc_dropped.end());
  return g;
}

}  // namespace pwas::engine
