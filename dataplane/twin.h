/* The user-space twin of the XDP program: kernel/dp_pipeline.h compiled for user space, with
 * the maps as plain memory. The tests run the same packets through it and through the kernel
 * and expect the same verdicts and bytes; the DPDK path will run it on its ports. */
#ifndef NG911_DATAPLANE_TWIN_H
#define NG911_DATAPLANE_TWIN_H

#include "ng911_dp.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NG911_TWIN_GUARD_SLOTS 4096u

struct ng911_twin_guard_entry {
  struct ng911_source_key key;
  struct ng911_guard guard;
  __u32 used;
};

struct ng911_twin {
  struct ng911_config config;
  struct ng911_stats stats;
  __u32 table[NG911_MAGLEV_SIZE];
  struct ng911_backend backends[NG911_MAX_BACKENDS];
  struct ng911_twin_guard_entry guard[NG911_TWIN_GUARD_SLOTS];
  __u8 scratch[NG911_SCRATCH_SIZE];
  __u64 now_ns;       /* the clock the flood guard reads */
  const __u8 *packet; /* during ng911_twin_run */
  __u32 packet_len;
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
/* Runs one frame through the pipeline; rewrites it in place as the XDP program would. */
struct ng911_twin_result ng911_twin_run(struct ng911_twin *twin, __u8 *frame, __u32 len, __u32 ingress_ifindex);
/* The classifier alone, on a SIP payload: the Call-ID hash the XDP program would use (0 and
 * *found = 0 when there is none). For the controller's and the tests' view of the hashing. */
__u64 ng911_twin_call_id_hash(const __u8 *payload, __u32 len, int *found);

#ifdef __cplusplus
}
#endif

#endif /* NG911_DATAPLANE_TWIN_H */
