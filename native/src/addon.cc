// Node binding of Cyclone DDS for spatial-reward: participants, topics of raw CDR samples,
// writers and readers. Serialization lives in TypeScript; this file only moves bytes.
#include <napi.h>

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

#include "dds/dds.h"
#include "dds/version.h"
#include "dds/ddsc/dds_loan_api.h"
#include "dds_error.h"
#include "iox_errors.h"
#include "domain.h"
#include "endpoint_watcher.h"
#include "qos.h"
#include "raw_sertype.h"
#include "reader.h"

namespace sr {
namespace {

struct WriterInfo {
  dds_entity_t participant;
  ddsi_sertype* sertype;  // counted reference, released with the writer
  // Cyclone's shared memory (enabled in its configuration, keep-last QoS) has this writer publish
  // iceoryx chunks, which only dds_write fills (via the sertype's serialize_into); a
  // dds_writecdr sample would reach none of the readers that take them.
  bool shared_memory;
  // Samples from this size on fit none of RouDi's memory pools (a write found out): refused at
  // once, as iceoryx's loan would fail again after Cyclone's ~10 ms of retries.
  size_t tooLargeFrom = SIZE_MAX;
};

// JS thread only.
std::map<dds_entity_t, WriterInfo> writers;
std::map<dds_entity_t, std::pair<dds_entity_t, ddsi_sertype*>> topics;  // topic -> (participant, sertype)

dds_entity_t Entity(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an entity handle");
  return info[i].As<Napi::Number>().Int32Value();
}

std::string Str(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Value CreateTopic(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const dds_entity_t participant = Entity(info, 0, "participant");
  const std::string name = Str(info, 1, "topic name");
  const std::string typeName = Str(info, 2, "type name");
  ddsi_sertype* st = sr_raw_sertype_new(typeName.c_str());
  const dds_entity_t topic = dds_create_topic_sertype(participant, name.c_str(), &st, nullptr, nullptr, nullptr);
  if (topic < 0) {
    sr_sertype_unref(st);
    throw DdsError(env, "dds_create_topic_sertype(" + name + ", " + typeName + ")", topic);
  }
  topics[topic] = {participant, st};
  return Napi::Number::New(env, topic);
}

Napi::Value CreateWriter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const dds_entity_t participant = Entity(info, 0, "participant");
  const dds_entity_t topic = Entity(info, 1, "topic");
  if (info.Length() < 3 || !info[2].IsObject()) throw Napi::TypeError::New(env, "createWriter(participant, topic, qos)");
  auto t = topics.find(topic);
  if (t == topics.end()) throw Napi::Error::New(env, "createWriter: unknown topic handle");
  dds_qos_t* qos = QosFromJs(info[2].As<Napi::Object>());
  const dds_entity_t writer = dds_create_writer(participant, topic, qos, nullptr);
  dds_delete_qos(qos);
  if (writer < 0) throw DdsError(env, "dds_create_writer", writer);
  const bool sharedMemory = dds_is_shared_memory_available(writer);
  if (sharedMemory) InstallIoxErrorHandler();
  writers[writer] = {participant, sr_sertype_ref(t->second.second), sharedMemory};
  return Napi::Number::New(env, writer);
}

Napi::Error TooLargeForPools(Napi::Env env, size_t size) {
  return DdsError(env, "dds_write", DDS_RETCODE_OUT_OF_RESOURCES,
                  "a sample of " + std::to_string(size) + " bytes fits none of RouDi's shared-memory pools (iceoryx logged the pools it has); "
                  "give RouDi a pool for the largest message this host publishes");
}

Napi::Value Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const dds_entity_t writer = Entity(info, 0, "writer");
  auto w = writers.find(writer);
  if (w == writers.end()) throw Napi::Error::New(env, "write: unknown or deleted writer");
  if (info.Length() < 2 || !info[1].IsTypedArray()) throw Napi::TypeError::New(env, "write(writer, bytes: Uint8Array)");
  Napi::TypedArray arr = info[1].As<Napi::TypedArray>();
  const auto* base = static_cast<const uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  const size_t size = arr.ByteLength();
  if (size < 4) throw Napi::RangeError::New(env, "write: a CDR sample has at least a 4-byte encapsulation header");
  if (w->second.shared_memory) {
    // Refused here rather than by serialize_into: Cyclone 0.10 returns from that refusal without
    // releasing the iceoryx chunk it loaned for the sample, and after 8 such chunks the writer can
    // loan none, so every later write failed with Out Of Resources (cyclone_shm.test.ts).
    if (!sr_raw_shm_header_ok(base)) throw DdsError(env, "dds_write", DDS_RETCODE_BAD_PARAMETER);
    if (size >= w->second.tooLargeFrom) throw TooLargeForPools(env, size);
    sr_raw_sample_t sample = {const_cast<uint8_t*>(base), size};
    TakeIoxChunkTooLarge();
    const dds_return_t rc = dds_write(writer, &sample);
    if (rc < 0 && TakeIoxChunkTooLarge()) {
      w->second.tooLargeFrom = std::min(w->second.tooLargeFrom, size);
      throw TooLargeForPools(env, size);
    }
    Check(env, "dds_write", rc);
    return env.Undefined();
  }
  ddsi_serdata* sd = sr_raw_serdata_from_bytes(w->second.sertype, base, size);
  // dds_writecdr takes the reference, success or not.
  Check(env, "dds_writecdr", dds_writecdr(writer, sd));
  return env.Undefined();
}

Napi::Value PublicationMatched(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  dds_publication_matched_status_t st;
  Check(env, "dds_get_publication_matched_status", dds_get_publication_matched_status(Entity(info, 0, "writer"), &st));
  return Napi::Number::New(env, st.current_count);
}

void ReleaseWritersOf(dds_entity_t entity) {
  for (auto it = writers.begin(); it != writers.end();) {
    if (it->first == entity || it->second.participant == entity) {
      dds_delete(it->first);
      sr_sertype_unref(it->second.sertype);
      it = writers.erase(it);
    } else {
      ++it;
    }
  }
}

Napi::Value DeleteEntity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const dds_entity_t entity = Entity(info, 0, "entity");
  // Readers and watchers first: their listeners must be finished before their contexts go.
  CloseReadersOf(entity);
  CloseWatchersOf(entity);
  ReleaseWritersOf(entity);
  for (auto it = topics.begin(); it != topics.end();) {
    if (it->first == entity || it->second.first == entity) it = topics.erase(it);
    else ++it;
  }
  const dds_return_t rc = dds_delete(entity);
  ReleaseParticipant(entity);
  // Children deleted above (or by a deleted participant) are already gone: not an error.
  if (rc < 0 && rc != DDS_RETCODE_ALREADY_DELETED && rc != DDS_RETCODE_BAD_PARAMETER) throw DdsError(env, "dds_delete", rc);
  return env.Undefined();
}

