/* kernel/dp_pipeline.h bound to plain memory; see twin.h. */
#include "twin.h"

#include <string.h>

struct ng911_env {
  struct ng911_twin *twin;
};

static inline const struct ng911_config *ng911_env_config(struct ng911_env *env) { return &env->twin->config; }
static inline struct ng911_stats *ng911_env_stats(struct ng911_env *env) { return &env->twin->stats; }
static inline __u8 *ng911_env_scratch(struct ng911_env *env) { return env->twin->scratch; }
static inline int ng911_env_load(struct ng911_env *env, __u32 off, __u8 *dst, __u32 len) {
  /* bpf_xdp_load_bytes' contract: the whole range inside the packet, else an error. */
  if (len == 0 || len > NG911_SIP_WINDOW || off > env->twin->packet_len || len > env->twin->packet_len - off) return -1;
  memcpy(dst, env->twin->packet + off, len);
  return 0;
}

static inline struct ng911_guard *ng911_env_guard(struct ng911_env *env, const struct ng911_source_key *key) {
  for (__u32 i = 0; i < NG911_TWIN_GUARD_SLOTS; i++) {
    struct ng911_twin_guard_entry *e = &env->twin->guard[i];
    if (e->used && memcmp(&e->key, key, sizeof *key) == 0) return &e->guard;
  }
  return 0;
}

static inline void ng911_env_guard_add(struct ng911_env *env, const struct ng911_source_key *key,
                                       const struct ng911_guard *g) {
  for (__u32 i = 0; i < NG911_TWIN_GUARD_SLOTS; i++) {
    struct ng911_twin_guard_entry *e = &env->twin->guard[i];
    if (!e->used) {
      e->used = 1;
      e->key = *key;
      e->guard = *g;
      return;
    }
  }
}

static inline __u32 ng911_env_slot(struct ng911_env *env, __u32 slot) {
  return slot < NG911_MAGLEV_SIZE ? env->twin->table[slot] : NG911_NO_BACKEND;
}

/* An array map: every index below the size has a value (zero until written). */
static inline const struct ng911_backend *ng911_env_backend(struct ng911_env *env, __u32 index) {
  return index < NG911_MAX_BACKENDS ? &env->twin->backends[index] : 0;
}

static inline __u64 ng911_env_now(struct ng911_env *env) { return env->twin->now_ns; }

struct ng911_sip_scan;
static inline void ng911_env_scan(struct ng911_sip_scan *scan);

#include "dp_pipeline.h"

/* bpf_loop's semantics: at most NG911_SIP_MAX_STEPS calls, stopping when a step returns 1. */
static inline void ng911_env_scan(struct ng911_sip_scan *scan) {
  for (__u32 i = 0; i < NG911_SIP_MAX_STEPS; i++)
    if (ng911_sip_step(i, scan)) break;
}

void ng911_twin_init(struct ng911_twin *twin) {
  memset(twin, 0, sizeof *twin);
  for (__u32 i = 0; i < NG911_MAGLEV_SIZE; i++) twin->table[i] = NG911_NO_BACKEND;
  /* Stale bytes, as the per-CPU scratch buffer holds from earlier packets in the kernel: the
   * classifier must never read past the current packet's length. */
  memset(twin->scratch, 'A', sizeof twin->scratch);
}

struct ng911_twin_result ng911_twin_run(struct ng911_twin *twin, __u8 *frame, __u32 len, __u32 ingress_ifindex) {
  struct ng911_env env = {twin};
  twin->packet = frame;
  twin->packet_len = len;
  struct ng911_result r = ng911_process(&env, frame, frame + len, ingress_ifindex);
  twin->packet = 0;
  struct ng911_twin_result out = {r.action, r.klass, r.ifindex, r.backend, r.hash};
  return out;
}

__u64 ng911_twin_call_id_hash(const __u8 *payload, __u32 len, int *found) {
  static const __u32 window = NG911_SIP_WINDOW;
  __u8 scratch[NG911_SCRATCH_SIZE];
  struct ng911_sip_scan scan;
  if (len > window) len = window;
  memset(&scan, 0, sizeof scan);
  memset(scratch, 0, sizeof scratch);
  memcpy(scratch, payload, len);
  scan.buf = scratch;
  scan.len = len;
  ng911_sip_start(&scan);
  if (scan.kind == NG911_SIP_REQUEST || scan.kind == NG911_SIP_RESPONSE) ng911_env_scan(&scan);
  *found = (int)scan.has_call_id;
  return scan.has_call_id ? scan.call_id_hash : 0;
}
