// DDS return codes become JS exceptions carrying the code, so the TS side can map them to typed errors.
#pragma once
#include <napi.h>
#include <string>
#include "dds/dds.h"

namespace sr {

inline Napi::Error DdsError(Napi::Env env, const std::string& call, dds_return_t rc, const std::string& why = "") {
  Napi::Error e = Napi::Error::New(env, call + ": " + dds_strretcode(rc) + (why.empty() ? "" : ": " + why));
  e.Set("ddsRetcode", Napi::Number::New(env, rc));
  e.Set("ddsCall", Napi::String::New(env, call));
  return e;
}

// Throws (as a JS exception) if rc is negative; returns rc otherwise.
inline dds_return_t Check(Napi::Env env, const std::string& call, dds_return_t rc) {
  if (rc < 0) throw DdsError(env, call, rc);
  return rc;
}

}  // namespace sr
