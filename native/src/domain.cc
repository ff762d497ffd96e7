#include "domain.h"

#include <map>
#include <string>

#include "dds_error.h"

namespace sr {
namespace {

struct Domain {
  dds_entity_t handle;
  std::string config;
  size_t participants;
};

// JS thread only.
std::map<dds_domainid_t, Domain> domains;
std::map<dds_entity_t, dds_domainid_t> participantDomains;

}  // namespace

Napi::Value CreateParticipant(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  dds_domainid_t id = 0;
  if (info.Length() > 0 && info[0].IsNumber()) id = info[0].As<Napi::Number>().Uint32Value();
  const bool configured = info.Length() > 1 && info[1].IsString();
  if (info.Length() > 1 && !configured && !info[1].IsUndefined()) {
    throw Napi::TypeError::New(env, "createParticipant(domainId, config?: string)");
  }
  auto known = domains.find(id);
  if (configured) {
    const std::string config = info[1].As<Napi::String>().Utf8Value();
    if (known != domains.end() && known->second.config != config) {
      // As rmw_cyclonedds: one process, one set of discovery settings per domain.
      throw Napi::Error::New(env, "domain " + std::to_string(id) +
                                      " already exists in this process with other network/discovery settings "
                                      "(ROS_LOCALHOST_ONLY, ROS_AUTOMATIC_DISCOVERY_RANGE, ROS_STATIC_PEERS, CYCLONEDDS_URI)");
    }
    if (known == domains.end()) {
      const dds_entity_t handle = dds_create_domain(id, config.c_str());
      if (handle == DDS_RETCODE_PRECONDITION_NOT_MET) {
        throw Napi::Error::New(env, "domain " + std::to_string(id) +
                                        " was already created in this process without the ROS discovery settings");
      }
      if (handle < 0) throw DdsError(env, "dds_create_domain(" + std::to_string(id) + ")", handle);
      known = domains.emplace(id, Domain{handle, config, 0}).first;
    }
  }
  dds_qos_t* qos = dds_create_qos();
  // What rmw_cyclonedds announces, so ROS 2 tools recognise the participant.
  static const char kUserData[] = "enclave=/;";
  dds_qset_userdata(qos, kUserData, sizeof(kUserData) - 1);
  const dds_entity_t p = dds_create_participant(id, qos, nullptr);
  dds_delete_qos(qos);
  if (p < 0) {
    if (known != domains.end() && known->second.participants == 0) {
      dds_delete(known->second.handle);
      domains.erase(known);
    }
    throw DdsError(env, "dds_create_participant", p);
  }
  // A participant made without a config still lives in (and must keep) an explicit domain.
  if (known != domains.end()) {
    known->second.participants++;
    participantDomains[p] = id;
  }
  return Napi::Number::New(env, p);
}

void ReleaseParticipant(dds_entity_t participant) {
  auto p = participantDomains.find(participant);
  if (p == participantDomains.end()) return;
  auto d = domains.find(p->second);
  participantDomains.erase(p);
  if (d == domains.end()) return;
  if (--d->second.participants == 0) {
    dds_delete(d->second.handle);
    domains.erase(d);
  }
}

size_t LiveDomainCount() { return domains.size(); }

}  // namespace sr
