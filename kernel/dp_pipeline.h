/* The packet path, shared by the XDP program and its user-space twin: Ethernet (up to two
 * VLAN tags), IPv4/IPv6, UDP/TCP, the SIP classifier, the flood guard, the Maglev lookup and
 * the forwarding rewrite. Plain C over packet pointers checked against data_end, as the
 * verifier wants them.
 *
 * The includer defines `struct ng911_env` and these, before including this header:
 *   const struct ng911_config *ng911_env_config(struct ng911_env *);
 *   struct ng911_stats *ng911_env_stats(struct ng911_env *);
 *   struct ng911_scratch *ng911_env_scratch(struct ng911_env *);  the classifier's (per CPU)
 *   int ng911_env_window(struct ng911_env *, struct ng911_scratch *, const __u8 *payload, __u32 off, __u32 len);
 *       the UDP payload's first len bytes (at off in the frame) are the scan's window; 0 on success
 *   const __u8 *ng911_env_view(struct ng911_env *, struct ng911_scratch *, __u64 pos);
 *       the window's bytes from pos, NG911_VIEW_SPAN of them readable at constant offsets, those
 *       past len reading as zero (in the packet, or ng911_sip_scratch_view); 0 on failure
 *   void ng911_env_scan(struct ng911_sip_walk *);                 runs ng911_sip_step to the end
 *   struct ng911_guard_slot *ng911_env_guard(struct ng911_env *, __u32 slot);   slot < NG911_GUARD_SOURCES
 *   __u32 ng911_env_slot(struct ng911_env *, __u32 slot);         backend index or NG911_NO_BACKEND
 *   __u32 ng911_env_prior(struct ng911_env *, __u32 slot);        the same in the prior table (drains)
 *   struct ng911_pin *ng911_env_pin(struct ng911_env *, __u32 index);   index < NG911_PINS
 *   const struct ng911_backend *ng911_env_backend(struct ng911_env *, __u32 index);
 *   __u64 ng911_env_now(struct ng911_env *);                      nanoseconds; asked only by the guard
 */
#ifndef NG911_DP_PIPELINE_H
#define NG911_DP_PIPELINE_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "dp_sip.h"
#include "ng911_dp.h"

enum ng911_action { NG911_PASS = 0, NG911_DROP, NG911_TX, NG911_REDIRECT };

struct ng911_result {
  __u32 action;   /* enum ng911_action */
  __u32 klass;    /* enum ng911_class */
  __u32 ifindex;  /* for NG911_REDIRECT */
  __u32 backend;  /* index, or NG911_NO_BACKEND */
  __u64 hash;     /* what Maglev was asked about */
};

#define NG911_BE16(x) ((__u16)__builtin_bswap16((__u16)(x)))
#define NG911_ETH_P_8021Q 0x8100
#define NG911_ETH_P_8021AD 0x88a8
#define NG911_IP_MF 0x2000
#define NG911_IP_OFFSET 0x1fff
#define NG911_IPV6_FRAG 44

/* 16-byte compare without memcmp, which BPF has no library for. */
static inline int ng911_same16(const void *a, const void *b) {
  const __u8 *x = (const __u8 *)a, *y = (const __u8 *)b;
  return ng911_load64(x) == ng911_load64(y) && ng911_load64(x + 8) == ng911_load64(y + 8);
}

static inline void ng911_copy16(void *to, const void *from) {
  __u8 *t = (__u8 *)to;
  const __u8 *f = (const __u8 *)from;
  ng911_store64(t, ng911_load64(f));
  ng911_store64(t + 8, ng911_load64(f + 8));
}

static inline void ng911_copy_mac(void *to, const void *from) {
  __u8 *t = (__u8 *)to;
  const __u8 *f = (const __u8 *)from;
  ng911_store32(t, ng911_load32(f));
  ng911_store16(t + 4, ng911_load16(f + 4));
}

/* RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), over `words` 16-bit words that change from `from`
 * to `to`. Byte order does not matter to the one's complement sum as long as all words are
 * taken as they lie in memory. */
static inline __u16 ng911_csum_replace(__u16 csum, const __u8 *from, const __u8 *to, int words) {
  __u32 sum = (__u16)~csum;
NG911_UNROLL
  for (int i = 0; i < 8; i++) {
    if (i >= words) break;
    sum += (__u16)~ng911_load16(from + 2 * i);
    sum += ng911_load16(to + 2 * i);
  }
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (__u16)~sum;
}

static inline void ng911_count(struct ng911_stats *stats, __u32 klass, int outcome) {
  if (klass < NG911_CLASS_COUNT) stats->packets[klass]++;
  if (outcome >= 0 && outcome < NG911_OUT_COUNT) stats->packets[NG911_OUTCOME(outcome)]++;
}

/* Refills a bucket by `elapsed` and takes one message's cost from it; 0 when it is empty. */
static inline int ng911_bucket_take(__u64 *credit, __u64 elapsed, const struct ng911_bucket_config *b, int take) {
  __u64 c = *credit + elapsed;
  if (c > b->depth_ns) c = b->depth_ns;
  *credit = c;
  if (!take) return 1;
  if (c < b->cost_ns) return 0;
  *credit = c - b->cost_ns;
  return 1;
}

/* The flood guard for one request from `key`: returns the drop outcome, or -1 to let it on.
 * Emergency requests draw only on the INVITE bucket, so a source that floods REGISTERs still
 * places its emergency calls; only a source whose own INVITE rate exceeds its budget loses them.
 *
 * Sources are kept in a direct-mapped table indexed by a hash of the address: one array
 * lookup instead of a hash map's walk and, for a new source, its insert. A source that finds
 * its slot held by another starts with full buckets and takes the slot over, so a collision
 * only ever makes the guard more lenient, as the LRU map's evictions under a spoofed flood did.
 * Concurrent CPUs may race on one slot likewise. */
static inline int ng911_guard_check(struct ng911_env *env, const struct ng911_config *cfg,
                                    const struct ng911_source_key *key, __u32 klass) {
  __u64 h = ng911_mix(ng911_mix(0, ng911_load64(key->addr)), ng911_load64(key->addr + 8));
  /* ng911_mix leaves the slot bits nearly blind to the address's last octet (sources a.b.c.100
   * to .103 shared a slot, took it over from each other at every packet with full buckets, and
   * were never dropped): MurmurHash3's 64-bit finaliser spreads every input bit first. */
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  struct ng911_guard_slot *slot = ng911_env_guard(env, (__u32)h & (NG911_GUARD_SOURCES - 1));
  if (!slot) return -1;
  __u64 now = ng911_env_now(env);
  struct ng911_guard *g = &slot->guard;
  if (!ng911_same16(slot->key.addr, key->addr)) {
    ng911_copy16(slot->key.addr, key->addr);
    g->last_ns = now;
    g->request_credit_ns = cfg->request.depth_ns;
    g->invite_credit_ns = cfg->invite.depth_ns;
  }
  __u64 elapsed = now > g->last_ns ? now - g->last_ns : 0;
  __u64 request = g->request_credit_ns, invite = g->invite_credit_ns;
  int emergency = klass == NG911_CLASS_EMERGENCY_INVITE || klass == NG911_CLASS_EMERGENCY_REQUEST;
  int wants_invite = emergency || klass == NG911_CLASS_INVITE;
  int outcome = -1;
  if (!ng911_bucket_take(&invite, elapsed, &cfg->invite, wants_invite)) outcome = NG911_OUT_DROP_INVITE_FLOOD;
  if (!ng911_bucket_take(&request, elapsed, &cfg->request, !emergency && outcome < 0))
    outcome = NG911_OUT_DROP_REQUEST_FLOOD;
  if (outcome >= 0 && wants_invite && outcome == NG911_OUT_DROP_REQUEST_FLOOD) invite += cfg->invite.cost_ns; /* refund */
  g->last_ns = now;
  g->request_credit_ns = request;
  g->invite_credit_ns = invite;
  return outcome;
}

