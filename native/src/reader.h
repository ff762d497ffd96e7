// A DDS reader whose samples (raw CDR bytes) reach a JS callback on the main thread.
#pragma once
#include <napi.h>
#include "dds/dds.h"

namespace sr {

// createReader(participant, topic, qos, callback(buffers: Buffer[], dropped: number)): number
Napi::Value CreateReader(const Napi::CallbackInfo& info);
// readerStats(reader): {received, dropped, lost, rejected, queued}
Napi::Value ReaderStats(const Napi::CallbackInfo& info);
// True if `entity` was a reader made here (now closed); closes readers of a deleted participant too.
bool CloseReadersOf(dds_entity_t entity);
size_t LiveReaderCount();

}  // namespace sr
