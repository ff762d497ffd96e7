// Discovery of other endpoints (DCPSPublication/DCPSSubscription), so the TS side can count
// peers with a wrong type on our topics and peers that vanished.
#pragma once
#include <napi.h>
#include "dds/dds.h"

namespace sr {

// watchEndpoints(participant, "publication"|"subscription",
//   callback(events: {topic, type, alive, key, participant}[])): number
Napi::Value WatchEndpoints(const Napi::CallbackInfo& info);
// entityGuid(entity): string, the 16-byte DDS GUID in hex (the form discovery reports keys in):
// tells our own endpoints from peers', and is what rmw_cyclonedds copies into a ROS GID.
Napi::Value EntityGuid(const Napi::CallbackInfo& info);
bool CloseWatchersOf(dds_entity_t entity);
size_t LiveWatcherCount();

}  // namespace sr
