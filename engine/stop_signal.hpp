#pragma once
// SIGTERM / SIGUSR1 (Slurm's --signal before the time limit, or preemption): ask the scan to stop at the next
// protein block, keep what is done in the checkpoint, and exit with kExitCheckpointed.

namespace pwas::engine {

/// Exit status of a run that stopped on a signal after checkpointing; `pwas run --resume` completes it.
inline constexpr int kExitCheckpointed = 3;

/// Installs the handlers (idempotent).
void install_stop_handlers();

/// True once SIGTERM or SIGUSR1 arrived.
bool stop_requested();

/// The signal that arrived (0 if none), for the log.
int stop_signal_number();

}  // namespace pwas::engine
