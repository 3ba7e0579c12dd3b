// SPDX-License-Identifier: GPL-2.0
/* Attached to the receiving end of a veth so that frames redirected into it are delivered
 * (veth drops XDP frames when its peer has no XDP program). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx) {
  (void)ctx;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
