#include "reader.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "dds/ddsc/dds_loan_api.h"
#include "dds_error.h"
#include "iox_errors.h"
#include "qos.h"
#include "raw_sertype.h"
#include "sample_pool.h"

namespace sr {
namespace {

// Shared by the DDS listener thread (producer) and the JS thread (consumer). Deleted by the
// thread-safe function's finalizer, after the last queued call ran.
struct ReaderCtx {
  dds_entity_t reader = 0;
  dds_entity_t participant = 0;
  // KEEP_LAST depth bounds the queue as it bounds the DDS history; 0 means KEEP_ALL.
  size_t limit = 0;
  // A sample is lent in place from its shared-memory chunk only while the reader's samples hold
  // at most this many chunks (see DeliverBatch and LendCap); 0: never (KEEP_ALL: no limit, as
  // Cyclone 0.10 puts no KEEP_ALL reader on shared memory).
  uint64_t lendCap = 0;
  // Large samples are lent (a view of their pooled slot plus a lease), not given (see CreateReader).
  bool lend = false;
  Napi::ThreadSafeFunction tsfn;
  // JS thread only: the batch array, lease array and body-only flags handed to the callback,
  // reused per batch.
  Napi::ObjectReference views;
  Napi::Reference<Napi::Float64Array> leases;
  Napi::Reference<Napi::Uint8Array> bodyOnly;
  // JS thread only: the ArrayBuffer of each shared-memory chunk this reader lent a sample from,
  // by the chunk's payload address (see LendChunk), and its length.
  struct ChunkBuffer {
    Napi::Reference<Napi::ArrayBuffer> ref;
    size_t length = 0;
  };
  std::unordered_map<const void*, ChunkBuffer> chunkBuffers;

