// SPDX-License-Identifier: GPL-2.0
/* ng911_steer: an SO_REUSEPORT group's socket selector. Each SIP datagram goes to the socket of
 * its Call-ID's loop (kernel/ng911_steer.h); anything else is left to the kernel's 4-tuple hash.
 * The Call-ID is found by the dataplane's classifier (kernel/dp_sip.h) over the datagram's first
 * NG911_SIP_WINDOW bytes, copied once into a per-CPU scratch: no view into the packet here, as
 * an skb's payload need not be linear. */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

#include "ng911_dp.h"
#include "ng911_steer.h"

struct ng911_env {
  int unused;
};

struct {
  __uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
  __uint(max_entries, NG911_STEER_MAX_LOOPS);
  __type(key, __u32);
  __type(value, __u64);
} ng911_steer_sockets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ng911_steer_config);
} ng911_steer_config_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ng911_steer_stats);
} ng911_steer_stats_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ng911_scratch);
} ng911_steer_scratch SEC(".maps");

static const __u32 zero_key = 0;

static __always_inline const __u8 *ng911_env_view(struct ng911_env *env, struct ng911_scratch *sc, __u64 pos);

#include "dp_sip.h"

static __always_inline const __u8 *ng911_env_view(struct ng911_env *env, struct ng911_scratch *sc, __u64 pos) {
  (void)env;
  return ng911_sip_scratch_view(sc, pos);
}

static long ng911_steer_step(__u32 index, void *ctx) { return ng911_sip_step(index, ctx); }

static __always_inline int ng911_steer_done(struct ng911_steer_stats *stats, enum ng911_steer_outcome outcome) {
  if (stats) stats->datagrams[outcome]++;
  return SK_PASS;
}

SEC("sk_reuseport")
int ng911_steer(struct sk_reuseport_md *md) {
  struct ng911_steer_stats *stats = bpf_map_lookup_elem(&ng911_steer_stats_map, &zero_key);
  if (md->ip_protocol != IPPROTO_UDP) return ng911_steer_done(stats, NG911_STEER_NOT_UDP);
  const struct ng911_steer_config *config = bpf_map_lookup_elem(&ng911_steer_config_map, &zero_key);
  struct ng911_scratch *sc = bpf_map_lookup_elem(&ng911_steer_scratch, &zero_key);
  if (!config || !sc || config->loops == 0) return ng911_steer_done(stats, NG911_STEER_NO_CALL_ID);
  /* md->data is the UDP header; the SIP message follows it. */
  __u64 n = md->len > 8 ? md->len - 8 : 0;
  if (n > NG911_SIP_WINDOW) n = NG911_SIP_WINDOW;
  asm volatile("" : "+r"(n));
  if (n == 0 || n > NG911_SIP_WINDOW) return ng911_steer_done(stats, NG911_STEER_NO_CALL_ID);
  if (bpf_skb_load_bytes(md, 8, sc->bytes, n) != 0) return ng911_steer_done(stats, NG911_STEER_NO_CALL_ID);
  ng911_sip_reset(sc, n);
  struct ng911_env env = {0};
  ng911_sip_start(&env, sc);
  if (sc->scan.phase != NG911_SCAN_DONE) {
    struct ng911_sip_walk walk = {.env = &env, .sc = sc};
    bpf_loop(NG911_SIP_MAX_STEPS, ng911_steer_step, &walk, 0);
  }
  if (!sc->scan.has_call_id) return ng911_steer_done(stats, NG911_STEER_NO_CALL_ID);
  __u32 loop = ng911_steer_loop(sc->scan.call_id_hash, config->loops);
  if (bpf_sk_select_reuseport(md, &ng911_steer_sockets, &loop, 0) != 0)
    return ng911_steer_done(stats, NG911_STEER_NO_SOCKET);
  return ng911_steer_done(stats, NG911_STEER_CALL_ID);
}

char LICENSE[] SEC("license") = "GPL";
