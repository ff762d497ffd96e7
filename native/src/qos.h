// Our QoS object ({reliability, durability, history, depth, lifespanMs?}) as a Cyclone dds_qos_t.
#pragma once
#include <napi.h>
#include "dds/dds.h"

namespace sr {

// Caller owns the result (dds_delete_qos). Throws a JS TypeError on a malformed object.
dds_qos_t* QosFromJs(const Napi::Object& qos);

}  // namespace sr