/* Addresses and ports for the 5-tuple hash and the rewrite. */
struct ng911_l3 {
  __u8 *ip;        /* the IP header */
  __u8 *l4;        /* the transport header, or 0 for a non-first fragment */
  __u32 v6;
  __u32 proto;     /* IPPROTO_UDP / IPPROTO_TCP */
  __u32 fragment;
};

static inline __u64 ng911_tuple_hash(const struct ng911_l3 *l3, __u8 *data_end) {
  __u64 h = 0;
  if (l3->v6) {
    struct ipv6hdr *ip6 = (struct ipv6hdr *)l3->ip;
    const __u8 *a = (const __u8 *)&ip6->saddr; /* then daddr */
    h = ng911_mix(ng911_mix(ng911_mix(ng911_mix(h, ng911_load64(a)), ng911_load64(a + 8)), ng911_load64(a + 16)),
                  ng911_load64(a + 24));
  } else {
    struct iphdr *ip4 = (struct iphdr *)l3->ip;
    h = ng911_mix(h, (__u64)ip4->saddr << 32 | ip4->daddr);
  }
  __u64 ports = 0;
  /* Fragments after the first carry no ports: every fragment hashes on addresses alone, so all
   * of a datagram's fragments reach the same backend. */
  if (!l3->fragment && l3->l4 && l3->l4 + 4 <= data_end) ports = (__u64)ng911_load16(l3->l4) << 16 | ng911_load16(l3->l4 + 2);
  return ng911_fmix64(ng911_mix(h, ports << 8 | l3->proto));
}

/* Points the packet at the backend: MACs, destination address, destination port, with the IP
 * and transport checksums updated incrementally. 0 when the backend lacks the family. */
static inline int ng911_rewrite(__u8 *data, __u8 *data_end, const struct ng911_l3 *l3, const struct ng911_backend *b) {
  __u8 *check = 0;   /* the transport checksum, when this packet carries one */
  __u8 *dport = 0;
  if (l3->l4) {
    if (l3->proto == IPPROTO_UDP && l3->l4 + sizeof(struct udphdr) <= data_end) {
      check = l3->l4 + 6;
      dport = l3->l4 + 2;
    } else if (l3->proto == IPPROTO_TCP && l3->l4 + sizeof(struct tcphdr) <= data_end) {
      check = l3->l4 + 16;
      dport = l3->l4 + 2;
    }
  }
  /* IPv4 UDP may go without a checksum (zero); it stays without one. */
  int udp_unchecked = check && l3->proto == IPPROTO_UDP && !l3->v6 && ng911_load16(check) == 0;
  if (l3->v6) {
    if (!(b->flags & NG911_BACKEND_IP6)) return 0;
    struct ipv6hdr *ip6 = (struct ipv6hdr *)l3->ip;
    if (check) ng911_store16(check, ng911_csum_replace(ng911_load16(check), (__u8 *)&ip6->daddr, b->ip6, 8));
    ng911_copy16(&ip6->daddr, b->ip6);
  } else {
    if (!(b->flags & NG911_BACKEND_IP4)) return 0;
    struct iphdr *ip4 = (struct iphdr *)l3->ip;
    __u16 ipsum = ng911_csum_replace(ip4->check, (__u8 *)&ip4->daddr, (const __u8 *)&b->ip4, 2);
    if (check && !udp_unchecked) ng911_store16(check, ng911_csum_replace(ng911_load16(check), (__u8 *)&ip4->daddr, (const __u8 *)&b->ip4, 2));
    ip4->check = ipsum;
    ip4->daddr = b->ip4;
  }
  if (dport && b->port && !udp_unchecked)
    ng911_store16(check, ng911_csum_replace(ng911_load16(check), dport, (const __u8 *)&b->port, 1));
  if (dport && b->port) ng911_store16(dport, b->port);
  /* RFC 768: a computed UDP checksum of zero is sent as all ones. */
  if (check && l3->proto == IPPROTO_UDP && !udp_unchecked && ng911_load16(check) == 0) ng911_store16(check, 0xffff);
  struct ethhdr *eth = (struct ethhdr *)data;
  ng911_copy_mac(eth->h_dest, b->mac);
  ng911_copy_mac(eth->h_source, b->src_mac);
  return 1;
}

