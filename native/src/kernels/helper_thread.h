// A second core inside one kernel call: the calling (JS) thread and one persistent helper thread
// share a call's independent items (perception_objects.cc: a frame's objects). Process-wide and
// created on first use; it never touches N-API (the job it runs reads and writes only memory the
// caller lends it for the call, which waits for it before returning). Between calls it sleeps,
// waking itself shortly before a call is due where calls come at a steady rate (helper_thread.cc
// says why). Stopped and joined when the last Node environment that loaded the addon is cleaned
// up (a Worker's addon may be unloaded after that); at process exit it dies with the process.
//
// The caller always does the work itself too, so a helper that wakes late (a busy host) only means
// the caller does more: a job must let both threads claim items until none are left.
#pragma once

#include <napi.h>

namespace sr {
namespace helper {

// One call's shared work. run() is called on the caller and, if it woke in time, on the helper,
// at the same time: each claims items (an atomic index) until none are left. It must not throw
// (the helper has nowhere to throw to): a failure is recorded for the caller to redo the item.
class Job {
 public:
  virtual void run(bool onHelper) noexcept = 0;

 protected:
  ~Job() = default;
};

// Runs `job` on the calling thread and, where the helper is available and free, on the helper
// too; returns when every run() has returned. True when the helper took part. With no helper
// (one CPU, thread creation failed, another thread's call holding it) it is job.run(false).
bool runShared(Job& job);

// Kernel family registration calls this: the helper is stopped with the last environment.
void retainForEnv(Napi::Env env);

// Whether this process can use a helper (two or more CPUs allowed, thread creation has not failed).
bool available();

}  // namespace helper
}  // namespace sr
