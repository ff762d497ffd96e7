// helper_thread.h's helper, and kernel family "helper_thread" (its state and switches, for tests
// and the benches).
//
// Waking a sleeping thread is what costs on a VM. Measured on the 2-vCPU Firecracker VM this was
// written on, with the JS thread busy (as between a frame's kernels): FUTEX_WAKE to a thread whose
// vCPU is halted costs the waker ~35 us (the IPI exits to the host) and the thread runs ~70-100 us
// later; a condition variable is the same futex underneath. Woken at the start of measureObjects,
// the helper arrived when the caller had done half the objects: a frame gained ~4 us, for ~50 us
// more CPU. So the helper wakes itself, ahead of the call it expects: where calls come at a steady
// rate (a camera's frames: intervals within kLead of an estimate, kMinPeriod apart at least),
// after each job it sleeps until kLead before the next call is due, then spins for it (a
// timed sleep ends ~40-200 us late here, hence kLead). Every call posts its job and starts on it
// without waking anyone; the helper takes a share if it is spinning, or wakes while the caller is
// still at it. A helper that spun for nothing sleeps until a call at a steady rate wakes it again,
// after that call's work (the one FUTEX_WAKE a caller pays, when the helper fell out of step).
//
// Calls in bursts (several cameras in one process: the frames queue on the JS thread) are not at
// a steady rate and run serially: woken for every call, the helper cost four cameras in one
// process ~8% more CPU (bench:dds --layout process: 7.1 vs 6.6 % a camera, 2.38 vs 2.20 ms a frame).
//
// The scheduler placed the woken helper on the caller's vCPU as often as not (these vCPUs share
// no cache level the kernel knows of, so the wake-up does not look for an idle one), where it
// preempted the caller: the helper keeps off the CPU the last call came from.
#include "helper_thread.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#if defined(__linux__)
#include <linux/futex.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#endif

#include "kernels.h"

namespace sr {
namespace helper {
namespace {

using Clock = std::chrono::steady_clock;
using Ns = std::chrono::nanoseconds;

// Wake this long before the next call is due, and spin until that long after it at most.
constexpr int64_t kLead = 300'000, kSlack = 300'000, kMaxLead = 1'500'000;
// Calls further apart than kMaxPeriod are not expected (sleep until woken); closer than kMinPeriod
// they are queued work (bursts), not a rate.
constexpr int64_t kMaxPeriod = 200'000'000, kMinPeriod = 2'000'000;
// The caller's wait for the helper's last item: spin this long, then block.
constexpr int64_t kCallerSpin = 100'000;

enum Phase : uint32_t { kIdle = 0, kPosted, kTaken, kDone };

int64_t nowNs() { return std::chrono::duration_cast<Ns>(Clock::now().time_since_epoch()).count(); }

#if defined(__linux__)
// Returns on a wake, a changed word (EAGAIN), the timeout or a signal: callers re-check the word.
void waitWhile(std::atomic<uint32_t>& word, uint32_t value, int64_t timeoutNs = -1) {
  timespec ts{static_cast<time_t>(timeoutNs / 1'000'000'000), static_cast<long>(timeoutNs % 1'000'000'000)};
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, value, timeoutNs >= 0 ? &ts : nullptr, nullptr, 0);
}
void wakeAll(std::atomic<uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1 << 30, nullptr, nullptr, 0);
}
int currentCpu() { return sched_getcpu(); }
#else
std::mutex parkMutex;
std::condition_variable parked;
void waitWhile(std::atomic<uint32_t>& word, uint32_t value, int64_t timeoutNs = -1) {
  std::unique_lock<std::mutex> lock(parkMutex);
  if (timeoutNs < 0) parked.wait(lock, [&] { return word.load() != value; });
  else parked.wait_for(lock, Ns(timeoutNs), [&] { return word.load() != value; });
}
void wakeAll(std::atomic<uint32_t>&) {
  { std::lock_guard<std::mutex> lock(parkMutex); }
  parked.notify_all();
}
int currentCpu() { return -1; }
#endif

inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

struct Pool {
  std::mutex lifecycle;  // the thread's start and stop, envs, the flags below
  int envs = 0;
  std::thread thread;
  bool running = false;
  bool startFailed = false;  // not retried: a failing clone() every frame would cost more than it could give
  bool failStarts = false;   // tests: starting behaves as if thread creation failed
#if defined(__linux__)
  cpu_set_t allowed;  // the process's CPUs when the addon loaded
  int cpus = 0;
  Pool() {
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) cpus = CPU_COUNT(&allowed);
  }
#else
  int cpus = static_cast<int>(std::thread::hardware_concurrency());
#endif
  std::atomic<bool> ready{false};  // running: read without the lock on every call
  std::atomic<bool> busy{false};   // a call holds the helper (calls from other JS threads go serial)
  std::atomic<bool> stop{false};
  std::atomic<uint32_t> wake{0};  // bumped to wake the helper; it sleeps on it
  std::atomic<uint32_t> phase{kIdle};
  std::atomic<uint32_t> callerBlocked{0};
  std::atomic<Job*> job{nullptr};
  // The helper: spinning for a job; else when its timed sleep ends (0: sleeping until woken).
  std::atomic<bool> spinning{false};
  std::atomic<int64_t> wakesAtNs{0};
  std::atomic<bool> parked{false};  // sleeping until a caller wakes it
  // The caller's last post, the period the helper expects (0: none), CPU.
  std::atomic<int64_t> postNs{0}, periodNs{0};
  int64_t rate = 0;  // the caller's (under busy): the period estimate, 0 none
  int offRate = 0;   // intervals in a row off it
  std::atomic<int> callerCpu{-1};
  // For the state op (benches): calls shared, calls the helper took part in, FUTEX_WAKEs by callers.
  std::atomic<uint64_t> jobs{0}, jobsHelped{0}, callerWakes{0};
  // The helper's: timed wake-ups, spins that found no job, time spent spinning (ns), total lateness
  // of timed wake-ups (ns), timed wake-ups after the call had come and gone.
  std::atomic<uint64_t> timedWakes{0}, emptySpins{0}, spinNs{0}, lateNs{0}, lateWakes{0};
};

