/* What the packet generator's two BPF programs and user space share: the per-CPU rewrite
 * parameters of the sender (pktgen.bpf.c) and the counters of the receiver (count.bpf.c).
 * Plain C, fixed-size types, so the layout is the same for clang -target bpf and for g++. */
#ifndef NG911_PKTGEN_H
#define NG911_PKTGEN_H

#include <linux/types.h>

/* The kinds of traffic in a mix. A generated IPv4 frame carries its kind in the IP
 * identification field (NG911_PKTGEN_TAG | kind), so a receiver can tally what arrived per
 * kind without parsing SIP; forwarders that build new packets (Kamailio, nginx) lose the tag. */
enum ng911_pktgen_kind {
  NG911_PKTGEN_EMERGENCY_INVITE = 0, /* INVITE urn:service:sos with SDP and PIDF-LO (~1 KB) */
  NG911_PKTGEN_REGISTER,
  NG911_PKTGEN_OPTIONS,
  NG911_PKTGEN_RESPONSE,              /* 200 OK to an INVITE */
  NG911_PKTGEN_FLOOD_INVITE,          /* INVITE urn:service:sos with SDP only, from a few sources */
  NG911_PKTGEN_GARBAGE,               /* bytes on the SIP port that are not SIP */
  NG911_PKTGEN_KINDS
};
#define NG911_PKTGEN_TAG 0x4e00u
#define NG911_PKTGEN_TAG_MASK 0xff00u

/* Ethernet (untagged) + IPv4 (no options) + UDP: restored from the template before each
 * rewrite, because a live-frames page comes back from the peer as the peer left it (the XDP
 * node rewrites addresses in place) and the kernel does not copy the template in again. */
#define NG911_PKTGEN_HEADER_LEN 42u
#define NG911_PKTGEN_L3 14u
#define NG911_PKTGEN_L4 34u
/* The number in a Call-ID: 16 hex digits, least significant first, so that the first 8 (which
 * the Via branch repeats) change with every packet. */
#define NG911_PKTGEN_DIGITS 16u
#define NG911_PKTGEN_BRANCH_DIGITS 8u
#define NG911_PKTGEN_MAX_AT 1400u
#define NG911_PKTGEN_MAX_CPUS 256u

/* One per CPU (an array map indexed by CPU number): the sending thread pinned to that CPU
 * writes it before each BPF_PROG_RUN and the program advances seq once per packet. */
struct ng911_pktgen_params {
  __u8 header[48];        /* the template's first NG911_PKTGEN_HEADER_LEN bytes */
  __u32 call_id_at;       /* frame offset of the Call-ID's 16 digits; 0: nothing to rewrite */
  __u32 branch_at;        /* frame offset of the Via branch's 8 digits; 0: none */
  __u32 sources;          /* >1: IPv4 source = template's + number % sources */
  __u32 pad;
  __u64 number;           /* this packet's number; the program adds one per packet */
};

/* The receiver's per-CPU counters. */
struct ng911_pktgen_counts {
  __u64 packets;                      /* UDP datagrams to the counted port */
  __u64 bytes;                        /* their frame bytes */
  __u64 kinds[NG911_PKTGEN_KINDS];    /* those carrying a generator tag, by kind */
};

#endif /* NG911_PKTGEN_H */
