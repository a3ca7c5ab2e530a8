// The only file that includes <mpi.h>.
// The C API only: skip the deprecated C++ bindings (they need libmpi_cxx).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <cstdlib>

#include <fmt/format.h>

#include "engine/comm.hpp"

namespace pwas::engine {
namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw CommError(fmt::format("MPI {} failed: {}", what, std::string(text, static_cast<std::size_t>(len))));
}

class MpiComm final : public Comm {
 public:
  MpiComm() {
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "barrier"); }
  void allreduce_max(std::span<double> v) override {
    check(MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD),
          "allreduce(max)");
  }
  void allreduce_sum(std::span<double> v) override {
    check(MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
          "allreduce(sum)");
  }
  std::vector<std::vector<std::byte>> gather(std::span<const std::byte> bytes, int root) override {
    // Sizes first (64-bit), then the payload in <= 1 GiB pieces per rank so int counts never overflow.
    long long mine = static_cast<long long>(bytes.size());
    std::vector<long long> sizes(rank_ == root ? size_ : 0);
    check(MPI_Gather(&mine, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, root, MPI_COMM_WORLD), "gather(size)");
    std::vector<std::vector<std::byte>> out;
    constexpr long long kPiece = 1LL << 30;
    if (rank_ == root) {
      out.resize(static_cast<std::size_t>(size_));
      for (int r = 0; r < size_; ++r) {
        auto& buf = out[static_cast<std::size_t>(r)];
        buf.resize(static_cast<std::size_t>(sizes[static_cast<std::size_t>(r)]));
        if (r == root) {
          std::copy(bytes.begin(), bytes.end(), buf.begin());
          continue;
        }
        for (long long off = 0; off < static_cast<long long>(buf.size()); off += kPiece) {
          const int n = static_cast<int>(std::min(kPiece, static_cast<long long>(buf.size()) - off));
          check(MPI_Recv(buf.data() + off, n, MPI_BYTE, r, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "recv");
        }
      }
    } else {
      for (long long off = 0; off < mine; off += kPiece) {
        const int n = static_cast<int>(std::min(kPiece, mine - off));
        check(MPI_Send(bytes.data() + off, n, MPI_BYTE, root, 7, MPI_COMM_WORLD), "send");
      }
    }
    return out;
  }
  std::vector<std::byte> broadcast(std::span<const std::byte> bytes, int root) override {
    long long n = static_cast<long long>(bytes.size());
    check(MPI_Bcast(&n, 1, MPI_LONG_LONG, root, MPI_COMM_WORLD), "bcast(size)");
    std::vector<std::byte> out(static_cast<std::size_t>(n));
    if (rank_ == root) std::copy(bytes.begin(), bytes.end(), out.begin());
    check(MPI_Bcast(out.data(), static_cast<int>(n), MPI_BYTE, root, MPI_COMM_WORLD), "bcast");
    return out;
  }
  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }
  std::string describe() const override {
    char name[MPI_MAX_PROCESSOR_NAME];
    int len = 0;
    MPI_Get_processor_name(name, &len);
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int liblen = 0;
    MPI_Get_library_version(lib, &liblen);
    std::string l(lib, static_cast<std::size_t>(liblen));
    if (auto nl = l.find_first_of(",\n"); nl != std::string::npos) l.resize(nl);
    return fmt::format("MPI, {} ranks, rank 0 on {}, {}", size_, std::string(name, static_cast<std::size_t>(len)), l);
  }

 private:
  int rank_ = 0;
  int size_ = 1;
};

bool launched_by_mpi() {
  // Open MPI's launcher (mpirun/srun with PMIx) sets these; a plain `pwas run` stays serial.
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

}  // namespace

std::unique_ptr<Comm> make_world_comm(int* argc, char*** argv) {
  if (!launched_by_mpi()) return make_serial_comm();
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    int provided = 0;
    check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "init");
  }
  return std::make_unique<MpiComm>();
}

void finalize_world() {
  int initialised = 0, finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  if (initialised && !finalised) MPI_Finalize();
}

}  // namespace pwas::engine