  std::mutex mu;
  std::deque<ddsi_serdata*> queue;
  bool scheduled = false;
  bool closed = false;
  uint64_t received = 0;
  // The iceoryx subscriber this reader's shared-memory samples come through, once one came
  // (told to raw_sertype.c when the reader is deleted, see Close).
  const void* ioxSub = nullptr;
  // Samples pushed out of the queue before JS took them: counted, never silent.
  uint64_t dropped = 0;
  // Times iceoryx said its queue for this reader overflowed (over shared memory: at least one
  // sample lost each time), reported with DDS's SAMPLE_LOST count.
  std::atomic<uint64_t> shmLost{0};
};

// Only touched on the JS thread.
std::map<dds_entity_t, ReaderCtx*> readers;

// Lent samples: a lease holds the sample's reference until JS releases it. Ids are
// serial * 65536 + index, so a stale or repeated release can never free another sample.
struct Lease {
  ddsi_serdata* sd = nullptr;
  double id = 0;
};
constexpr uint32_t kLeaseSlots = 65536;
std::mutex leaseMu;
std::vector<Lease> leaseTable;
std::vector<uint32_t> freeLeases;
double leaseSerial = 1;
size_t liveLeases = 0;

// 0 when the table is full: the caller then gives the sample instead of lending it.
double AddLease(ddsi_serdata* sd) {
  std::lock_guard<std::mutex> lock(leaseMu);
  uint32_t index;
  if (!freeLeases.empty()) {
    index = freeLeases.back();
    freeLeases.pop_back();
  } else if (leaseTable.size() < kLeaseSlots) {
    index = static_cast<uint32_t>(leaseTable.size());
    leaseTable.emplace_back();
  } else {
    return 0;
  }
  const double id = leaseSerial++ * kLeaseSlots + index;
  leaseTable[index] = {sd, id};
  liveLeases++;
  return id;
}

bool ReleaseLease(double id) {
  if (!(id >= kLeaseSlots) || id != std::floor(id) || id > 9007199254740991.0) return false;
  ddsi_serdata* sd = nullptr;
  {
    std::lock_guard<std::mutex> lock(leaseMu);
    const auto index = static_cast<uint32_t>(std::fmod(id, kLeaseSlots));
    if (index >= leaseTable.size() || leaseTable[index].sd == nullptr || leaseTable[index].id != id) return false;
    sd = leaseTable[index].sd;
    leaseTable[index] = {};
    freeLeases.push_back(index);
    liveLeases--;
  }
  sr_serdata_unref(sd);
  return true;
}

// The ArrayBuffer of a slot is collected only after the pool retired the slot (its reference is
// deleted then); its memory goes with it. At environment teardown V8 may collect it while the
// pool still holds the slot: the slot then only forgets it.
void SlotFinalize(napi_env, void*, void* hint) {
  auto* slot = static_cast<sr_pool_slot_t*>(hint);
  if (slot->js_env == nullptr) {
    sr_pool_slot_free(slot);
  } else {
    slot->js = nullptr;
    slot->js_env = nullptr;
  }
}

// A slot trimmed out of the pool (JS thread): freed now, or when its ArrayBuffer is collected.
void RetireSlot(sr_pool_slot_t* slot, void* arg) {
  auto env = static_cast<napi_env>(arg);
  if (slot->js == nullptr) {
    sr_pool_slot_free(slot);
    return;
  }
  if (slot->js_env != env) {
    // Another environment (a worker) made its ArrayBuffer; only it may drop the reference, so
    // the slot stays allocated until that environment ends.
    return;
  }
  auto ref = static_cast<napi_ref>(slot->js);
  slot->js = nullptr;
  slot->js_env = nullptr;
  napi_delete_reference(env, ref);
}

// A view of a pooled sample through its slot's one ArrayBuffer: no new external memory per sample.
// Returns the lease (0 and an empty value if the sample cannot be lent).
double Lend(Napi::Env env, ddsi_serdata* sd, sr_pool_slot_t* slot, size_t size, napi_value* view) {
  if (slot->js != nullptr && slot->js_env != static_cast<napi_env>(env)) return 0;
  napi_value ab;
  if (slot->js == nullptr) {
    if (napi_create_external_arraybuffer(env, slot->mem, slot->capacity, SlotFinalize, slot, &ab) != napi_ok) return 0;
    napi_ref ref;
    if (napi_create_reference(env, ab, 1, &ref) != napi_ok) return 0;
    slot->js = ref;
    slot->js_env = env;
  } else if (napi_get_reference_value(env, static_cast<napi_ref>(slot->js), &ab) != napi_ok || ab == nullptr) {
    return 0;
  }
  if (napi_create_typedarray(env, napi_uint8_array, size, ab, SR_POOL_SAMPLE_OFFSET, view) != napi_ok) return 0;
  return AddLease(sd);
}

// ArrayBuffers made for shared-memory chunks (all readers): a stream's chunks are few and reused.
std::atomic<uint64_t> chunkBuffersMade{0};
// A reader's chunk ArrayBuffers are forgotten past this many (only a writer publishing from
// ever new addresses could get there: RouDi's pools hold a fixed set of chunks).
constexpr size_t kMaxChunkBuffers = 4096;
// The chunk's ArrayBuffer starts this many bytes before the sample's body (see LendChunk).
constexpr size_t kChunkBufferLead = 8;
// A reader's samples lent in place, queued or in Cyclone's history hold at most this many times
// its depth of chunks (see DeliverBatch): its history's worth, and as many lent.
constexpr uint64_t kChunksPerDepth = 2;
// Chunks a shared-memory reader keeps free of iceoryx's per-subscriber limit beyond its queue and
// its lent samples: those Cyclone's receive thread has stored and the listener not yet taken.
constexpr uint64_t kHeldMargin = 8;

// The chunks a keep-last `depth` reader's samples may hold while it still lends them in place.
// Over shared memory iceoryx lets one subscriber hold `maxHeld` chunks (256); past that Cyclone
// takes nothing more from it, the writer's later samples are lost unseen and only Cyclone's log
// says so. The queue (up to depth samples, each holding its chunk until JS takes it) comes on
// top of what is lent, so lending stops while depth chunks and the margin are still free; past
// it samples are copied and their chunk goes back at once. Without shared memory (maxHeld 0)
// the cap only keeps RouDi's pools from being emptied by a consumer holding messages.
uint64_t LendCap(uint64_t depth, uint64_t maxHeld) {
  const uint64_t cap = kChunksPerDepth * depth;
  if (maxHeld == 0) return cap;
  return maxHeld > depth + kHeldMargin ? std::min(cap, maxHeld - depth - kHeldMargin) : 0;
}

// A view of a sample left in its shared-memory chunk (sr_raw_serdata_chunk_body), with a lease
// holding the sample (and so the chunk) until JS releases it: the image is not copied at all.
// Each chunk gets one ArrayBuffer, kept by the reader and reused whenever the chunk comes
// again: chunks are fixed addresses in RouDi's memory pools, mapped for the process's life, so
// a stream cycles through a bounded set of them and, as with pool slots, no external
// ArrayBuffer is made per sample (each new one is external memory for V8, and Node's first
// one deoptimises code that depends on Uint8Array's map).
// The ArrayBuffer starts 8 bytes before the body (inside the chunk's iceoryx headers) and the
// view 4 bytes before it, where a CDR encapsulation header would be: the view then has the
// sample's size (header included) and the body sits at the 8-aligned offset a lent slot's has.
// Those 4 bytes are iceoryx's (the payload's back-offset), not a header: the callback's
// bodyOnly flag tells the decoder to ignore them (native byte order, XCDR1 is implied).
// Returns the lease (0 and an empty value if the sample cannot be lent).
double LendChunk(Napi::Env env, ReaderCtx* ctx, ddsi_serdata* sd, const unsigned char* body, size_t bodySize, size_t extent, napi_value* view) {
  const size_t length = kChunkBufferLead + extent;
  napi_value ab = nullptr;
  auto it = ctx->chunkBuffers.find(body);
  if (it != ctx->chunkBuffers.end() && it->second.length == length) {
    ab = it->second.ref.Value();
  } else {
    if (it != ctx->chunkBuffers.end()) {
      ctx->chunkBuffers.erase(it);
    } else if (ctx->chunkBuffers.size() >= kMaxChunkBuffers) {
      ctx->chunkBuffers.clear();
    }
    // No finalizer: the memory is iceoryx's, not ours to free.
    if (napi_create_external_arraybuffer(env, const_cast<unsigned char*>(body) - kChunkBufferLead, length, nullptr, nullptr, &ab) != napi_ok) return 0;
    ReaderCtx::ChunkBuffer& entry = ctx->chunkBuffers[body];
    entry.ref = Napi::Persistent(Napi::ArrayBuffer(env, ab));
    entry.length = length;
    chunkBuffersMade.fetch_add(1, std::memory_order_relaxed);
  }
  if (ab == nullptr) return 0;
  if (napi_create_typedarray(env, napi_uint8_array, bodySize + 4, ab, kChunkBufferLead - 4, view) != napi_ok) return 0;
  return AddLease(sd);
}

// A view that owns the sample's reference, released when the view's ArrayBuffer is collected.
// The ArrayBuffer starts 4 bytes before the sample (8-aligned), so the CDR body after the
// encapsulation header sits at an 8-aligned offset and every array in it can be viewed in place.
Napi::Value Give(Napi::Env env, ddsi_serdata* sd, const unsigned char* bytes, size_t size) {
  napi_value ab;
  void* start = const_cast<unsigned char*>(bytes) - SR_POOL_SAMPLE_OFFSET;
  NAPI_THROW_IF_FAILED(env,
                       napi_create_external_arraybuffer(
                           env, start, size + SR_POOL_SAMPLE_OFFSET,
                           [](napi_env, void*, void* hint) { sr_serdata_unref(static_cast<ddsi_serdata*>(hint)); }, sd, &ab),
                       Napi::Value());
  napi_value view;
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, napi_uint8_array, size, ab, SR_POOL_SAMPLE_OFFSET, &view), Napi::Value());
  return Napi::Value(env, view);
}

