// iceoryx's process-wide error handler, made to spare the process two errors it otherwise dies
// of. Both are level SEVERE, whose default reaction in Debian's build (asserts on) is abort(),
// though iceoryx has already handled them:
// - MEPOO__MEMPOOL_GETCHUNK_CHUNK_IS_TOO_LARGE: a writer on shared memory loans an iceoryx chunk
//   per sample from RouDi's memory pools, and a sample larger than the largest pool (a camera
//   configured for a resolution the host's RouDi was not sized for) killed the process. With
//   this handler the loan fails, Cyclone's dds_write returns Out Of Resources, and the write is
//   refused and counted like any failed write.
// - POPO__CHUNK_QUEUE_POPPER_CHUNK_WITH_INCOMPATIBLE_CHUNK_HEADER_VERSION: a chunk whose header
//   says another version, which any process that can reach RouDi can write into a reader's queue
//   (test/interop/cyclone_peer iox-hostile --crash-case 4). iceoryx drops it (and logs it); the
//   reader's process went on dying with it. Now it is counted (IoxChunksRefused) and the reader
//   goes on.
// - POPO__CHUNK_RECEIVER_INVALID_CHUNK_TO_RELEASE_FROM_USER: a received chunk given back through
//   a back-offset that does not lead to its chunk header. Its publisher can forge one that leads
//   to a header agreeing with it, which the take guard (iox_take_guard.c) cannot tell from the
//   chunk's own and gives back (test/interop/cyclone_peer iox-hostile --crash-case 5). iceoryx
//   releases nothing; the chunk stays held by the subscriber (one of its chunks lost to it, as a
//   chunk the guard keeps), not the process.
// Every other iceoryx error keeps iceoryx's own reaction.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sr {

// Installs the handler (once per process; later calls do nothing). A no-op without shared memory.
void InstallIoxErrorHandler();

// Whether a chunk too large for every pool was asked for on this thread since the last call
// (which clears it): tells a failed dds_write's cause.
bool TakeIoxChunkTooLarge();

// Chunks no reader of this process got: those iceoryx dropped for another chunk-header version,
// those the take guard kept from Cyclone, and those Cyclone dropped that the guard gave back
// (iox_take_guard.c).
uint64_t IoxChunksRefused();

}  // namespace sr
