// The kernels addon's entry point: every registered family adds its functions to the exports,
// and `families` lists them (the TS loader reports what a build holds).
#include <vector>

#include "kernels.h"

namespace sr {

struct Family {
  const char* name;
  FamilyInit init;
};

// Function-local, so registrations from other files' static initialisers find it constructed.
std::vector<Family>& registry() {
  static std::vector<Family> families;
  return families;
}

FamilyRegistration::FamilyRegistration(const char* family, FamilyInit init) { registry().push_back({family, init}); }

}  // namespace sr

static Napi::Object InitKernels(Napi::Env env, Napi::Object exports) {
  Napi::Array names = Napi::Array::New(env, sr::registry().size());
  uint32_t i = 0;
  for (const sr::Family& f : sr::registry()) {
    f.init(env, exports);
    names.Set(i++, Napi::String::New(env, f.name));
  }
  exports.Set("families", names);
  return exports;
}

NODE_API_MODULE(spatial_reward_kernels, InitKernels)