// Samples up to this size are copied into a plain ArrayBuffer and their reference dropped at
// once: cheaper than an external buffer whose finalizer runs after a GC (camera_info, scenes,
// rewards: most samples of a graph are this small).
constexpr size_t kCopyMaxBytes = 16 * 1024;

// Also used for a sample left in a shared-memory chunk that is not lent: its header is written out.
Napi::Value Copy(Napi::Env env, ddsi_serdata* sd, size_t size) {
  void* data = nullptr;
  napi_value ab;
  NAPI_THROW_IF_FAILED(env, napi_create_arraybuffer(env, size + SR_POOL_SAMPLE_OFFSET, &data, &ab), Napi::Value());
  sr_raw_serdata_copy(sd, static_cast<unsigned char*>(data) + SR_POOL_SAMPLE_OFFSET);
  sr_serdata_unref(sd);
  napi_value view;
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, napi_uint8_array, size, ab, SR_POOL_SAMPLE_OFFSET, &view), Napi::Value());
  return Napi::Value(env, view);
}

// Hands `batch` to JS; each sample leaves `batch` as its view takes it over.
void DeliverBatch(Napi::Env env, Napi::Function callback, ReaderCtx* ctx, std::deque<ddsi_serdata*>& batch, uint64_t dropped) {
  const size_t n = batch.size();
  Napi::Array views = ctx->views.Value().As<Napi::Array>();
  if (ctx->leases.IsEmpty() || ctx->leases.Value().ElementLength() < n) {
    ctx->leases.Reset(Napi::Float64Array::New(env, n < 64 ? 64 : 2 * n), 1);
  }
  Napi::Float64Array leaseArray = ctx->leases.Value();
  double* leases = leaseArray.Data();
  if (ctx->bodyOnly.IsEmpty() || ctx->bodyOnly.Value().ElementLength() < n) {
    ctx->bodyOnly.Reset(Napi::Uint8Array::New(env, n < 64 ? 64 : 2 * n), 1);
  }
  Napi::Uint8Array bodyOnlyArray = ctx->bodyOnly.Value();
  uint8_t* bodyOnly = bodyOnlyArray.Data();
  // The length is set only when a batch has another size than the last (most have one sample):
  // setting an array's length through N-API is a named-property store, the costliest call here.
  uint32_t length = 0;
  if (napi_get_array_length(env, views, &length) != napi_ok || length != n) views.Set("length", Napi::Number::New(env, static_cast<double>(n)));
  uint32_t i = 0;
  while (!batch.empty()) {
    ddsi_serdata* sd = batch.front();
    batch.pop_front();
    leases[i] = 0;
    bodyOnly[i] = 0;
    size_t bodySize = 0, extent = 0;
    const unsigned char* body = sr_raw_serdata_chunk_body(sd, &bodySize, &extent);
    if (body != nullptr) {
      // Left in its shared-memory chunk: lent in place, or else copied with its header (a
      // reader that does not lend gets ordinary samples, header included). Lent only while the
      // reader's samples hold at most lendCap chunks (2 x depth; fewer where iceoryx's limit per
      // subscriber would be reached, see LendCap): RouDi's pools are the
      // host's, and a consumer holding more (a synchroniser waiting for a stalled topic holds up
      // to sync_queue_size frames) made the camera driver's writes fail (Out Of Resources) once
      // the pool ran out. Past that a sample is copied and its chunk goes back at once.
      if (ctx->lend && (ctx->limit == 0 || sr_raw_serdata_iox_chunks_held(sd) <= ctx->lendCap)) {
        napi_value view = nullptr;
        const double lease = LendChunk(env, ctx, sd, body, bodySize, extent, &view);
        if (lease != 0) {
          leases[i] = lease;
          bodyOnly[i] = 1;
          views.Set(i++, Napi::Value(env, view));
          continue;
        }
      }
      views.Set(i++, Copy(env, sd, bodySize + 4));
      continue;
    }
    size_t size = 0;
    const unsigned char* bytes = sr_raw_serdata_bytes(sd, &size);
    if (bytes == nullptr || size == 0) {
      sr_serdata_unref(sd);
      views.Set(i++, Napi::Uint8Array::New(env, 0));
      continue;
    }
    sr_pool_slot_t* slot = ctx->lend ? sr_raw_serdata_slot(sd) : nullptr;
    if (slot != nullptr) {
      napi_value view = nullptr;
      const double lease = Lend(env, sd, slot, size, &view);
      if (lease != 0) {
        leases[i] = lease;
        views.Set(i++, Napi::Value(env, view));
        continue;
      }
    }
    views.Set(i++, size <= kCopyMaxBytes ? Copy(env, sd, size) : Give(env, sd, bytes, size));
  }
  dds_sample_lost_status_t lost{};
  dds_get_sample_lost_status(ctx->reader, &lost);
  const uint64_t lostTotal = static_cast<uint64_t>(lost.total_count) + ctx->shmLost.load(std::memory_order_relaxed);
  callback.Call({views, Napi::Number::New(env, static_cast<double>(dropped)), Napi::Number::New(env, static_cast<double>(lostTotal)),
                 leaseArray, bodyOnlyArray, Napi::Number::New(env, static_cast<double>(IoxChunksRefused()))});
  // The views must not outlive the call through this array (the entries are cleared, the
  // length kept for the next batch); free slots beyond the reserve go.
  napi_value undefined = env.Undefined();
  for (uint32_t k = 0; k < n; k++) napi_set_element(env, views, k, undefined);
  sr_pool_trim(SR_POOL_KEEP_FREE_BYTES, RetireSlot, static_cast<napi_env>(env));
}

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
  try {
    DeliverBatch(env, callback, ctx, batch, dropped);
  } catch (const Napi::Error& e) {
    // No C++ exception may leave a thread-safe function's call: it would abort the process. An
    // exception the callback threw goes back to JS, for Node to report as it reports any
    // callback's. When the event loop ended with a batch queued (the reader does not keep the
    // loop alive), the call comes at environment teardown, where no JS can run and nothing can
    // be thrown: the batch is dropped and the process exits normally.
    for (ddsi_serdata* sd : batch) sr_serdata_unref(sd);
    try {
      e.ThrowAsJavaScriptException();
    } catch (const Napi::Error&) {
    }
  }
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
      if (sr_raw_serdata_iox_lost_before(samples[k])) ctx->shmLost.fetch_add(1, std::memory_order_relaxed);
      // Invalid samples only announce instance state changes (a writer went away).
      if (!infos[k].valid_data || ctx->closed) {
        sr_serdata_unref(samples[k]);
        continue;
      }
      if (ctx->ioxSub == nullptr) ctx->ioxSub = sr_raw_serdata_iox_subscriber(samples[k]);
      sr_raw_serdata_release_copied_chunk(samples[k]);
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
    // The reader's iceoryx subscriber is gone with it: the samples still queued, and those JS
    // still holds (leases), must not give their chunks back through it when they go.
    sr_iox_subscriber_gone(ctx->ioxSub);
    ctx->closed = true;
    for (ddsi_serdata* sd : ctx->queue) sr_serdata_unref(sd);
    ctx->queue.clear();
  }
  // On the JS thread, while the environment lives: the finalizer below may run at teardown.
  ctx->views.Reset();
  ctx->leases.Reset();
  ctx->bodyOnly.Reset();
  ctx->chunkBuffers.clear();
  ctx->tsfn.Release();
}

}  // namespace

