/* The one definition of what the XDP program and user space share: map layouts, counters,
 * classes, configuration. Included by the BPF program (kernel/ng911_xdp.bpf.c), by the
 * user-space twin of the pipeline (dataplane/twin.c) and by the controller (C++). Plain C,
 * fixed-size types only, so the layout is the same for clang -target bpf and for g++. */
#ifndef NG911_DP_H
#define NG911_DP_H

#include <linux/types.h>

/* Maglev lookup table size: a prime well above 100 x the most backends (Eisenbud et al.,
 * NSDI 2016, §3.4), so that each backend's share stays within about 1% of its weight. */
#define NG911_MAGLEV_SIZE 65537u
#define NG911_MAX_BACKENDS 256u
#define NG911_NO_BACKEND 0xffffffffu
#define NG911_MAX_SIP_PORTS 4
#define NG911_GUARD_SOURCES 65536u /* slots of the flood guard's table: a power of two */
/* SIP bytes looked at per datagram: a full Ethernet MTU's UDP payload. Header fields past it
 * (a Call-ID behind a very long Via stack) are not seen; such packets hash on the 5-tuple. */
#define NG911_SIP_WINDOW 1472u
/* Scratch buffer for the scan: a power of two (indices are masked for the verifier) with room
 * past the last masked index for a view's constant offsets (64 bytes) and the zeroed tail. */
#define NG911_SCRATCH_MASK 2047u
#define NG911_SCRATCH_SIZE (NG911_SCRATCH_MASK + 1u + 128u)
/* Bytes after the window that read as zero during a scan (zeroed per packet). */
#define NG911_SCAN_TAIL 80u

/* What a packet is. */
enum ng911_class {
  NG911_CLASS_NON_SIP = 0,           /* not for us: to the stack untouched */
  NG911_CLASS_EMERGENCY_INVITE,      /* INVITE to urn:service:sos[.*] */
  NG911_CLASS_INVITE,                /* any other INVITE */
  NG911_CLASS_EMERGENCY_REQUEST,     /* another method to urn:service:sos[.*] (MESSAGE: text to 9-1-1) */
  NG911_CLASS_REQUEST,               /* any other request */
  NG911_CLASS_RESPONSE,
  NG911_CLASS_KEEPALIVE,             /* CRLF or STUN keep-alive on a SIP port (RFC 5626) */
  NG911_CLASS_MALFORMED,             /* on a SIP port but not SIP: no start line, no Call-ID, ... */
  NG911_CLASS_TCP,                   /* SIP over TCP: a byte stream, hashed on the 5-tuple */
  NG911_CLASS_FRAGMENT,              /* IP fragment to a SIP address: hashed on addresses */
  NG911_CLASS_COUNT
};

/* What became of it. */
enum ng911_outcome {
  NG911_OUT_TX = 0,                  /* forwarded back out of the interface it came in on */
  NG911_OUT_REDIRECT,                /* forwarded out of another interface (devmap) */
  NG911_OUT_PASS_NO_BACKEND,         /* SIP, but no backend in the table: to the stack */
  NG911_OUT_PASS_FAMILY,             /* the chosen backend has no address of the packet's family */
  NG911_OUT_DROP_REQUEST_FLOOD,      /* the source's non-emergency request bucket was empty */
  NG911_OUT_DROP_INVITE_FLOOD,       /* the source's INVITE bucket was empty */
  NG911_OUT_DROP_MALFORMED,
  NG911_OUT_CALLID_FALLBACK,         /* SIP without a Call-ID inside the window: 5-tuple hash (not a verdict) */
  NG911_OUT_DRAIN_KEPT,              /* during a drain: a call in progress kept on its backend (not a verdict) */
  NG911_OUT_DRAIN_PINNED,            /* during a drain: a call begun on a slot that moved, pinned (not a verdict) */
  NG911_OUT_COUNT
};

#define NG911_COUNTERS ((int)NG911_CLASS_COUNT + (int)NG911_OUT_COUNT)
/* Where an outcome's counter sits in ng911_stats.packets. */
#define NG911_OUTCOME(o) ((int)NG911_CLASS_COUNT + (int)(o))

/* Per-CPU counters: one map value, so a packet costs one lookup. */
struct ng911_stats {
  __u64 packets[NG911_COUNTERS]; /* [class] then [NG911_CLASS_COUNT + outcome] */
};

