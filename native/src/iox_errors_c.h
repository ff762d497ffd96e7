/* The part of iox_errors.h that C code calls. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/* Counts one shared-memory chunk refused before Cyclone saw it (sr::IoxChunksRefused). */
void sr_iox_count_refused (void);

#ifdef __cplusplus
}
#endif