Napi::Value CreateReader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsObject() || !info[3].IsFunction() ||
      (info.Length() > 4 && !info[4].IsUndefined() && !info[4].IsObject())) {
    throw Napi::TypeError::New(env, "createReader(participant, topic, qos, callback, options?)");
  }
  const dds_entity_t participant = info[0].As<Napi::Number>().Int32Value();
  const dds_entity_t topic = info[1].As<Napi::Number>().Int32Value();
  Napi::Object qosObj = info[2].As<Napi::Object>();
  bool lend = false;
  if (info.Length() > 4 && info[4].IsObject()) lend = info[4].As<Napi::Object>().Get("lend").ToBoolean().Value();
  dds_qos_t* qos = QosFromJs(qosObj);

  auto* ctx = new ReaderCtx();
  ctx->participant = participant;
  ctx->lend = lend;
  if (qosObj.Get("history").As<Napi::String>().Utf8Value() == "keep_last") {
    ctx->limit = static_cast<size_t>(qosObj.Get("depth").As<Napi::Number>().Int32Value());
  }
  ctx->views = Napi::Persistent(Napi::Array::New(env).As<Napi::Object>());
  ctx->tsfn = Napi::ThreadSafeFunction::New(env, info[3].As<Napi::Function>(), "spatial-reward dds reader", 0, 1, ctx,
                                            [](Napi::Env, void*, ReaderCtx* c) {
                                              // Close() reset the references; at teardown without
                                              // Close the environment may be gone: leave them.
                                              c->views.SuppressDestruct();
                                              c->leases.SuppressDestruct();
                                              c->bodyOnly.SuppressDestruct();
                                              for (auto& entry : c->chunkBuffers) entry.second.ref.SuppressDestruct();
                                              delete c;
                                            },
                                            static_cast<void*>(nullptr));
  // A subscription alone must not keep a finished process alive; the CLI keeps nodes running.
  ctx->tsfn.Unref(env);

  dds_listener_t* listener = dds_create_listener(ctx);
  dds_lset_data_available(listener, OnDataAvailable);
  const dds_entity_t reader = dds_create_reader(participant, topic, qos, listener);
  dds_delete_listener(listener);
  dds_delete_qos(qos);
  if (reader < 0) {
    ctx->views.Reset();
    ctx->tsfn.Release();
    throw DdsError(env, "dds_create_reader", reader);
  }
  ctx->reader = reader;
  const bool sharedMemory = dds_is_shared_memory_available(reader);
  if (sharedMemory) InstallIoxErrorHandler();
  const uint64_t maxHeld = sharedMemory ? sr_iox_max_chunks_held() : 0;
  if (maxHeld > 0 && ctx->limit + kHeldMargin > maxHeld) {
    // Its queue alone could hold more chunks than iceoryx allows: refused, not a silent stall.
    Close(ctx);
    throw Napi::RangeError::New(env, "keep-last depth " + std::to_string(ctx->limit) + " over shared memory: iceoryx lets one reader hold at most " +
                                         std::to_string(maxHeld) + " chunks, one per queued sample; give a depth of at most " +
                                         std::to_string(maxHeld - kHeldMargin) + " (or turn shared memory off for this topic)");
  }
  ctx->lendCap = LendCap(ctx->limit, maxHeld);
  readers[reader] = ctx;
  return Napi::Number::New(env, reader);
}

