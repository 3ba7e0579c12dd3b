// SPDX-License-Identifier: GPL-2.0
/* ng911_pktgen: the sending half of the packet generator. User space runs it with
 * BPF_PROG_RUN in live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES): the kernel builds each frame
 * from one template and sends whatever this program returns XDP_TX for out of the ingress
 * interface. Per packet it gives the template a number: 16 hex digits in the Call-ID (and the
 * first 8 in the Via branch), and optionally one of a few source addresses, with the IPv4 and
 * UDP checksums updated incrementally (RFC 1624) from the template's. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "ng911_pktgen.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, NG911_PKTGEN_MAX_CPUS);
  __type(key, __u32);
  __type(value, struct ng911_pktgen_params);
} ng911_pktgen_params_map SEC(".maps");

/* A byte's share of a 16-bit ones' complement word: high at even offsets from the UDP header
 * (which starts at an even frame offset), low at odd ones. */
static __always_inline __u32 share(__u32 byte, __u32 at) { return (at & 1) ? byte : byte << 8; }

/* RFC 1624 eqn. 3: the sum carries ~HC; each change adds ~m + m'. */
static __always_inline __u32 change(__u32 sum, __u32 old_word, __u32 new_word) {
  return sum + (~old_word & 0xffff) + (new_word & 0xffff);
}

static __always_inline __u16 fold(__u32 sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (__u16)sum;
}

static __always_inline __u8 hex_digit(__u64 number, __u32 i) {
  __u8 n = (number >> (4 * i)) & 0xf;
  return n < 10 ? '0' + n : 'a' + n - 10;
}

SEC("xdp")
int ng911_pktgen(struct xdp_md *ctx) {
  __u32 cpu = bpf_get_smp_processor_id();
  struct ng911_pktgen_params *p = bpf_map_lookup_elem(&ng911_pktgen_params_map, &cpu);
  if (!p) return XDP_ABORTED;
  __u8 *data = (__u8 *)(long)ctx->data, *end = (__u8 *)(long)ctx->data_end;
  if (data + NG911_PKTGEN_HEADER_LEN > end) return XDP_ABORTED;
  __builtin_memcpy(data, p->header, NG911_PKTGEN_HEADER_LEN);
  __u64 number = p->number++;

  __u8 *ip = data + NG911_PKTGEN_L3, *udp = data + NG911_PKTGEN_L4;
  __u32 ip_sum = ~((__u32)ip[10] << 8 | ip[11]) & 0xffff;
  __u32 udp_check = (__u32)udp[6] << 8 | udp[7];
  __u32 udp_sum = ~udp_check & 0xffff;

  __u32 sources = p->sources;
  if (sources > 1) {
    __u32 src = (__u32)ip[12] << 24 | (__u32)ip[13] << 16 | (__u32)ip[14] << 8 | ip[15];
    __u32 to = src + (__u32)(number % sources);
    ip_sum = change(change(ip_sum, src >> 16, to >> 16), src, to);
    udp_sum = change(change(udp_sum, src >> 16, to >> 16), src, to);
    ip[12] = to >> 24;
    ip[13] = to >> 16;
    ip[14] = to >> 8;
    ip[15] = to;
  }

  /* The template carries '0' in every digit; the digits written replace those. */
  __u32 at = p->call_id_at;
  if (at) {
    if (at > NG911_PKTGEN_MAX_AT) return XDP_ABORTED;
    __u8 *d = data + at;
    if (d + NG911_PKTGEN_DIGITS > end) return XDP_ABORTED;
#pragma unroll
    for (__u32 i = 0; i < NG911_PKTGEN_DIGITS; i++) {
      __u8 c = hex_digit(number, i);
      udp_sum = change(udp_sum, share('0', at + i), share(c, at + i));
      d[i] = c;
    }
  }
  at = p->branch_at;
  if (at) {
    if (at > NG911_PKTGEN_MAX_AT) return XDP_ABORTED;
    __u8 *d = data + at;
    if (d + NG911_PKTGEN_BRANCH_DIGITS > end) return XDP_ABORTED;
#pragma unroll
    for (__u32 i = 0; i < NG911_PKTGEN_BRANCH_DIGITS; i++) {
      __u8 c = hex_digit(number, i);
      udp_sum = change(udp_sum, share('0', at + i), share(c, at + i));
      d[i] = c;
    }
  }

  __u16 ip_check = ~fold(ip_sum);
  ip[10] = ip_check >> 8;
  ip[11] = ip_check;
  /* A UDP checksum of 0 means "none" over IPv4: a template sent without one stays without. */
  if (udp_check) {
    __u16 c = ~fold(udp_sum);
    if (c == 0) c = 0xffff;
    udp[6] = c >> 8;
    udp[7] = c;
  }
  return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
