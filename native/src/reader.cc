#include "reader.h"

#include <deque>
#include <map>
#include <mutex>

#include "dds_error.h"
#include "qos.h"
#include "raw_sertype.h"

namespace sr {
namespace {

// Shared by the DDS listener thread (producer) and the JS thread (consumer). Deleted by the
// thread-safe function's finalizer, after the last queued call ran.
struct ReaderCtx {
  dds_entity_t reader = 0;
  dds_entity_t participant = 0;
  // KEEP_LAST depth bounds the queue as it bounds the DDS history; 0 means KEEP_ALL.
  size_t limit = 0;
  Napi::ThreadSafeFunction tsfn;

  std::mutex mu;
  std::deque<ddsi_serdata*> queue;
  bool scheduled = false;
  bool closed = false;
  uint64_t received = 0;
  // Samples pushed out of the queue before JS took them: counted, never silent.
  uint64_t dropped = 0;
};

// Only touched on the JS thread.
std::map<dds_entity_t, ReaderCtx*> readers;

void Deliver(Napi::Env env, Napi::Function callback, ReaderCtx* ctx) {
  std::deque<ddsi_serdata*> batch;
  uint64_t dropped;
  bool closed;
  {
    std::lock_guard<std::mutex> lock(ctx->mu);
    batch.swap(ctx->queue);
    ctx->scheduled = false;
    dropped = ctx->dropped;
    closed = ctx->closed;
  }
  if (closed || env == nullptr) {
    for (ddsi_serdata* sd : batch) sr_serdata_unref(sd);
    return;
  }
  Napi::Array buffers = Napi::Array::New(env, batch.size());
  uint32_t i = 0;
  for (ddsi_serdata* sd : batch) {
    size_t size = 0;
    const unsigned char* bytes = sr_raw_serdata_bytes(sd, &size);
    if (bytes == nullptr || size == 0) {
      sr_serdata_unref(sd);
      buffers.Set(i++, Napi::Buffer<uint8_t>::New(env, 0));
      continue;
    }
    // Zero copy: the Buffer views the serdata's bytes and drops its reference when collected.
    buffers.Set(i++, Napi::Buffer<uint8_t>::New(
                         env, const_cast<uint8_t*>(bytes), size,
                         [](Napi::Env, uint8_t*, ddsi_serdata* owner) { sr_serdata_unref(owner); }, sd));
  }
  callback.Call({buffers, Napi::Number::New(env, static_cast<double>(dropped))});
}

void OnDataAvailable(dds_entity_t reader, void* arg) {
  ReaderCtx* ctx = static_cast<ReaderCtx*>(arg);
  constexpr uint32_t kBatch = 64;
  ddsi_serdata* samples[kBatch];
  dds_sample_info_t infos[kBatch];
  bool notify = false;
  for (;;) {
    dds_return_t n = dds_takecdr(reader, samples, kBatch, infos, DDS_ANY_STATE);
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(ctx->mu);
    for (dds_return_t k = 0; k < n; k++) {
      // Invalid samples only announce instance state changes (a writer went away).
      if (!infos[k].valid_data || ctx->closed) {
        sr_serdata_unref(samples[k]);
        continue;
      }
      ctx->queue.push_back(samples[k]);
      ctx->received++;
      if (ctx->limit > 0 && ctx->queue.size() > ctx->limit) {
        sr_serdata_unref(ctx->queue.front());
        ctx->queue.pop_front();
        ctx->dropped++;
      }
    }
    if (!ctx->scheduled && !ctx->closed && !ctx->queue.empty()) {
      ctx->scheduled = true;
      notify = true;
    }
  }
  if (notify) ctx->tsfn.NonBlockingCall(ctx, Deliver);
}

void Close(ReaderCtx* ctx) {
  // dds_delete waits for a running listener, so nothing is queued after it returns.
  dds_delete(ctx->reader);
  {
    std::lock_guard<std::mutex> lock(ctx->mu);
    ctx->closed = true;
    for (ddsi_serdata* sd : ctx->queue) sr_serdata_unref(sd);
    ctx->queue.clear();
  }
  ctx->tsfn.Release();
}

}  // namespace

Napi::Value CreateReader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsObject() || !info[3].IsFunction()) {
    throw Napi::TypeError::New(env, "createReader(participant, topic, qos, callback)");
  }
  const dds_entity_t participant = info[0].As<Napi::Number>().Int32Value();
  const dds_entity_t topic = info[1].As<Napi::Number>().Int32Value();
  Napi::Object qosObj = info[2].As<Napi::Object>();
  dds_qos_t* qos = QosFromJs(qosObj);

  auto* ctx = new ReaderCtx();
  ctx->participant = participant;
  if (qosObj.Get("history").As<Napi::String>().Utf8Value() == "keep_last") {
    ctx->limit = static_cast<size_t>(qosObj.Get("depth").As<Napi::Number>().Int32Value());
  }
  ctx->tsfn = Napi::ThreadSafeFunction::New(env, info[3].As<Napi::Function>(), "spatial-reward dds reader", 0, 1, ctx,
                                            [](Napi::Env, void*, ReaderCtx* c) { delete c; }, static_cast<void*>(nullptr));
  // A subscription alone must not keep a finished process alive; the CLI keeps nodes running.
  ctx->tsfn.Unref(env);

  dds_listener_t* listener = dds_create_listener(ctx);
  dds_lset_data_available(listener, OnDataAvailable);
  const dds_entity_t reader = dds_create_reader(participant, topic, qos, listener);
  dds_delete_listener(listener);
  dds_delete_qos(qos);
  if (reader < 0) {
    ctx->tsfn.Release();
    throw DdsError(env, "dds_create_reader", reader);
  }
  ctx->reader = reader;
  readers[reader] = ctx;
  return Napi::Number::New(env, reader);
}

Napi::Value ReaderStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const dds_entity_t reader = info[0].As<Napi::Number>().Int32Value();
  auto it = readers.find(reader);
  if (it == readers.end()) throw Napi::Error::New(env, "readerStats: unknown reader");
  ReaderCtx* ctx = it->second;
  Napi::Object out = Napi::Object::New(env);
  {
    std::lock_guard<std::mutex> lock(ctx->mu);
    out.Set("received", static_cast<double>(ctx->received));
    out.Set("dropped", static_cast<double>(ctx->dropped));
    out.Set("queued", static_cast<double>(ctx->queue.size()));
  }
  dds_sample_lost_status_t lost;
  Check(env, "dds_get_sample_lost_status", dds_get_sample_lost_status(reader, &lost));
  dds_sample_rejected_status_t rejected;
  Check(env, "dds_get_sample_rejected_status", dds_get_sample_rejected_status(reader, &rejected));
  dds_subscription_matched_status_t matched;
  Check(env, "dds_get_subscription_matched_status", dds_get_subscription_matched_status(reader, &matched));
  out.Set("lost", static_cast<double>(lost.total_count));
  out.Set("rejected", static_cast<double>(rejected.total_count));
  out.Set("matched", static_cast<double>(matched.current_count));
  return out;
}

size_t LiveReaderCount() { return readers.size(); }

bool CloseReadersOf(dds_entity_t entity) {
  bool found = false;
  for (auto it = readers.begin(); it != readers.end();) {
    if (it->first == entity || it->second->participant == entity) {
      found = found || it->first == entity;
      Close(it->second);
      it = readers.erase(it);
    } else {
      ++it;
    }
  }
  return found;
}

}  // namespace sr