Napi::Value ReleaseSample(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "releaseSample(lease: number)");
  return Napi::Boolean::New(env, ReleaseLease(info[0].As<Napi::Number>().DoubleValue()));
}

Napi::Value PoolReserve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) throw Napi::TypeError::New(env, "poolReserve(sampleBytes, count)");
  const double bytes = info[0].As<Napi::Number>().DoubleValue();
  const double count = info[1].As<Napi::Number>().DoubleValue();
  if (!(bytes >= 0 && bytes <= static_cast<double>(SR_POOL_MAX_BYTES)) || !(count >= 0 && count <= 64)) {
    throw Napi::RangeError::New(env, "poolReserve: sampleBytes must be in [0, 1 GiB] and count in [0, 64]");
  }
  return Napi::Number::New(env, static_cast<double>(sr_pool_reserve(static_cast<size_t>(bytes), static_cast<size_t>(count))));
}

Napi::Value PoolStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sr_pool_stats_t st;
  sr_pool_get_stats(&st);
  Napi::Object out = Napi::Object::New(env);
  out.Set("slots", static_cast<double>(st.slots));
  out.Set("inUse", static_cast<double>(st.in_use));
  out.Set("bytes", static_cast<double>(st.bytes));
  out.Set("freeBytes", static_cast<double>(st.free_bytes));
  out.Set("acquired", static_cast<double>(st.acquired));
  out.Set("reused", static_cast<double>(st.reused));
  out.Set("refused", static_cast<double>(st.refused));
  out.Set("retired", static_cast<double>(st.retired));
  out.Set("leases", static_cast<double>(LiveLeaseCount()));
  uint64_t inPlace = 0, copied = 0, subscribers = 0, chunksHeld = 0;
  sr_iox_get_stats(&inPlace, &copied, &subscribers, &chunksHeld);
  out.Set("shmInPlace", static_cast<double>(inPlace));
  out.Set("shmCopied", static_cast<double>(copied));
  out.Set("shmSubscribers", static_cast<double>(subscribers));
  out.Set("shmChunksHeld", static_cast<double>(chunksHeld));
  out.Set("chunkBuffers", static_cast<double>(chunkBuffersMade.load(std::memory_order_relaxed)));
  return out;
}

size_t LiveLeaseCount() {
  std::lock_guard<std::mutex> lock(leaseMu);
  return liveLeases;
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
  const uint64_t shmLost = ctx->shmLost.load(std::memory_order_relaxed);
  out.Set("lost", static_cast<double>(lost.total_count + shmLost));
  out.Set("shmLost", static_cast<double>(shmLost));
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
