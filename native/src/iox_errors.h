// iceoryx's process-wide error handler, made to spare the process one error it otherwise dies of.
// A writer on shared memory loans an iceoryx chunk per sample from RouDi's memory pools; a sample
// larger than the largest pool is iceoryx error MEPOO__MEMPOOL_GETCHUNK_CHUNK_IS_TOO_LARGE, level
// SEVERE, whose default reaction in Debian's build (asserts on) is abort(): one oversized image
// (a camera configured for a resolution the host's RouDi was not sized for) killed the process.
// With this handler the loan fails instead, Cyclone's dds_write returns Out Of Resources, and
// the write is refused and counted like any failed write. Every other iceoryx error keeps
// iceoryx's own reaction.
#pragma once
#include <cstddef>

namespace sr {

// Installs the handler (once per process; later calls do nothing). A no-op without shared memory.
void InstallIoxErrorHandler();

// Whether a chunk too large for every pool was asked for on this thread since the last call
// (which clears it): tells a failed dds_write's cause.
bool TakeIoxChunkTooLarge();

}  // namespace sr
