/* The stage-one classifier run on one payload (the oracle of classifier_equivalence_test.cpp). */
#ifndef NG911_TEST_STAGE1_SIP_H
#define NG911_TEST_STAGE1_SIP_H

#include <linux/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct s1_sip_result {
  __u32 kind;          /* enum ng911_sip_kind's values */
  __u32 is_invite;
  __u32 emergency;
  __u32 has_call_id;
  __u64 call_id_hash;
};

void s1_sip_classify(const __u8 *payload, __u32 len, struct s1_sip_result *out);

#ifdef __cplusplus
}
#endif

#endif
