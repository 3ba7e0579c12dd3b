// SPDX-License-Identifier: GPL-2.0
/* The floor for benchmarks: the cost of running any XDP program at all. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_drop(struct xdp_md *ctx) {
  (void)ctx;
  return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
