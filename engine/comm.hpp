#pragma once
// The communicator the engine is written against; <mpi.h> lives only in comm_mpi.cpp (STYLE.md).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace pwas::engine {

/// An MPI failure, carrying MPI_Error_string.
class CommError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A counter held by rank 0 that any rank can fetch-and-add on its own, while the others compute (MPI-3
/// passive-target RMA): the work queue of dynamic scheduling. Created and destroyed collectively.
class SharedCounter {
 public:
  virtual ~SharedCounter() = default;
  /// Adds `delta` and returns the value before, atomically across ranks.
  virtual std::int64_t fetch_add(std::int64_t delta) = 0;
};

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual void barrier() = 0;
  /// Element-wise maximum across ranks, in place.
  virtual void allreduce_max(std::span<double> values) = 0;
  /// Element-wise sum across ranks, in place.
  virtual void allreduce_sum(std::span<double> values) = 0;
  /// Every rank's bytes, concatenated in rank order, on `root` (empty elsewhere).
  virtual std::vector<std::vector<std::byte>> gather(std::span<const std::byte> bytes, int root) = 0;
  /// Root's bytes on every rank.
  virtual std::vector<std::byte> broadcast(std::span<const std::byte> bytes, int root) = 0;
  /// A new counter starting at 0 (collective: every rank calls it, and destroys it at the same point).
  virtual std::unique_ptr<SharedCounter> make_counter() = 0;
  /// Ends every rank of the job at once (never MPI_Finalize on one rank: it hangs the others).
  [[noreturn]] virtual void abort(int code) = 0;
  /// Processor name and MPI library version, for the run log.
  virtual std::string describe() const = 0;
};

/// One process, no MPI: every engine test can run without mpirun.
std::unique_ptr<Comm> make_serial_comm();

/// MPI_COMM_WORLD (initialises MPI on first use) when built with MPI and launched under mpirun/srun,
/// otherwise the serial communicator.
std::unique_ptr<Comm> make_world_comm(int* argc, char*** argv);

/// Finalises MPI if it was initialised (call once at normal exit).
void finalize_world();

}  // namespace pwas::engine
