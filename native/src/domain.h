// Participants and the Cyclone domains they live in. A domain created here carries the
// configuration the TS side composed (ROS discovery settings + CYCLONEDDS_URI), as
// rmw_cyclonedds creates its domains with dds_create_domain; it is deleted with its last
// participant, so a later transport may configure the same domain id differently.
#pragma once
#include <napi.h>
#include "dds/dds.h"

namespace sr {

// createParticipant(domainId, config?: string): number. With a config the domain is created
// explicitly (config replaces CYCLONEDDS_URI); without one Cyclone reads CYCLONEDDS_URI itself.
Napi::Value CreateParticipant(const Napi::CallbackInfo& info);
// Drops the participant's reference on its domain (after the participant was deleted).
void ReleaseParticipant(dds_entity_t participant);
size_t LiveDomainCount();

}  // namespace sr
