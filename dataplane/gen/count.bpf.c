// SPDX-License-Identifier: GPL-2.0
/* ng911_count: the receiving half of the packet generator, attached to the veth where traffic
 * arrives (a backend's, in the benchmarks). Counts the UDP datagrams to one port (per kind when
 * they carry the generator's tag) and drops them, so that counting costs no socket and no skb;
 * everything else (ARP, the controller's health checks from pass_from) goes on to the stack. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "ng911_pktgen.h"

/* Set by user space before loading. */
const volatile __u16 count_port = 0;     /* network byte order; 0: every UDP port */
const volatile __u32 pass_from = 0;      /* network byte order; 0: none */
const volatile __u32 counted_verdict = XDP_DROP;

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ng911_pktgen_counts);
} ng911_count_map SEC(".maps");

SEC("xdp")
int ng911_count(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP) return XDP_PASS;
  struct udphdr *udp = (void *)ip + ip->ihl * 4;
  if ((void *)(udp + 1) > end) return XDP_PASS;
  if (count_port && udp->dest != count_port) return XDP_PASS;
  if (pass_from && ip->saddr == pass_from) return XDP_PASS;

  __u32 key = 0;
  struct ng911_pktgen_counts *c = bpf_map_lookup_elem(&ng911_count_map, &key);
  if (!c) return XDP_PASS;
  c->packets++;
  c->bytes += end - data;
  __u16 id = bpf_ntohs(ip->id);
  __u32 kind = id & 0xff;
  if ((id & NG911_PKTGEN_TAG_MASK) == NG911_PKTGEN_TAG && kind < NG911_PKTGEN_KINDS) c->kinds[kind]++;
  return counted_verdict;
}

char LICENSE[] SEC("license") = "GPL";