/* The Maglev slot of a hash: the top 32 bits scaled onto the table (Lemire's multiply-shift
 * range reduction), as even as a modulo for a well-mixed hash and without the 64-bit division
 * BPF would otherwise run per packet (tens of cycles). */
static inline __u32 ng911_maglev_slot(__u64 hash) { return (__u32)(((hash >> 32) * NG911_MAGLEV_SIZE) >> 32); }

static inline int ng911_is_sip_port(const struct ng911_config *cfg, __u16 port) {
  return port && (port == cfg->sip_ports[0] || port == cfg->sip_ports[1] || port == cfg->sip_ports[2] ||
                  port == cfg->sip_ports[3]);
}

static inline __u32 ng911_class_of(const struct ng911_sip_scan *s) {
  switch (s->kind) {
    case NG911_SIP_REQUEST:
      if (s->is_invite) return s->emergency ? NG911_CLASS_EMERGENCY_INVITE : NG911_CLASS_INVITE;
      return s->emergency ? NG911_CLASS_EMERGENCY_REQUEST : NG911_CLASS_REQUEST;
    case NG911_SIP_RESPONSE: return NG911_CLASS_RESPONSE;
    case NG911_SIP_KEEPALIVE: return NG911_CLASS_KEEPALIVE;
    default: return NG911_CLASS_MALFORMED;
  }
}

/* During a drain (NG911_CFG_DRAINING), where a message goes whose slot names `current` now.
 * A slot the drain did not move: there. A moved slot (its backend drains, or Maglev's few
 * collateral moves): a call pinned there since the drain began goes to its pin; a request that
 * begins a call (no To tag; not ACK or CANCEL) goes to `current` and is pinned; every other
 * message belongs to a call in progress and goes where the prior table says. So calls in
 * progress finish on the backend they began on, and only calls begun on moved slots take room
 * in the pins. A pin whose backend has gone (entry cleared) no longer counts. */
static inline __u32 ng911_drain_route(struct ng911_env *env, const struct ng911_config *cfg, struct ng911_stats *stats,
                                      __u64 hash, __u32 slot, __u32 current, int begins_call) {
  __u32 prior = ng911_env_prior(env, slot);
  if (prior == current || prior == NG911_NO_BACKEND) return current;
  struct ng911_pin *pin = ng911_env_pin(env, (__u32)hash & (NG911_PINS - 1));
  if (!pin) return current;
  if (pin->hash == hash && pin->epoch == cfg->drain_epoch && pin->backend != NG911_NO_BACKEND) {
    const struct ng911_backend *b = ng911_env_backend(env, pin->backend);
    if (b && b->flags) {
      ng911_count(stats, NG911_CLASS_COUNT, NG911_OUT_DRAIN_PINNED);
      return pin->backend;
    }
  }
  if (begins_call) {
    pin->hash = hash;
    pin->backend = current;
    pin->epoch = cfg->drain_epoch;
    ng911_count(stats, NG911_CLASS_COUNT, NG911_OUT_DRAIN_PINNED);
    return current;
  }
  ng911_count(stats, NG911_CLASS_COUNT, NG911_OUT_DRAIN_KEPT);
  return prior;
}