// Never destroyed: at process exit the helper may still be blocked on its words.
Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}

// Keep off the CPU the caller last ran on (see the top).
void avoidCpu(Pool& p, int& avoided) {
#if defined(__linux__)
  const int cpu = p.callerCpu.load(std::memory_order_relaxed);
  if (cpu < 0 || cpu == avoided || p.cpus < 2 || !CPU_ISSET(cpu, &p.allowed)) return;
  cpu_set_t set = p.allowed;
  CPU_CLR(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
  avoided = cpu;
#else
  (void)p;
  (void)avoided;
#endif
}

// Spins until a posted job is taken (true) or `untilNs` passes.
bool takeJob(Pool& p, int64_t untilNs) {
  const int64_t from = nowNs();
  p.spinning.store(true, std::memory_order_seq_cst);
  bool took = false;
  for (unsigned spins = 0;; spins++) {
    uint32_t posted = kPosted;
    if (p.phase.load(std::memory_order_relaxed) == kPosted && p.phase.compare_exchange_strong(posted, kTaken, std::memory_order_acq_rel)) {
      took = true;
      break;
    }
    if ((spins & 63) == 63 && (nowNs() > untilNs || p.stop.load(std::memory_order_relaxed))) break;
    relax();
  }
  p.spinning.store(false, std::memory_order_seq_cst);
  p.spinNs.fetch_add(static_cast<uint64_t>(nowNs() - from), std::memory_order_relaxed);
  // A caller that saw it spinning and did not wake it may have posted just now.
  uint32_t posted = kPosted;
  return took || p.phase.compare_exchange_strong(posted, kTaken, std::memory_order_acq_rel);
}

void helperMain(Pool* pp, uint32_t seen) {
  Pool& p = *pp;
#if defined(__linux__)
  // Timed sleeps end when asked, not up to 50 us later (the default slack).
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  // Its own name in top and /proc (bench:dds counts its CPU apart from V8's threads, also "node").
  prctl(PR_SET_NAME, "sr-kernels", 0, 0, 0);
#endif
  int avoided = -1;
  // How early to wake before a call is due: kLead, or more where timed sleeps end later (twice
  // their recent lateness, up to kMaxLead).
  int64_t lateAvg = 0, lead = kLead;
  for (;;) {
    avoidCpu(p, avoided);
    const uint32_t seen = p.wake.load(std::memory_order_acquire);
    if (p.stop.load(std::memory_order_acquire)) return;
    int64_t now = nowNs(), spinUntil = now;  // posted while it ran: take it now
    bool predicted = false;
    if (p.phase.load(std::memory_order_acquire) != kPosted) {
      // The next call is expected a period after the last (periodNs: set by regular calls, reset
      // when the last expected call did not come); else sleep until a caller wakes it.
      const int64_t last = p.postNs.load(std::memory_order_relaxed), period = p.periodNs.load(std::memory_order_relaxed), due = last + period;
      if (period > 0 && due - lead > now) {
        const int64_t wakeAt = due - lead;
        p.wakesAtNs.store(wakeAt, std::memory_order_seq_cst);
        waitWhile(p.wake, seen, wakeAt - now);
        p.wakesAtNs.store(0, std::memory_order_seq_cst);
        now = nowNs();
        if (p.wake.load(std::memory_order_acquire) == seen) {
          const int64_t late = std::max<int64_t>(0, now - wakeAt);
          p.timedWakes.fetch_add(1, std::memory_order_relaxed);
          p.lateNs.fetch_add(static_cast<uint64_t>(late), std::memory_order_relaxed);
          lateAvg = (3 * lateAvg + late) / 4;
          lead = std::min(kMaxLead, std::max(kLead, 2 * lateAvg));
        }
        // Woken after the call came and went: too late for it; expect the next (no spin).
        if (p.postNs.load(std::memory_order_relaxed) != last && p.phase.load(std::memory_order_acquire) != kPosted) {
          p.lateWakes.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        spinUntil = due + kSlack;
      } else if (period > 0 && due + kSlack > now) {
        spinUntil = due + kSlack;
      } else {
        p.parked.store(true, std::memory_order_seq_cst);
        while (p.wake.load(std::memory_order_acquire) == seen) waitWhile(p.wake, seen);
        p.parked.store(false, std::memory_order_seq_cst);
      }
      if (p.stop.load(std::memory_order_acquire)) return;
      // A caller's wake (after its call, or a stop): nothing to spin for; the next round expects the next call.
      if (p.wake.load(std::memory_order_acquire) != seen) spinUntil = nowNs();
      predicted = spinUntil > nowNs();
    }
    const bool took = takeJob(p, spinUntil);
    if (!took) {
      // The expected call did not come: sleep until one wakes it (the next regular call sets periodNs again).
      if (predicted) {
        p.periodNs.store(0, std::memory_order_relaxed);
        p.emptySpins.fetch_add(1, std::memory_order_relaxed);
      }
      continue;
    }
    p.job.load(std::memory_order_acquire)->run(true);
    p.phase.store(kDone, std::memory_order_seq_cst);
    if (p.callerBlocked.load(std::memory_order_seq_cst) != 0) wakeAll(p.phase);
  }
}

// Under p.lifecycle.
void startLocked(Pool& p) {
  if (p.running || p.startFailed || p.cpus < 2) return;
  try {
    if (p.failStarts) throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
    p.callerCpu.store(currentCpu(), std::memory_order_relaxed);
    p.thread = std::thread(helperMain, &p, p.wake.load());
    p.running = true;
    p.ready.store(true, std::memory_order_release);
  } catch (const std::system_error&) {
    p.startFailed = true;
  }
}

// Under p.lifecycle, with no call in flight (the state op holds `busy`; releaseEnv runs after the last environment's calls).
void stopLocked(Pool& p) {
  if (!p.running) return;
  p.ready.store(false, std::memory_order_release);
  p.stop.store(true, std::memory_order_release);
  p.wake.fetch_add(1, std::memory_order_release);
  wakeAll(p.wake);
  p.thread.join();
  p.stop.store(false, std::memory_order_relaxed);
  p.periodNs.store(0, std::memory_order_relaxed);
  p.running = false;
}

void waitForHelper(Pool& p) {
  const int64_t until = nowNs() + kCallerSpin;
  for (unsigned spins = 0; p.phase.load(std::memory_order_acquire) != kDone; spins++) {
    if ((spins & 63) == 63 && nowNs() > until) {
      p.callerBlocked.store(1, std::memory_order_seq_cst);
      while (p.phase.load(std::memory_order_seq_cst) == kTaken) waitWhile(p.phase, kTaken);
      p.callerBlocked.store(0, std::memory_order_relaxed);
      return;
    }
    relax();
  }
}

void releaseEnv(void* arg) {
  Pool& p = *static_cast<Pool*>(arg);
  std::lock_guard<std::mutex> lock(p.lifecycle);
  // The last environment's calls are over: join before a Worker's addon can be unloaded.
  if (--p.envs == 0) stopLocked(p);
}

// helperThread("state" | "stop" | "failStarts" | "allowStarts") → the state below. "stop" joins
// the helper when no call holds it (the next call starts it again); "failStarts" makes starts fail
// as thread creation can (calls then run on their own thread); "allowStarts" undoes it.
Napi::Value HelperThread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pool& p = pool();
  const std::string op = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "state";
  {
    std::lock_guard<std::mutex> lock(p.lifecycle);
    if (op == "stop") {
      if (!p.busy.exchange(true, std::memory_order_acquire)) {
        stopLocked(p);
        p.busy.store(false, std::memory_order_release);
      }
    } else if (op == "failStarts") {
      p.failStarts = true;
    } else if (op == "allowStarts") {
      p.failStarts = false;
      p.startFailed = false;
    } else if (op != "state") {
      throw Napi::TypeError::New(env, "helperThread: op must be \"state\", \"stop\", \"failStarts\" or \"allowStarts\"");
    }
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("available", Napi::Boolean::New(env, p.cpus >= 2 && !p.startFailed && !p.failStarts));
  out.Set("running", Napi::Boolean::New(env, p.ready.load()));
  out.Set("startFailed", Napi::Boolean::New(env, p.startFailed));
  out.Set("jobs", Napi::Number::New(env, static_cast<double>(p.jobs.load())));
  out.Set("jobsHelped", Napi::Number::New(env, static_cast<double>(p.jobsHelped.load())));
  out.Set("callerWakes", Napi::Number::New(env, static_cast<double>(p.callerWakes.load())));
  out.Set("timedWakes", Napi::Number::New(env, static_cast<double>(p.timedWakes.load())));
  out.Set("lateWakes", Napi::Number::New(env, static_cast<double>(p.lateWakes.load())));
  out.Set("emptySpins", Napi::Number::New(env, static_cast<double>(p.emptySpins.load())));
  out.Set("spinMs", Napi::Number::New(env, static_cast<double>(p.spinNs.load()) / 1e6));
  out.Set("lateMs", Napi::Number::New(env, static_cast<double>(p.lateNs.load()) / 1e6));
  return out;
}

void InitHelperThread(Napi::Env env, Napi::Object exports) {
  retainForEnv(env);
  exports.Set("helperThread", Napi::Function::New(env, HelperThread, "helperThread"));
}

}  // namespace

void retainForEnv(Napi::Env env) {
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lock(p.lifecycle);
    p.envs++;
  }
  napi_add_env_cleanup_hook(env, releaseEnv, &p);
}

