// A DDS reader whose samples (raw CDR bytes) reach a JS callback on the main thread, given
// (the view owns the sample) or lent (a view of a pooled slot, or of the shared-memory chunk the
// sample arrived in, returned with releaseSample).
#pragma once
#include <napi.h>
#include "dds/dds.h"

namespace sr {

// createReader(participant, topic, qos, callback(views: Uint8Array[], dropped, lost, leases: Float64Array, bodyOnly: Uint8Array, shmRefused), {lend}?): number
// bodyOnly[i] 1: views[i] is a lent chunk's body whose first 4 bytes are not a CDR header (see LendChunk).
// shmRefused: shared-memory chunks no reader of this process got so far (iox_errors.h IoxChunksRefused).
// Throws a RangeError for a keep-last reader on shared memory whose depth iceoryx's chunks per
// subscriber cannot hold (see LendCap).
Napi::Value CreateReader(const Napi::CallbackInfo& info);
// releaseSample(lease): boolean (false if unknown or already released)
Napi::Value ReleaseSample(const Napi::CallbackInfo& info);
// poolReserve(sampleBytes, count): number of free slots now fitting such samples (memory touched)
Napi::Value PoolReserve(const Napi::CallbackInfo& info);
// poolStats(): the sample pool's figures, the leases outstanding, shared-memory samples left in
// their chunk (shmInPlace) or copied (shmCopied), iceoryx subscribers tracked for samples still
// alive (shmSubscribers), received samples holding their chunk (shmChunksHeld), and chunk
// ArrayBuffers made (chunkBuffers)
Napi::Value PoolStats(const Napi::CallbackInfo& info);
size_t LiveLeaseCount();
// readerStats(reader): {received, dropped, lost (DDS SAMPLE_LOST + shmLost), shmLost (iceoryx queue
// overflows seen), rejected, queued, matched}
Napi::Value ReaderStats(const Napi::CallbackInfo& info);
// True if `entity` was a reader made here (now closed); closes readers of a deleted participant too.
bool CloseReadersOf(dds_entity_t entity);
size_t LiveReaderCount();

}  // namespace sr
