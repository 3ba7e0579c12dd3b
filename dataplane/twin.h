/* The user-space twin of the XDP program: kernel/dp_pipeline.h compiled for user space, with
 * the maps as plain memory. The tests run the same packets through it and through the kernel
 * and expect the same verdicts and bytes; the DPDK path (dataplane/dpdk/) runs it on its ports,
 * split as the kernel splits it: tables that the control plane writes and every core reads, and
 * per-core state (counters, flood guard, scratch), as the per-CPU maps are. */
#ifndef NG911_DATAPLANE_TWIN_H
#define NG911_DATAPLANE_TWIN_H

#include "ng911_dp.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ng911_twin {
  struct ng911_config config;
  struct ng911_stats stats;
  __u32 table[NG911_MAGLEV_SIZE];
  __u32 prior[NG911_MAGLEV_SIZE];   /* the drain's prior table */
  struct ng911_pin pins[NG911_PINS];
  struct ng911_backend backends[NG911_MAX_BACKENDS];
  struct ng911_guard_slot guard[NG911_GUARD_SOURCES];
  struct ng911_scratch scratch;
  __u64 now_ns;       /* the clock the flood guard reads */
};

/* What the control plane writes: the kernel's config, Maglev (and prior) and backends maps. */
struct ng911_tables {
  struct ng911_config config;
  __u32 table[NG911_MAGLEV_SIZE];
  __u32 prior[NG911_MAGLEV_SIZE];
  struct ng911_backend backends[NG911_MAX_BACKENDS];
};

/* One core's own state. Pins too: with one worker lcore that is the kernel's one map; with
 * several, RSS would have to keep a call's messages on one core. */
struct ng911_worker {
  struct ng911_stats stats;
  struct ng911_pin pins[NG911_PINS];
  struct ng911_guard_slot guard[NG911_GUARD_SOURCES];
  struct ng911_scratch scratch;
  __u64 now_ns;       /* the clock the flood guard reads */
};

/* What ng911_process() decided (mirrors struct ng911_result of dp_pipeline.h). */
struct ng911_twin_result {
  __u32 action;   /* 0 pass, 1 drop, 2 tx, 3 redirect */
  __u32 klass;    /* enum ng911_class */
  __u32 ifindex;
  __u32 backend;
  __u64 hash;
};

/* Empty tables (every slot NG911_NO_BACKEND), zero counters, no guard state. */
void ng911_twin_init(struct ng911_twin *twin);
void ng911_tables_init(struct ng911_tables *tables);
void ng911_worker_init(struct ng911_worker *worker);
/* One frame through the pipeline on a core: as ng911_twin_run. */
struct ng911_twin_result ng911_worker_run(const struct ng911_tables *tables, struct ng911_worker *worker, __u8 *frame,
                                          __u32 len, __u32 ingress_ifindex);
/* Runs one frame through the pipeline; rewrites it in place as the XDP program would. */
struct ng911_twin_result ng911_twin_run(struct ng911_twin *twin, __u8 *frame, __u32 len, __u32 ingress_ifindex);
/* The classifier alone, on a SIP payload: the Call-ID hash the XDP program would use (0 and
 * *found = 0 when there is none). For the controller's and the tests' view of the hashing. */
__u64 ng911_twin_call_id_hash(const __u8 *payload, __u32 len, int *found);
/* The classifier alone, its whole result (kind, method, emergency, Call-ID hash). The scratch
 * starts with stale bytes, as the kernel's per-CPU one does. */
void ng911_twin_sip_scan(const __u8 *payload, __u32 len, struct ng911_sip_scan *out);

#ifdef __cplusplus
}
#endif

#endif /* NG911_DATAPLANE_TWIN_H */
