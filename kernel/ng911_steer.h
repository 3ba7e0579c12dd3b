/* What the Call-ID steering program (kernel/ng911_steer.bpf.c) and its loader
 * (dataplane/steer.h) share. An ESRP with several event loops binds one UDP socket per loop to
 * the same port (SO_REUSEPORT); the program puts every datagram of a call on the same loop by
 * hashing its Call-ID with the dataplane's classifier (kernel/dp_sip.h), so that a call's
 * transactions, dialog and log stay with one loop whichever address its messages come from.
 * Plain C, fixed-size types only. */
#ifndef NG911_STEER_H
#define NG911_STEER_H

#include <linux/types.h>

#define NG911_STEER_MAX_LOOPS 64u

/* What the program did with a datagram (per-CPU counters, one map value). */
enum ng911_steer_outcome {
  NG911_STEER_CALL_ID = 0,   /* SIP with a Call-ID: to the loop of its hash */
  NG911_STEER_NO_CALL_ID,    /* not SIP, or no Call-ID in the window: the kernel's 4-tuple hash */
  NG911_STEER_NO_SOCKET,     /* the loop's socket is not (or no longer) in the map: the kernel's hash */
  NG911_STEER_NOT_UDP,       /* TCP connections are spread by the kernel (a stream holds many calls) */
  NG911_STEER_COUNT
};

struct ng911_steer_stats {
  __u64 datagrams[NG911_STEER_COUNT];
};

struct ng911_steer_config {
  __u32 loops; /* sockets in the group, 1..NG911_STEER_MAX_LOOPS; 0: leave every datagram to the kernel */
};

/* The loop of a Call-ID's hash (dp_sip.h's call_id_hash): the same on both sides. The high half
 * of the hash, as Maglev uses the low bits and the two should not correlate. */
static inline __u32 ng911_steer_loop(__u64 call_id_hash, __u32 loops) {
  return loops ? (__u32)((call_id_hash >> 32) % loops) : 0;
}

#endif /* NG911_STEER_H */
