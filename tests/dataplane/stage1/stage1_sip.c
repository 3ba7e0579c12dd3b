/* The stage-one classifier as the stage-one twin ran it (dataplane/twin.c of 8a2d7bb). */
#include "stage1_sip.h"

#include <string.h>

#include "dp_sip_stage1.h"

void s1_sip_classify(const __u8 *payload, __u32 len, struct s1_sip_result *out) {
  __u8 scratch[S1_SCRATCH_SIZE];
  struct s1_sip_scan scan;
  if (len > S1_SIP_WINDOW) len = S1_SIP_WINDOW;
  memset(&scan, 0, sizeof scan);
  memset(scratch, 0, sizeof scratch);
  memcpy(scratch, payload, len);
  scan.buf = scratch;
  scan.len = len;
  if (len == 0) {
    scan.kind = S1_SIP_MALFORMED;
  } else {
    s1_sip_start(&scan);
    if (scan.kind == S1_SIP_REQUEST || scan.kind == S1_SIP_RESPONSE)
      for (__u32 i = 0; i < S1_SIP_MAX_STEPS; i++)
        if (s1_sip_step(i, &scan)) break;
  }
  out->kind = scan.kind;
  out->is_invite = scan.is_invite;
  out->emergency = scan.emergency;
  out->has_call_id = scan.has_call_id;
  out->call_id_hash = scan.call_id_hash;
}
