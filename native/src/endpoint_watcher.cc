#include "endpoint_watcher.h"

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "dds_error.h"

namespace sr {
namespace {

struct EndpointEvent {
  std::string topic;
  std::string type;
  std::string key;
  std::string participant;
  bool alive;
};

struct WatcherCtx {
  dds_entity_t reader = 0;
  dds_entity_t participant = 0;
  Napi::ThreadSafeFunction tsfn;
  std::mutex mu;
  std::vector<EndpointEvent> pending;
  bool scheduled = false;
  bool closed = false;
  // A disposed endpoint arrives without data; remember what each instance was. Listener thread only.
  std::map<dds_instance_handle_t, EndpointEvent> known;
};

std::map<dds_entity_t, WatcherCtx*> watchers;

std::string Hex(const dds_guid_t& g) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (unsigned char b : g.v) {
    s.push_back(digits[b >> 4]);
    s.push_back(digits[b & 15]);
  }
  return s;
}

void Deliver(Napi::Env env, Napi::Function callback, WatcherCtx* ctx) {
  std::vector<EndpointEvent> batch;
  bool closed;
  {
    std::lock_guard<std::mutex> lock(ctx->mu);
    batch.swap(ctx->pending);
    ctx->scheduled = false;
    closed = ctx->closed;
  }
  if (closed || env == nullptr) return;
  Napi::Array events = Napi::Array::New(env, batch.size());
  for (uint32_t i = 0; i < batch.size(); i++) {
    Napi::Object e = Napi::Object::New(env);
    e.Set("topic", batch[i].topic);
    e.Set("type", batch[i].type);
    e.Set("key", batch[i].key);
    e.Set("participant", batch[i].participant);
    e.Set("alive", batch[i].alive);
    events.Set(i, e);
  }
  callback.Call({events});
}

void OnDataAvailable(dds_entity_t reader, void* arg) {
  WatcherCtx* ctx = static_cast<WatcherCtx*>(arg);
  constexpr size_t kBatch = 16;
  void* samples[kBatch] = {nullptr};
  dds_sample_info_t infos[kBatch];
  std::vector<EndpointEvent> events;
  for (;;) {
    dds_return_t n = dds_take(reader, samples, infos, kBatch, kBatch);
    if (n <= 0) break;
    for (dds_return_t k = 0; k < n; k++) {
      const bool alive = infos[k].instance_state == DDS_IST_ALIVE;
      if (infos[k].valid_data) {
        auto* ep = static_cast<const dds_builtintopic_endpoint_t*>(samples[k]);
        EndpointEvent e{ep->topic_name ? ep->topic_name : "", ep->type_name ? ep->type_name : "", Hex(ep->key),
                        Hex(ep->participant_key), alive};
        if (alive) ctx->known[infos[k].instance_handle] = e;
        else ctx->known.erase(infos[k].instance_handle);
        events.push_back(e);
      } else if (!alive) {
        auto it = ctx->known.find(infos[k].instance_handle);
        if (it == ctx->known.end()) continue;
        EndpointEvent e = it->second;
        e.alive = false;
        ctx->known.erase(it);
        events.push_back(e);
      }
    }
    dds_return_loan(reader, samples, n);
  }
  if (events.empty()) return;
  bool notify = false;
  {
    std::lock_guard<std::mutex> lock(ctx->mu);
    if (ctx->closed) return;
    ctx->pending.insert(ctx->pending.end(), events.begin(), events.end());
    if (!ctx->scheduled) {
      ctx->scheduled = true;
      notify = true;
    }
  }
  if (notify) ctx->tsfn.NonBlockingCall(ctx, Deliver);
}

}  // namespace

Napi::Value WatchEndpoints(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsFunction()) {
    throw Napi::TypeError::New(env, "watchEndpoints(participant, 'publication'|'subscription', callback)");
  }
  const dds_entity_t participant = info[0].As<Napi::Number>().Int32Value();
  const std::string which = info[1].As<Napi::String>().Utf8Value();
  dds_entity_t topic;
  if (which == "publication") topic = DDS_BUILTIN_TOPIC_DCPSPUBLICATION;
  else if (which == "subscription") topic = DDS_BUILTIN_TOPIC_DCPSSUBSCRIPTION;
  else throw Napi::TypeError::New(env, "watchEndpoints: kind must be publication or subscription");

  auto* ctx = new WatcherCtx();
  ctx->participant = participant;
  ctx->tsfn = Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "spatial-reward dds discovery", 0, 1, ctx,
                                            [](Napi::Env, void*, WatcherCtx* c) { delete c; }, static_cast<void*>(nullptr));
  ctx->tsfn.Unref(env);
  dds_listener_t* listener = dds_create_listener(ctx);
  dds_lset_data_available(listener, OnDataAvailable);
  const dds_entity_t reader = dds_create_reader(participant, topic, nullptr, listener);
  dds_delete_listener(listener);
  if (reader < 0) {
    ctx->tsfn.Release();
    throw DdsError(env, "dds_create_reader(builtin " + which + ")", reader);
  }
  ctx->reader = reader;
  watchers[reader] = ctx;
  return Napi::Number::New(env, reader);
}

Napi::Value EntityGuid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "entityGuid(entity: number)");
  dds_guid_t guid;
  Check(env, "dds_get_guid", dds_get_guid(info[0].As<Napi::Number>().Int32Value(), &guid));
  return Napi::String::New(env, Hex(guid));
}

size_t LiveWatcherCount() { return watchers.size(); }

bool CloseWatchersOf(dds_entity_t entity) {
  bool found = false;
  for (auto it = watchers.begin(); it != watchers.end();) {
    WatcherCtx* ctx = it->second;
    if (it->first == entity || ctx->participant == entity) {
      found = found || it->first == entity;
      dds_delete(ctx->reader);
      {
        std::lock_guard<std::mutex> lock(ctx->mu);
        ctx->closed = true;
        ctx->pending.clear();
      }
      ctx->tsfn.Release();
      it = watchers.erase(it);
    } else {
      ++it;
    }
  }
  return found;
}

}  // namespace sr