/* One packet through the path. */
static inline struct ng911_result ng911_process(struct ng911_env *env, __u8 *data, __u8 *data_end,
                                                __u32 ingress_ifindex) {
  struct ng911_result r = {NG911_PASS, NG911_CLASS_NON_SIP, 0, NG911_NO_BACKEND, 0};
  const struct ng911_config *cfg = ng911_env_config(env);
  struct ng911_stats *stats = ng911_env_stats(env);
  if (!cfg || !stats) return r;

  struct ethhdr *eth = (struct ethhdr *)data;
  if (data + sizeof(*eth) > data_end) goto not_ours;
  __u16 proto = eth->h_proto;
  __u8 *cursor = data + sizeof(*eth);
NG911_UNROLL
  for (int i = 0; i < 2; i++) {
    if (proto != NG911_BE16(NG911_ETH_P_8021Q) && proto != NG911_BE16(NG911_ETH_P_8021AD)) break;
    if (cursor + 4 > data_end) goto not_ours;
    proto = ng911_load16(cursor + 2);
    cursor += 4;
  }

  struct ng911_l3 l3 = {cursor, 0, 0, 0, 0};
  int begins_call = 0; /* a request that begins a call (drains) */
  struct ng911_source_key source = {{0}};
  if (proto == NG911_BE16(ETH_P_IP)) {
    struct iphdr *ip4 = (struct iphdr *)cursor;
    if (cursor + sizeof(*ip4) > data_end || ip4->ihl < 5) goto not_ours;
    if ((cfg->flags & NG911_CFG_VIP4) && ip4->daddr != cfg->vip4) goto not_ours;
    l3.proto = ip4->protocol;
    if (l3.proto != IPPROTO_UDP && l3.proto != IPPROTO_TCP) goto not_ours;
    __u16 frag = NG911_BE16(ip4->frag_off);
    l3.fragment = (frag & (NG911_IP_MF | NG911_IP_OFFSET)) != 0;
    if (!(frag & NG911_IP_OFFSET)) l3.l4 = cursor + ip4->ihl * 4;
    source.addr[10] = 0xff;
    source.addr[11] = 0xff;
    ng911_store32(&source.addr[12], ip4->saddr);
  } else if (proto == NG911_BE16(ETH_P_IPV6)) {
    struct ipv6hdr *ip6 = (struct ipv6hdr *)cursor;
    if (cursor + sizeof(*ip6) > data_end) goto not_ours;
    if ((cfg->flags & NG911_CFG_VIP6) && !ng911_same16((const __u8 *)&ip6->daddr, cfg->vip6)) goto not_ours;
    l3.v6 = 1;
    l3.proto = ip6->nexthdr;
    __u8 *l4 = cursor + sizeof(*ip6);
    if (l3.proto == NG911_IPV6_FRAG) {
      if (l4 + 8 > data_end) goto not_ours;
      l3.proto = l4[0];
      l3.fragment = 1;
      __u16 off = NG911_BE16(ng911_load16(l4 + 2));
      l4 = (off & 0xfff8) ? 0 : l4 + 8;
    }
    /* Other extension headers are not followed: such packets go to the stack. */
    if (l3.proto != IPPROTO_UDP && l3.proto != IPPROTO_TCP) goto not_ours;
    l3.l4 = l4;
    ng911_copy16(source.addr, &ip6->saddr);
  } else {
    goto not_ours;
  }

  if (l3.fragment) {
    /* Without a configured address every fragment on the wire would look like ours. */
    if (!(cfg->flags & (l3.v6 ? NG911_CFG_VIP6 : NG911_CFG_VIP4))) goto not_ours;
    r.klass = NG911_CLASS_FRAGMENT;
    r.hash = ng911_tuple_hash(&l3, data_end);
  } else if (l3.proto == IPPROTO_TCP) {
    struct tcphdr *tcp = (struct tcphdr *)l3.l4;
    if (!tcp || l3.l4 + sizeof(*tcp) > data_end || !ng911_is_sip_port(cfg, tcp->dest)) goto not_ours;
    r.klass = NG911_CLASS_TCP;
    r.hash = ng911_tuple_hash(&l3, data_end);
  } else {
    struct udphdr *udp = (struct udphdr *)l3.l4;
    if (!udp || l3.l4 + sizeof(*udp) > data_end || !ng911_is_sip_port(cfg, udp->dest)) goto not_ours;
    __u8 *payload = l3.l4 + sizeof(*udp);
    __u32 avail = (__u32)(data_end - payload);
    __u32 udp_len = NG911_BE16(udp->len);
    __u32 len = udp_len >= sizeof(*udp) ? udp_len - (__u32)sizeof(*udp) : 0;
    /* A datagram longer than what arrived was cut short: the stack would drop it too. */
    int truncated = len > avail;
    if (len > NG911_SIP_WINDOW) len = NG911_SIP_WINDOW;
    struct ng911_scratch *sc = ng911_env_scratch(env);
    if (!sc) goto not_ours;
    struct ng911_sip_scan *scan = &sc->scan;
    if (truncated || len == 0 || ng911_env_window(env, sc, payload, (__u32)(payload - data), len) != 0) {
      ng911_sip_reset(sc, 0);
      scan->kind = NG911_SIP_MALFORMED;
    } else {
      ng911_sip_reset(sc, len);
      ng911_sip_start(env, sc);
      if ((cfg->flags & NG911_CFG_DRAINING) && scan->kind == NG911_SIP_REQUEST) scan->want_to = 1;
      if (scan->kind == NG911_SIP_REQUEST || scan->kind == NG911_SIP_RESPONSE) {
        struct ng911_sip_walk walk = {env, sc};
        ng911_env_scan(&walk);
      }
    }
    r.klass = ng911_class_of(scan);
    if (r.klass == NG911_CLASS_MALFORMED) {
      r.action = NG911_DROP;
      ng911_count(stats, r.klass, NG911_OUT_DROP_MALFORMED);
      return r;
    }
    if ((cfg->flags & NG911_CFG_GUARD) && scan->kind == NG911_SIP_REQUEST) {
      int drop = ng911_guard_check(env, cfg, &source, r.klass);
      if (drop >= 0) {
        r.action = NG911_DROP;
        ng911_count(stats, r.klass, drop);
        return r;
      }
    }
    begins_call = scan->kind == NG911_SIP_REQUEST && scan->to_seen && !scan->to_tag && !scan->ack_or_cancel;
    if (scan->has_call_id) {
      r.hash = scan->call_id_hash;
    } else {
      r.hash = ng911_tuple_hash(&l3, data_end);
      if (r.klass != NG911_CLASS_KEEPALIVE) ng911_count(stats, NG911_CLASS_COUNT, NG911_OUT_CALLID_FALLBACK);
    }
  }

  __u32 slot = ng911_maglev_slot(r.hash);
  r.backend = ng911_env_slot(env, slot);
  if ((cfg->flags & NG911_CFG_DRAINING) && r.backend != NG911_NO_BACKEND)
    r.backend = ng911_drain_route(env, cfg, stats, r.hash, slot, r.backend, begins_call);
  const struct ng911_backend *b = r.backend == NG911_NO_BACKEND ? 0 : ng911_env_backend(env, r.backend);
  if (!b) {
    r.backend = NG911_NO_BACKEND;
    ng911_count(stats, r.klass, NG911_OUT_PASS_NO_BACKEND);
    return r;
  }
  if (!ng911_rewrite(data, data_end, &l3, b)) {
    ng911_count(stats, r.klass, NG911_OUT_PASS_FAMILY);
    return r;
  }
  if (b->ifindex == 0 || b->ifindex == ingress_ifindex) {
    r.action = NG911_TX;
    ng911_count(stats, r.klass, NG911_OUT_TX);
  } else {
    r.action = NG911_REDIRECT;
    r.ifindex = b->ifindex;
    ng911_count(stats, r.klass, NG911_OUT_REDIRECT);
  }
  return r;

not_ours:
  ng911_count(stats, NG911_CLASS_NON_SIP, -1);
  return r;
}

#endif /* NG911_DP_PIPELINE_H */
