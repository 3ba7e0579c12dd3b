/* kernel/dp_pipeline.h bound to plain memory; see twin.h. */
#include "twin.h"

#include <string.h>

/* The maps, wherever they live: one twin's fields, or shared tables and a core's state. */
struct ng911_env {
  const struct ng911_config *config;
  const __u32 *table;
  const __u32 *prior;
  const struct ng911_backend *backends;
  struct ng911_pin *pins;
  struct ng911_stats *stats;
  struct ng911_guard_slot *guard;
  struct ng911_scratch *scratch;
  __u64 now_ns;
  const __u8 *packet;
  __u32 packet_len;
};

static inline const struct ng911_config *ng911_env_config(struct ng911_env *env) { return env->config; }
static inline struct ng911_stats *ng911_env_stats(struct ng911_env *env) { return env->stats; }
static inline struct ng911_scratch *ng911_env_scratch(struct ng911_env *env) { return env->scratch; }
static inline int ng911_env_window(struct ng911_env *env, struct ng911_scratch *sc, const __u8 *payload, __u32 off,
                                   __u32 len) {
  (void)payload;
  /* bpf_xdp_load_bytes' contract: the whole range inside the packet, else an error. */
  if (len == 0 || len > NG911_SIP_WINDOW || off > env->packet_len || len > env->packet_len - off) return -1;
  memcpy(sc->bytes, env->packet + off, len);
  return 0;
}

/* The twin copies the window up front and reads it from the scratch: the kernel's reads in the
 * packet are the same bytes (dp_sip.h's views), and its copy near the end is this one. */
static inline const __u8 *ng911_env_view(struct ng911_env *env, struct ng911_scratch *sc, __u64 pos);

static inline struct ng911_guard_slot *ng911_env_guard(struct ng911_env *env, __u32 slot) {
  return slot < NG911_GUARD_SOURCES ? &env->guard[slot] : 0;
}

static inline __u32 ng911_env_slot(struct ng911_env *env, __u32 slot) {
  return slot < NG911_MAGLEV_SIZE ? env->table[slot] : NG911_NO_BACKEND;
}

/* An array map: every index below the size has a value (zero until written). */
static inline __u32 ng911_env_prior(struct ng911_env *env, __u32 slot) {
  return slot < NG911_MAGLEV_SIZE ? env->prior[slot] : NG911_NO_BACKEND;
}

static inline struct ng911_pin *ng911_env_pin(struct ng911_env *env, __u32 index) {
  return index < NG911_PINS ? &env->pins[index] : 0;
}

static inline const struct ng911_backend *ng911_env_backend(struct ng911_env *env, __u32 index) {
  return index < NG911_MAX_BACKENDS ? &env->backends[index] : 0;
}

static inline __u64 ng911_env_now(struct ng911_env *env) { return env->now_ns; }

struct ng911_sip_walk; /* dp_sip.h */
static inline void ng911_env_scan(struct ng911_sip_walk *walk);

#include "dp_pipeline.h"

static inline const __u8 *ng911_env_view(struct ng911_env *env, struct ng911_scratch *sc, __u64 pos) {
  (void)env;
  return ng911_sip_scratch_view(sc, pos);
}

/* bpf_loop's semantics: at most NG911_SIP_MAX_STEPS calls, stopping when a step returns 1. */
static inline void ng911_env_scan(struct ng911_sip_walk *walk) {
  for (__u32 i = 0; i < NG911_SIP_MAX_STEPS; i++)
    if (ng911_sip_step(i, walk)) break;
}

static struct ng911_twin_result ng911_run(struct ng911_env *env, __u8 *frame, __u32 len, __u32 ingress_ifindex) {
  env->packet = frame;
  env->packet_len = len;
  struct ng911_result r = ng911_process(env, frame, frame + len, ingress_ifindex);
  struct ng911_twin_result out = {r.action, r.klass, r.ifindex, r.backend, r.hash};
  return out;
}

/* Stale bytes, as the per-CPU scratch buffer holds from earlier packets in the kernel: the
 * classifier must never read past the current packet's length. */
static void ng911_scratch_init(struct ng911_scratch *scratch) { memset(scratch, 'A', sizeof *scratch); }

void ng911_twin_init(struct ng911_twin *twin) {
  memset(twin, 0, sizeof *twin);
  for (__u32 i = 0; i < NG911_MAGLEV_SIZE; i++) twin->table[i] = twin->prior[i] = NG911_NO_BACKEND;
  ng911_scratch_init(&twin->scratch);
}

void ng911_tables_init(struct ng911_tables *tables) {
  memset(tables, 0, sizeof *tables);
  for (__u32 i = 0; i < NG911_MAGLEV_SIZE; i++) tables->table[i] = tables->prior[i] = NG911_NO_BACKEND;
}

void ng911_worker_init(struct ng911_worker *worker) {
  memset(worker, 0, sizeof *worker);
  ng911_scratch_init(&worker->scratch);
}

struct ng911_twin_result ng911_twin_run(struct ng911_twin *twin, __u8 *frame, __u32 len, __u32 ingress_ifindex) {
  struct ng911_env env = {&twin->config, twin->table, twin->prior, twin->backends, twin->pins, &twin->stats,
                          twin->guard, &twin->scratch, twin->now_ns, 0, 0};
  return ng911_run(&env, frame, len, ingress_ifindex);
}

struct ng911_twin_result ng911_worker_run(const struct ng911_tables *tables, struct ng911_worker *worker, __u8 *frame,
                                          __u32 len, __u32 ingress_ifindex) {
  struct ng911_env env = {&tables->config, tables->table, tables->prior, tables->backends, worker->pins,
                          &worker->stats, worker->guard, &worker->scratch, worker->now_ns, 0, 0};
  return ng911_run(&env, frame, len, ingress_ifindex);
}

void ng911_twin_sip_scan(const __u8 *payload, __u32 len, struct ng911_sip_scan *out) {
  struct ng911_scratch sc;
  if (len > NG911_SIP_WINDOW) len = NG911_SIP_WINDOW;
  memset(&sc, 0xa5, sizeof sc);
  memcpy(sc.bytes, payload, len);
  ng911_sip_reset(&sc, len);
  if (len == 0) {
    sc.scan.kind = NG911_SIP_MALFORMED;
  } else {
    ng911_sip_start(0, &sc);
    if (sc.scan.kind == NG911_SIP_REQUEST || sc.scan.kind == NG911_SIP_RESPONSE) {
      struct ng911_sip_walk walk = {0, &sc};
      ng911_env_scan(&walk);
    }
  }
  *out = sc.scan;
}

__u64 ng911_twin_call_id_hash(const __u8 *payload, __u32 len, int *found) {
  struct ng911_sip_scan scan;
  ng911_twin_sip_scan(payload, len, &scan);
  *found = (int)scan.has_call_id;
  return scan.has_call_id ? scan.call_id_hash : 0;
}