bool runShared(Job& job) {
  Pool& p = pool();
  if (!p.ready.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(p.lifecycle);
    startLocked(p);
  }
  if (!p.ready.load(std::memory_order_acquire) || p.busy.exchange(true, std::memory_order_acquire)) {
    job.run(false);
    return false;
  }
  // Expected only at a steady rate: a period estimate that intervals keep to within kLead (one
  // interval off it, a frame late or a pause, keeps the estimate; two in a row replace it).
  const int64_t now = nowNs(), interval = now - p.postNs.load(std::memory_order_relaxed);
  const bool fits = p.rate > 0 && interval - p.rate <= kLead && p.rate - interval <= kLead;
  if (fits) {
    p.rate = (3 * p.rate + interval) / 4;
    p.offRate = 0;
  } else if (p.rate == 0 || ++p.offRate >= 2) {
    p.rate = interval >= kMinPeriod && interval <= kMaxPeriod ? interval : 0;
    p.offRate = 0;
  }
  // A burst (several cameras' queued frames, kMinPeriod apart or less) is never expected: a helper
  // spinning for the next frame of a burst cost four cameras in one process ~0.12 ms of CPU a frame.
  const bool regular = fits || (p.rate > 0 && p.offRate == 1 && interval >= kMinPeriod);
  p.periodNs.store(regular ? p.rate : 0, std::memory_order_relaxed);
  p.postNs.store(now, std::memory_order_relaxed);
  p.callerCpu.store(currentCpu(), std::memory_order_relaxed);
  // Posted whether or not the helper is on its way (one that wakes late may still take a share),
  // but not woken: a wake-up costs more than it gives (see the top).
  p.job.store(&job, std::memory_order_relaxed);
  p.phase.store(kPosted, std::memory_order_seq_cst);
  job.run(false);
  uint32_t posted = kPosted;
  // Not taken yet: closed, and a late helper finds nothing. Taken: wait for its last item.
  const bool helped = !p.phase.compare_exchange_strong(posted, kIdle, std::memory_order_acq_rel);
  if (helped) {
    waitForHelper(p);
    p.phase.store(kIdle, std::memory_order_relaxed);
    p.jobsHelped.fetch_add(1, std::memory_order_relaxed);
  }
  // Calls at a steady rate while the helper sleeps until woken: wake it now, so it expects the next.
  if (regular && p.parked.load(std::memory_order_seq_cst)) {
    p.wake.fetch_add(1, std::memory_order_release);
    wakeAll(p.wake);
    p.callerWakes.fetch_add(1, std::memory_order_relaxed);
  }
  p.jobs.fetch_add(1, std::memory_order_relaxed);
  p.job.store(nullptr, std::memory_order_relaxed);
  p.busy.store(false, std::memory_order_release);
  return helped;
}

}  // namespace helper
}  // namespace sr

SR_KERNEL_FAMILY(helper_thread, sr::helper::InitHelperThread);