// Entities this binding still tracks: all zero after shutdown, else something leaked.
Napi::Value LiveHandles(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("writers", static_cast<double>(writers.size()));
  out.Set("topics", static_cast<double>(topics.size()));
  out.Set("readers", static_cast<double>(LiveReaderCount()));
  out.Set("watchers", static_cast<double>(LiveWatcherCount()));
  out.Set("domains", static_cast<double>(LiveDomainCount()));
  out.Set("leases", static_cast<double>(LiveLeaseCount()));
  return out;
}

// CPU time of the calling thread (ms): what the JS thread itself spent on a stage, whatever
// else runs on the host and however long the scheduler kept the thread waiting.
Napi::Value ThreadCpuMs(const Napi::CallbackInfo& info) {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return Napi::Number::New(info.Env(), static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6);
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), DDS_VERSION);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("createParticipant", Napi::Function::New(env, CreateParticipant));
  exports.Set("createTopic", Napi::Function::New(env, CreateTopic));
  exports.Set("createWriter", Napi::Function::New(env, CreateWriter));
  exports.Set("createReader", Napi::Function::New(env, CreateReader));
  exports.Set("write", Napi::Function::New(env, Write));
  exports.Set("publicationMatched", Napi::Function::New(env, PublicationMatched));
  exports.Set("readerStats", Napi::Function::New(env, ReaderStats));
  exports.Set("releaseSample", Napi::Function::New(env, ReleaseSample));
  exports.Set("poolStats", Napi::Function::New(env, PoolStats));
  exports.Set("poolReserve", Napi::Function::New(env, PoolReserve));
  exports.Set("watchEndpoints", Napi::Function::New(env, WatchEndpoints));
  exports.Set("participantGuid", Napi::Function::New(env, EntityGuid));
  exports.Set("entityGuid", Napi::Function::New(env, EntityGuid));
  exports.Set("deleteEntity", Napi::Function::New(env, DeleteEntity));
  exports.Set("version", Napi::Function::New(env, Version));
  exports.Set("threadCpuMs", Napi::Function::New(env, ThreadCpuMs));
  exports.Set("liveHandles", Napi::Function::New(env, LiveHandles));
  return exports;
}

}  // namespace
}  // namespace sr

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return sr::Init(env, exports); }

NODE_API_MODULE(spatial_reward_dds, InitModule)
