#include <cstdlib>

#include "engine/comm.hpp"

namespace pwas::engine {
namespace {

class LocalCounter final : public SharedCounter {
 public:
  std::int64_t fetch_add(std::int64_t delta) override {
    const std::int64_t before = value_;
    value_ += delta;
    return before;
  }

 private:
  std::int64_t value_ = 0;
};

class SerialComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void barrier() override {}
  void allreduce_max(std::span<double>) override {}
  void allreduce_sum(std::span<double>) override {}
  std::vector<std::vector<std::byte>> gather(std::span<const std::byte> bytes, int) override {
    return {std::vector<std::byte>(bytes.begin(), bytes.end())};
  }
  std::vector<std::byte> broadcast(std::span<const std::byte> bytes, int) override {
    return std::vector<std::byte>(bytes.begin(), bytes.end());
  }
  std::unique_ptr<SharedCounter> make_counter() override { return std::make_unique<LocalCounter>(); }
  [[noreturn]] void abort(int code) override { std::_Exit(code); }
  std::string describe() const override { return "serial (no MPI)"; }
};

}  // namespace

std::unique_ptr<Comm> make_serial_comm() { return std::make_unique<SerialComm>(); }

#ifndef PWAS_WITH_MPI
std::unique_ptr<Comm> make_world_comm(int*, char***) { return make_serial_comm(); }
void finalize_world() {}
#endif

}  // namespace pwas::engine