/* Flags in ng911_config.flags. */
#define NG911_CFG_GUARD 0x1u   /* the flood guard is on */
#define NG911_CFG_VIP4 0x2u    /* only IPv4 packets to vip4 are ours */
#define NG911_CFG_VIP6 0x4u    /* only IPv6 packets to vip6 are ours */
#define NG911_CFG_DRAINING 0x8u /* a backend drains: calls in progress keep the prior table's backend */

/* Token buckets hold credit in nanoseconds: a message costs cost_ns (1e9 / rate) and the
 * bucket holds at most depth_ns (burst x cost), so refill is a subtraction, not a division. */
struct ng911_bucket_config {
  __u64 cost_ns;
  __u64 depth_ns;
};

struct ng911_config {
  __u32 flags;
  __u16 sip_ports[NG911_MAX_SIP_PORTS]; /* network byte order; 0: unused */
  __u32 vip4;                           /* network byte order */
  __u8 vip6[16];
  struct ng911_bucket_config request;   /* non-emergency requests, per source */
  struct ng911_bucket_config invite;    /* INVITEs (and emergency requests), per source */
  __u32 drain_epoch;                    /* pins of other epochs are stale (a new drain began) */
  __u32 pad;
};

/* Drains keep calls on their backend without a table of every call: the prior table (the
 * Maglev table as it was when the drain began, less backends that died since) says where calls
 * in progress go; a call that begins during the drain on a slot whose backend moved is pinned
 * in a direct-mapped table indexed by its hash (dp_pipeline.h). */
#define NG911_PINS 65536u /* a power of two */
struct ng911_pin {
  __u64 hash;    /* the call's (Call-ID) hash */
  __u32 backend; /* where its messages go */
  __u32 epoch;   /* ng911_config.drain_epoch when pinned */
};

#define NG911_BACKEND_IP4 0x1u
#define NG911_BACKEND_IP6 0x2u

struct ng911_backend {
  __u8 mac[6];       /* the backend's (or its next hop's) MAC */
  __u8 src_mac[6];   /* the MAC of the interface the packet leaves by */
  __u32 ifindex;     /* that interface; the same as the ingress one: XDP_TX, else redirect */
  __u32 flags;       /* NG911_BACKEND_* */
  __u32 ip4;         /* network byte order */
  __u8 ip6[16];
  __u16 port;        /* network byte order; 0: keep the packet's destination port */
  __u16 pad;
};

/* Per-source flood guard state (IPv4 sources as v4-mapped IPv6 addresses). */
struct ng911_source_key {
  __u8 addr[16];
};

struct ng911_guard {
  __u64 last_ns;
  __u64 request_credit_ns;
  __u64 invite_credit_ns;
};

/* One slot of the guard's direct-mapped table: the source that holds it and its buckets. */
struct ng911_guard_slot {
  struct ng911_source_key key;
  struct ng911_guard guard;
};

/* The SIP classifier's per-CPU scratch (kernel/dp_sip.h): the scan's state, then room for the
 * first NG911_SIP_WINDOW bytes of the datagram (copied there when the scan nears the window's
 * end in the kernel, always in user space). The state sits in the map value rather than on the
 * BPF stack so that the verifier reads it back as unknown numbers at every step of the scan
 * and checks a step once. Positions are 64-bit: BPF would zero-extend every 32-bit one. */
struct ng911_sip_scan {
  __u64 len;             /* valid bytes in the window */
  __u64 pos;             /* where the next step starts */
  __u64 value_len;       /* Call-ID bytes hashed so far */
  __u64 call_id_hash;
  __u32 phase;           /* enum ng911_scan_phase (dp_sip.h) */
  __u32 first_line;      /* 1 until the start line's end is seen */
  __u32 kind;            /* enum ng911_sip_kind (dp_sip.h) */
  __u32 is_invite;
  __u32 emergency;       /* Request-URI is urn:service:sos or a sub-service */
  __u32 has_call_id;     /* call_id_hash is set */
  __u32 tail_zeroed;     /* the bytes after the window read as zero */
  __u32 want_to;         /* look at the To header too (drains): set before the scan */
  __u32 to_seen;         /* the To header's line was read */
  __u32 to_tag;          /* it carries ";tag=": the request is inside a dialog */
  __u32 ack_or_cancel;   /* ACK or CANCEL: never begins a call */
  __u32 pad;
};

struct ng911_scratch {
  struct ng911_sip_scan scan;
  __u8 bytes[NG911_SCRATCH_SIZE];
};

#endif /* NG911_DP_H */
