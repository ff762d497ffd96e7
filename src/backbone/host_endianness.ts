/**
 * Whether this host stores numbers little-endian: then typed-array views over file bytes (and
 * int64 words written as two int32 halves) need no byte swapping.
 */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
