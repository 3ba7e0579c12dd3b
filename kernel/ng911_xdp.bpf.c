// SPDX-License-Identifier: GPL-2.0
/* ng911_xdp: stage one of the appliance. Classifies SIP arriving at the appliance's address,
 * guards against floods per source, and forwards each call (by Call-ID, Maglev) to one ESRP
 * node. The packet path is kernel/dp_pipeline.h, shared with the user-space twin; this file
 * holds the maps and binds the pipeline's hooks to them. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* One packet's: the frame, and where its SIP window is (read in place by the scan's views). */
struct ng911_env {
  struct xdp_md *ctx;
  const __u8 *data_end;
  const __u8 *payload;   /* the window's first byte */
  __u32 window_off;      /* the same, as an offset into the frame */
  __u32 copied;          /* the window is in the scratch (read near its end) */
};

#include "ng911_dp.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ng911_config);
} ng911_config_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ng911_stats);
} ng911_stats_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ng911_scratch);
} ng911_scratch_map SEC(".maps");

/* Maglev lookup table: slot -> backend index. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, NG911_MAGLEV_SIZE);
  __type(key, __u32);
  __type(value, __u32);
} ng911_maglev_map SEC(".maps");

/* During a drain: the table calls in progress keep (ng911_dp.h), and the calls begun since on
 * moved slots. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, NG911_MAGLEV_SIZE);
  __type(key, __u32);
  __type(value, __u32);
} ng911_prior_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, NG911_PINS);
  __type(key, __u32);
  __type(value, struct ng911_pin);
} ng911_pins_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, NG911_MAX_BACKENDS);
  __type(key, __u32);
  __type(value, struct ng911_backend);
} ng911_backends_map SEC(".maps");

/* Egress interfaces for XDP_REDIRECT, keyed by ifindex. */
struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u32);
} ng911_ports_map SEC(".maps");

/* The flood guard's sources, direct-mapped by a hash of the address (dp_pipeline.h). */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, NG911_GUARD_SOURCES);
  __type(key, __u32);
  __type(value, struct ng911_guard_slot);
} ng911_guard_map SEC(".maps");

static __u32 zero_key;

static __always_inline const struct ng911_config *ng911_env_config(struct ng911_env *env) {
  (void)env;
  return bpf_map_lookup_elem(&ng911_config_map, &zero_key);
}
static __always_inline struct ng911_stats *ng911_env_stats(struct ng911_env *env) {
  (void)env;
  return bpf_map_lookup_elem(&ng911_stats_map, &zero_key);
}
static __always_inline struct ng911_scratch *ng911_env_scratch(struct ng911_env *env) {
  (void)env;
  return bpf_map_lookup_elem(&ng911_scratch_map, &zero_key);
}
static __always_inline int ng911_env_window(struct ng911_env *env, struct ng911_scratch *sc, const __u8 *payload,
                                            __u32 off, __u32 len) {
  (void)sc;
  (void)len;
  env->payload = payload;
  env->window_off = off;
  env->copied = 0;
  return 0;
}
static __always_inline const __u8 *ng911_env_view(struct ng911_env *env, struct ng911_scratch *sc, __u64 pos);
static __always_inline struct ng911_guard_slot *ng911_env_guard(struct ng911_env *env, __u32 slot) {
  (void)env;
  return bpf_map_lookup_elem(&ng911_guard_map, &slot);
}
static __always_inline __u32 ng911_env_slot(struct ng911_env *env, __u32 slot) {
  (void)env;
  __u32 *index = bpf_map_lookup_elem(&ng911_maglev_map, &slot);
  return index ? *index : NG911_NO_BACKEND;
}
static __always_inline __u32 ng911_env_prior(struct ng911_env *env, __u32 slot) {
  (void)env;
  __u32 *index = bpf_map_lookup_elem(&ng911_prior_map, &slot);
  return index ? *index : NG911_NO_BACKEND;
}
static __always_inline struct ng911_pin *ng911_env_pin(struct ng911_env *env, __u32 index) {
  (void)env;
  return bpf_map_lookup_elem(&ng911_pins_map, &index);
}
static __always_inline const struct ng911_backend *ng911_env_backend(struct ng911_env *env, __u32 index) {
  (void)env;
  return bpf_map_lookup_elem(&ng911_backends_map, &index);
}
/* Coarse time is enough for buckets refilled at call rates, and costs a fraction of
 * bpf_ktime_get_ns. */
static __always_inline __u64 ng911_env_now(struct ng911_env *env) {
  (void)env;
  return bpf_ktime_get_coarse_ns();
}

struct ng911_sip_walk; /* dp_sip.h */
static __always_inline void ng911_env_scan(struct ng911_sip_walk *walk);

#include "dp_pipeline.h"

/* The scan reads the window in the packet, through a pointer checked once per view against
 * data_end, and copies it to the scratch (bpf_xdp_load_bytes, once per packet) only when a view
 * comes within NG911_VIEW_SPAN of the window's end, where the bytes past it must read as zero:
 * most INVITEs end their headers long before, and never pay for the copy. */
static __always_inline const __u8 *ng911_env_view(struct ng911_env *env, struct ng911_scratch *sc, __u64 pos) {
  __u64 len = sc->scan.len;
  if (pos + NG911_VIEW_SPAN <= len) {
    const __u8 *p = env->payload + (pos & NG911_SCRATCH_MASK);
    if (p + NG911_VIEW_SPAN <= env->data_end) return p;
  }
  if (!env->copied) {
    /* Keeps the compiler from checking one copy of len and passing another to the helper. */
    __u64 n = len;
    asm volatile("" : "+r"(n));
    if (n == 0 || n > NG911_SIP_WINDOW) return 0;
    if (bpf_xdp_load_bytes(env->ctx, env->window_off, sc->bytes, n) != 0) return 0;
    env->copied = 1;
  }
  return ng911_sip_scratch_view(sc, pos);
}

/* One step per call: the verifier checks the step once instead of every iteration. */
static long ng911_scan_step(__u32 index, void *ctx) { return ng911_sip_step(index, ctx); }

static __always_inline void ng911_env_scan(struct ng911_sip_walk *walk) {
  bpf_loop(NG911_SIP_MAX_STEPS, ng911_scan_step, walk, 0);
}

SEC("xdp")
int ng911_xdp(struct xdp_md *ctx) {
  __u8 *data = (__u8 *)(long)ctx->data;
  __u8 *data_end = (__u8 *)(long)ctx->data_end;
  struct ng911_env env = {.ctx = ctx, .data_end = data_end};
  struct ng911_result r = ng911_process(&env, data, data_end, ctx->ingress_ifindex);
  switch (r.action) {
    case NG911_DROP: return XDP_DROP;
    case NG911_TX: return XDP_TX;
    case NG911_REDIRECT: return (int)bpf_redirect_map(&ng911_ports_map, r.ifindex, 0);
    default: return XDP_PASS;
  }
}

char LICENSE[] SEC("license") = "GPL";
