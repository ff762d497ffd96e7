#include "qos.h"
#include <string>

namespace sr {

static std::string Field(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("qos.") + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

dds_qos_t* QosFromJs(const Napi::Object& o) {
  Napi::Env env = o.Env();
  const std::string reliability = Field(o, "reliability");
  const std::string durability = Field(o, "durability");
  const std::string history = Field(o, "history");
  Napi::Value depthValue = o.Get("depth");
  if (!depthValue.IsNumber()) throw Napi::TypeError::New(env, "qos.depth must be a number");
  const int32_t depth = depthValue.As<Napi::Number>().Int32Value();
  if (depth < 1) throw Napi::RangeError::New(env, "qos.depth must be >= 1");

  dds_qos_t* q = dds_create_qos();
  if (reliability == "reliable") {
    // Bounded, unlike rmw's infinity: a stuck reader must not freeze the JS thread for ever.
    dds_qset_reliability(q, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
  } else if (reliability == "best_effort") {
    dds_qset_reliability(q, DDS_RELIABILITY_BEST_EFFORT, 0);
  } else {
    dds_delete_qos(q);
    throw Napi::TypeError::New(env, "qos.reliability must be reliable or best_effort, got " + reliability);
  }
  if (durability == "volatile") {
    dds_qset_durability(q, DDS_DURABILITY_VOLATILE);
  } else if (durability == "transient_local") {
    dds_qset_durability(q, DDS_DURABILITY_TRANSIENT_LOCAL);
    // Cyclone keeps late-joiner data per the durability service history, not the writer's
    // history; mirror the history into it as rmw_cyclonedds does.
    if (history == "keep_last") {
      dds_qset_durability_service(q, 0, DDS_HISTORY_KEEP_LAST, depth, DDS_LENGTH_UNLIMITED, DDS_LENGTH_UNLIMITED, DDS_LENGTH_UNLIMITED);
    } else {
      dds_qset_durability_service(q, 0, DDS_HISTORY_KEEP_ALL, DDS_LENGTH_UNLIMITED, DDS_LENGTH_UNLIMITED, DDS_LENGTH_UNLIMITED, DDS_LENGTH_UNLIMITED);
    }
  } else {
    dds_delete_qos(q);
    throw Napi::TypeError::New(env, "qos.durability must be volatile or transient_local, got " + durability);
  }
  if (history == "keep_last") {
    dds_qset_history(q, DDS_HISTORY_KEEP_LAST, depth);
  } else if (history == "keep_all") {
    dds_qset_history(q, DDS_HISTORY_KEEP_ALL, DDS_LENGTH_UNLIMITED);
  } else {
    dds_delete_qos(q);
    throw Napi::TypeError::New(env, "qos.history must be keep_last or keep_all, got " + history);
  }
  // Optional: rcl's rosout profile keeps late-joiner logs for 10 s only.
  Napi::Value lifespan = o.Get("lifespanMs");
  if (lifespan.IsNumber()) {
    const double ms = lifespan.As<Napi::Number>().DoubleValue();
    if (!(ms > 0)) {
      dds_delete_qos(q);
      throw Napi::RangeError::New(env, "qos.lifespanMs must be > 0");
    }
    dds_qset_lifespan(q, static_cast<dds_duration_t>(ms * 1e6));
  }
  // Keyless topics: an auto-dispose on writer deletion means nothing to ROS 2 peers.
  dds_qset_writer_data_lifecycle(q, false);
  return q;
}

}  // namespace sr
