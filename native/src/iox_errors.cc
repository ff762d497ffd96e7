#include "iox_errors.h"
#include "iox_errors_c.h"

#include "dds/features.h"

#ifdef DDS_HAS_SHM
#include <atomic>
#include <functional>
#include <mutex>
#include <string>

#include "iceoryx_hoofs/error_handling/error_handling.hpp"

namespace {

thread_local bool chunkTooLarge = false;
std::atomic<uint64_t> chunksRefused{0};

// A subclass only to reach iceoryx's own reaction (protected) for the errors passed on.
struct Handler : iox::ErrorHandler {
  static void Handle(const iox::Error error, const std::function<void()> callback, const iox::ErrorLevel level) {
    if (error == iox::Error::kMEPOO__MEMPOOL_GETCHUNK_CHUNK_IS_TOO_LARGE) {
      // iceoryx has logged the pools it has and the size asked for; the loan fails.
      chunkTooLarge = true;
      return;
    }
    if (error == iox::Error::kPOPO__CHUNK_QUEUE_POPPER_CHUNK_WITH_INCOMPATIBLE_CHUNK_HEADER_VERSION) {
      // iceoryx has dropped the chunk (ChunkQueuePopper::tryPop) and logged it.
      chunksRefused.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (error == iox::Error::kPOPO__CHUNK_RECEIVER_INVALID_CHUNK_TO_RELEASE_FROM_USER) {
      // A received chunk given back through a back-offset its publisher forged (it leads to a
      // header that agrees with it but is not the chunk's): iceoryx found nothing to release
      // (ChunkReceiver::release) and changed nothing; the chunk stays held by the subscriber.
      return;
    }
    // As iceoryx's default handler does.
    if (callback) {
      callback();
      return;
    }
    const std::string text = std::string("ICEORYX error! ") + toString(error);
    reactOnErrorLevel(level, text.c_str());
  }
};

}  // namespace

namespace sr {

void InstallIoxErrorHandler() {
  static std::once_flag once;
  // The guard would put the default handler back when destroyed: it is kept for the process.
  std::call_once(once, [] { new iox::cxx::GenericRAII(iox::ErrorHandler::setTemporaryErrorHandler(Handler::Handle)); });
}

bool TakeIoxChunkTooLarge() {
  const bool was = chunkTooLarge;
  chunkTooLarge = false;
  return was;
}

uint64_t IoxChunksRefused() { return chunksRefused.load(std::memory_order_relaxed); }

}  // namespace sr

extern "C" void sr_iox_count_refused(void) { chunksRefused.fetch_add(1, std::memory_order_relaxed); }
#else
namespace sr {

void InstallIoxErrorHandler() {}

bool TakeIoxChunkTooLarge() { return false; }

uint64_t IoxChunksRefused() { return 0; }

}  // namespace sr

extern "C" void sr_iox_count_refused(void) {}
#endif
