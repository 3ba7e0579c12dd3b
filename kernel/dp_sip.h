/* The SIP classifier: start line, emergency Request-URI and Call-ID of one datagram's window
 * (its first NG911_SIP_WINDOW bytes). Plain C that compiles for BPF and in user space: the XDP
 * program, the user-space twin, the DPDK path and the unit tests run this same code.
 *
 * Every read goes through a view (ng911_env_view, the includer's): a pointer to the window's
 * bytes from a position, NG911_VIEW_SPAN of them readable at constant offsets, bytes at or past
 * the window's len reading as zero. The kernel's views point into the packet, checked against
 * data_end once each, and into the scratch copy (ng911_sip_scratch_view) near the window's end;
 * the twin's always into the scratch. Constant offsets from a view are what lets the verifier
 * prove each load in bounds without a check per load.
 *
 * The header scan is a sequence of steps, each a header line (its name looked at, its line feed
 * searched for a word at a time) or, at the Call-ID, the colon and the value hashed; the
 * includer runs ng911_sip_step() in a loop: bpf_loop() in the kernel. The scan's state lives in
 * the scratch map value, not on the stack, so the verifier reads it back as unknown numbers at
 * each step and checks the step once, instead of following every range a position can take. */
#ifndef NG911_DP_SIP_H
#define NG911_DP_SIP_H

#include "ng911_dp.h"

#define NG911_ONES 0x0101010101010101ull
#define NG911_HIGHS 0x8080808080808080ull
#define NG911_LOWER 0x2020202020202020ull
/* Eight characters as a little-endian word, as an 8-byte load sees them. */
#define NG911_W8(a, b, c, d, e, f, g, h)                                                   \
  ((__u64)(__u8)(a) | (__u64)(__u8)(b) << 8 | (__u64)(__u8)(c) << 16 | (__u64)(__u8)(d) << 24 | \
   (__u64)(__u8)(e) << 32 | (__u64)(__u8)(f) << 40 | (__u64)(__u8)(g) << 48 | (__u64)(__u8)(h) << 56)

/* Loops the verifier should see unrolled (kernel) and GCC may unroll (user space). */
#ifdef __clang__
#define NG911_UNROLL _Pragma("unroll")
#else
#define NG911_UNROLL _Pragma("GCC unroll 8")
#endif

/* Words searched for a line end per step: a header line (20-80 bytes) usually ends in one step. */
#define NG911_SCAN_WORDS 8u
/* Words of the Call-ID's value hashed per step: most Call-IDs (a random part @ a host) fit. */
#define NG911_VALUE_WORDS 6u
/* Enough steps for the window: a step advances at least one byte and usually a line. */
#define NG911_SIP_MAX_STEPS 512u

enum ng911_sip_kind {
  NG911_SIP_NONE = 0,    /* not (yet) known */
  NG911_SIP_REQUEST,
  NG911_SIP_RESPONSE,
  NG911_SIP_KEEPALIVE,
  NG911_SIP_MALFORMED,
};

enum ng911_scan_phase {
  NG911_SCAN_LINE = 0,   /* looking for the end of the current line */
  NG911_SCAN_NAME,       /* at the start of a header line */
  NG911_SCAN_TO,         /* in the To header's line: looking for ";tag=" and its end */
  NG911_SCAN_COLON,      /* after "Call-ID"/"i": skipping white space and the colon */
  NG911_SCAN_VALUE,      /* hashing the Call-ID's value */
  NG911_SCAN_DONE,
};

/* A 64-bit mix (the finaliser of MurmurHash3): cheap in BPF (two multiplies) and good enough
 * that Maglev slots fill evenly from Call-IDs that differ in a few characters. */
static inline __u64 ng911_fmix64(__u64 h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

static inline __u64 ng911_mix(__u64 h, __u64 word) {
  h ^= word;
  h *= 0x9e3779b97f4a7c15ull;
  return h ^ (h >> 29);
}

/* Unaligned loads and stores of 2, 4 and 8 bytes. In BPF a pointer cast is one instruction
 * (x86 and the verifier allow unaligned access), where memcpy from a byte pointer would become
 * a byte-by-byte copy; in user space memcpy is the defined way and compiles to one move. */
#ifdef __BPF__
#define NG911_ACCESS(bits)                                                                        \
  static inline __u##bits ng911_load##bits(const void *p) { return *(const __u##bits *)p; }     \
  static inline void ng911_store##bits(void *p, __u##bits v) { *(__u##bits *)p = v; }
#else
#define NG911_ACCESS(bits)                                                                        \
  static inline __u##bits ng911_load##bits(const void *p) {                                     \
    __u##bits v;                                                                                \
    __builtin_memcpy(&v, p, sizeof v);                                                          \
    return v;                                                                                   \
  }                                                                                             \
  static inline void ng911_store##bits(void *p, __u##bits v) { __builtin_memcpy(p, &v, sizeof v); }
#endif
NG911_ACCESS(16)
NG911_ACCESS(32)
NG911_ACCESS(64)

/* Bytes a view must cover from where it starts: the most one use of a view reads (a step's
 * line-feed search: eight words; the To tag's search: a word from each of its 64 positions). */
#define NG911_VIEW_SPAN 72u

/* A scan's context across steps: the includer's environment (which knows where the packet
 * is) and the per-CPU scratch holding the scan's state. */
struct ng911_sip_walk {
  struct ng911_env *env;
  struct ng911_scratch *sc;
};

/* 0x80 in each byte of v that is zero; the lowest one is exact (higher ones may be borrows). */
static inline __u64 ng911_zero_bytes(__u64 v) { return (v - NG911_ONES) & ~v & NG911_HIGHS; }
static inline __u64 ng911_bytes_eq(__u64 w, __u8 c) { return ng911_zero_bytes(w ^ (NG911_ONES * c)); }
/* 0x80 in exactly the bytes of w equal to c (no borrows: each byte's low seven bits are added
 * on their own), for masks whose every flag counts, not just the lowest. */
static inline __u64 ng911_bytes_eq_exact(__u64 w, __u8 c) {
  __u64 v = w ^ (NG911_ONES * c);
  return ~(((v & ~NG911_HIGHS) + ~NG911_HIGHS) | v) & NG911_HIGHS;
}

/* Index (0-7) of the lowest flagged byte of a nonzero ng911_zero_bytes() mask, without a
 * count-trailing-zeros instruction (BPF has none): the isolated bit times a de Bruijn-like
 * constant puts the index in the top byte. */
static inline __u32 ng911_first_byte(__u64 mask) {
  __u64 low = mask & (~mask + 1);
  return (__u32)(((low >> 7) * 0x0001020304050607ull) >> 56);
}

static inline int ng911_is_space(__u32 c) { return c == ' ' || c == '\t'; }

/* Whether the Request-URI at the start of view v is urn:service:sos or a sub-service
 * (RFC 5031), bare or as the user part of a sip:/sips: URI. Scheme and URN compare
 * case-insensitively. Reads 25 bytes at most, each at a constant offset from v. */
static inline int ng911_emergency_uri(const __u8 *v) {
  __u64 u0 = ng911_load64(v) | NG911_LOWER;
  __u64 w1 = ng911_load64(v + 8) | NG911_LOWER;
  __u64 rest; /* "sos" and the two bytes after it */
  if (u0 == NG911_W8('u', 'r', 'n', ':', 's', 'e', 'r', 'v')) {
    if ((w1 & 0xffffffffull) != NG911_W8('i', 'c', 'e', ':', 0, 0, 0, 0)) return 0;
    rest = ng911_load64(v + 12);
  } else if (u0 == NG911_W8('s', 'i', 'p', ':', 'u', 'r', 'n', ':')) {
    if (w1 != NG911_W8('s', 'e', 'r', 'v', 'i', 'c', 'e', ':')) return 0;
    rest = ng911_load64(v + 16);
  } else if (u0 == NG911_W8('s', 'i', 'p', 's', ':', 'u', 'r', 'n')) {
    if (w1 != NG911_W8(':', 's', 'e', 'r', 'v', 'i', 'c', 'e')) return 0;
    if (v[16] != ':') return 0;
    rest = ng911_load64(v + 17);
  } else {
    return 0;
  }
  if (((rest | NG911_LOWER) & 0xffffff) != NG911_W8('s', 'o', 's', 0, 0, 0, 0, 0)) return 0;
  __u32 next = (__u32)(rest >> 24 & 0xff);
  if (next == '.') { /* a sub-service: urn:service:sos.police */
    __u32 c = (__u32)(rest >> 32 & 0xff) | 0x20;
    return c >= 'a' && c <= 'z';
  }
  return next == ' ' || next == ';' || next == '@' || next == '>' || next == '?';
}

/* A fresh scan of a window of len bytes (the scratch holds the last packet's state and, in
 * its bytes, whatever was copied last). */
static inline void ng911_sip_reset(struct ng911_scratch *sc, __u64 len) {
  struct ng911_sip_scan *s = &sc->scan;
  s->len = len;
  s->pos = 0;
  s->value_len = 0;
  s->call_id_hash = 0;
  s->phase = NG911_SCAN_DONE;
  s->first_line = 1;
  s->kind = NG911_SIP_NONE;
  s->is_invite = 0;
  s->emergency = 0;
  s->has_call_id = 0;
  s->tail_zeroed = 0;
  s->want_to = 0;
  s->to_seen = 0;
  s->to_tag = 0;
  s->ack_or_cancel = 0;
}

/* Makes the NG911_SCAN_TAIL bytes after the window read as zero, once per packet, and only when
 * a read may reach them: a message whose Call-ID sits well before its end never pays for the
 * ten stores. */
static inline void ng911_sip_zero_tail(struct ng911_scratch *sc) {
  struct ng911_sip_scan *s = &sc->scan;
  if (s->tail_zeroed) return;
  __u8 *tail = sc->bytes + (s->len & NG911_SCRATCH_MASK);
NG911_UNROLL
  for (__u32 i = 0; i < NG911_SCAN_TAIL / 8; i++) ng911_store64(tail + 8 * i, 0);
  s->tail_zeroed = 1;
}

/* A view of the window copied into the scratch (sc->bytes holds its len bytes): the bytes from
 * pos, those past len reading as zero. No use of a view reads more than NG911_SCAN_TAIL - 8
 * bytes past len, and every view starts before len or within 17 bytes of the start. */
static inline const __u8 *ng911_sip_scratch_view(struct ng911_scratch *sc, __u64 pos) {
  if (pos + NG911_VIEW_SPAN > sc->scan.len) ng911_sip_zero_tail(sc);
  return sc->bytes + (pos & NG911_SCRATCH_MASK);
}

/* The start line, in constant work; sets kind, is_invite, emergency and where the scan goes on. */
static inline void ng911_sip_start(struct ng911_env *env, struct ng911_scratch *sc) {
  struct ng911_sip_scan *s = &sc->scan;
  __u64 len = s->len;
  s->phase = NG911_SCAN_DONE;
  s->first_line = 1;
  s->kind = NG911_SIP_MALFORMED;
  s->pos = 0;
  const __u8 *v = ng911_env_view(env, sc, 0);
  if (!v) return;
  __u64 w0 = ng911_load64(v);
  /* RFC 5626 keep-alives: CRLF pairs, or a STUN binding (magic cookie at offset 4). */
  if ((w0 & 0xffff) == NG911_W8('\r', '\n', 0, 0, 0, 0, 0, 0) && len <= 4) {
    s->kind = NG911_SIP_KEEPALIVE;
    return;
  }
  if ((w0 & 0xc0) == 0 && (w0 >> 32) == 0x42a41221ull && len >= 20) {
    s->kind = NG911_SIP_KEEPALIVE;
    return;
  }
  __u64 w1 = ng911_load64(v + 8);
  if (w0 == NG911_W8('S', 'I', 'P', '/', '2', '.', '0', ' ')) {
    __u32 d0 = (__u32)(w1 & 0xff), d1 = (__u32)(w1 >> 8 & 0xff), d2 = (__u32)(w1 >> 16 & 0xff);
    if (d0 < '1' || d0 > '6' || d1 < '0' || d1 > '9' || d2 < '0' || d2 > '9' || (w1 >> 24 & 0xff) != ' ') return;
    s->kind = NG911_SIP_RESPONSE;
    s->pos = 12;
    s->phase = NG911_SCAN_LINE;
    return;
  }
  /* A request: METHOD SP Request-URI SP SIP/2.0; the method is at most 15 characters. */
  __u64 spaces = ng911_bytes_eq(w0, ' ');
  __u64 method_len;
  if (spaces) {
    method_len = ng911_first_byte(spaces);
  } else {
    __u64 more = ng911_bytes_eq(w1, ' ');
    if (!more) return;
    method_len = 8 + ng911_first_byte(more);
  }
  __u32 first = (__u32)(w0 & 0xff);
  if (method_len == 0 || first < 'A' || first > 'Z') return;
  s->kind = NG911_SIP_REQUEST;
  s->is_invite = method_len == 6 && (w0 & 0xffffffffffffull) == NG911_W8('I', 'N', 'V', 'I', 'T', 'E', 0, 0);
  s->ack_or_cancel = (method_len == 3 && (w0 & 0xffffff) == NG911_W8('A', 'C', 'K', 0, 0, 0, 0, 0)) ||
                     (method_len == 6 && (w0 & 0xffffffffffffull) == NG911_W8('C', 'A', 'N', 'C', 'E', 'L', 0, 0));
  s->pos = method_len + 1;
  s->phase = NG911_SCAN_LINE;
  const __u8 *uri = ng911_env_view(env, sc, method_len + 1);
  if (!uri) {
    s->phase = NG911_SCAN_DONE;
    return;
  }
  s->emergency = (__u32)ng911_emergency_uri(uri);
}

/* Whether the start line of a request, whose line feed is at lf, ends "SP SIP/2.0 CRLF"
 * (RFC 3261 §7.1). Read through a view of its own: the ending may start before the step's. */
static inline int ng911_sip_start_line_ok(struct ng911_sip_walk *walk, __u64 lf) {
  if (lf < 9) return 0;
  const __u8 *v = ng911_env_view(walk->env, walk->sc, lf - 9);
  return v && v[0] == ' ' && ng911_load64(v + 1) == NG911_W8('S', 'I', 'P', '/', '2', '.', '0', '\r');
}

/* The Call-ID's value ends in the word w at pos (ends flags where): the hash is final, or the
 * message is malformed (an empty Call-ID, a NUL in it). Returns 1: the scan is over. */
static inline int ng911_sip_value_end(struct ng911_scratch *sc, __u64 hash, __u64 value_len, __u64 pos, __u64 w,
                                      __u64 ends) {
  struct ng911_sip_scan *s = &sc->scan;
  __u64 len = s->len;
  __u32 n = ng911_first_byte(ends);
  if (n) hash = ng911_mix(hash, w & ((1ull << (n * 8)) - 1));
  value_len += n;
  /* A value cut by the end of the window is not the Call-ID: its hash would differ from the
   * same call's shorter messages. Zero bytes only mean the end when they are past len. */
  int inside = pos + n < len;
  __u32 end = (__u32)(w >> (n * 8) & 0xff);
  s->value_len = value_len;
  if (inside && end != 0 && value_len > 0) {
    s->call_id_hash = ng911_fmix64(hash ^ value_len);
    s->has_call_id = 1;
    if (s->want_to && !s->to_seen) { /* the To header comes after the Call-ID: go on */
      s->pos = pos + n;
      s->phase = NG911_SCAN_LINE;
      return 0;
    }
  } else if (value_len == 0 || (inside && end == 0)) {
    s->kind = NG911_SIP_MALFORMED;
  }
  s->phase = NG911_SCAN_DONE;
  return 1;
}

/* The Call-ID value from view v at pos: a word, optionally "@" word, so it ends at the first
 * white space, CR or LF. Hashed 8 bytes at a time from its first byte, so the hash does not
 * depend on where in the packet the value sits. Returns 1 when the scan is over. */
static inline int ng911_sip_value(struct ng911_scratch *sc, const __u8 *v, __u64 pos) {
  struct ng911_sip_scan *s = &sc->scan;
  __u64 len = s->len;
  __u64 hash = s->call_id_hash, value_len = s->value_len;
NG911_UNROLL
  for (__u32 k = 0; k < NG911_VALUE_WORDS; k++) {
    if (pos >= len) { /* cut by the window: no Call-ID (the caller falls back) */
      s->phase = NG911_SCAN_DONE;
      return 1;
    }
    __u64 w = ng911_load64(v + 8 * k);
    __u64 ends = ng911_bytes_eq(w, '\r') | ng911_bytes_eq(w, '\n') | ng911_bytes_eq(w, ' ') | ng911_bytes_eq(w, '\t') |
                 ng911_zero_bytes(w);
    if (ends) return ng911_sip_value_end(sc, hash, value_len, pos, w, ends);
    hash = ng911_mix(hash, w);
    value_len += 8;
    pos += 8;
  }
  s->call_id_hash = hash;
  s->value_len = value_len;
  s->pos = pos;
  s->phase = NG911_SCAN_VALUE;
  return 0;
}

/* White space and colons before the Call-ID's value (HCOLON) in the word w at pos, then the
 * value through a view of its own. Bytes past len read as zero, which is no separator: the
 * skip stops there at the latest. Returns 1 when the scan is over. */
static inline int ng911_sip_colon(struct ng911_sip_walk *walk, __u64 pos, __u64 w) {
  struct ng911_sip_scan *s = &walk->sc->scan;
  __u64 sep = ng911_bytes_eq_exact(w, ':') | ng911_bytes_eq_exact(w, ' ') | ng911_bytes_eq_exact(w, '\t');
  __u64 other = ~sep & NG911_HIGHS;
  if (!other) {
    s->pos = pos + 8;
    s->phase = NG911_SCAN_COLON;
    return 0;
  }
  pos += ng911_first_byte(other);
  s->call_id_hash = 0;
  s->value_len = 0;
  if (pos >= s->len) {
    s->phase = NG911_SCAN_DONE;
    return 1;
  }
  const __u8 *v = ng911_env_view(walk->env, walk->sc, pos);
  if (!v) {
    s->phase = NG911_SCAN_DONE;
    return 1;
  }
  return ng911_sip_value(walk->sc, v, pos);
}

/* Whether ";tag=" starts at one of the first `limit` (at most 64) bytes of view v: the To
 * header of a request inside a dialog carries the tag its peer gave (RFC 3261 §8.1.1.2,
 * §12.2.1.1); a request that begins a call has none. Case-insensitive; the rare forms with
 * white space around ";" or "=" read as no tag. Every position at a constant offset. */
static inline void ng911_sip_to_tag(struct ng911_sip_scan *s, const __u8 *v, __u64 limit) {
NG911_UNROLL
  for (__u32 p = 0; p < 8 * NG911_SCAN_WORDS; p++) {
    if (p >= limit) break;
    if (((ng911_load64(v + p) | NG911_LOWER) & 0xffffffffffull) == NG911_W8(';', 't', 'a', 'g', '=', 0, 0, 0)) {
      s->to_tag = 1;
      break;
    }
  }
}

/* One step of the header scan; ctx points to a struct ng911_sip_walk. Returns 1 when the scan
 * is over (bpf_loop's convention).
 *
 * A step is one header line from its start: the field's name looked at (at a constant offset
 * from the step's view, so the kernel reads it in the packet with no check of its own), then
 * up to NG911_SCAN_WORDS words searched for the line feed. At the Call-ID the same step skips
 * the colon and hashes up to NG911_VALUE_WORDS words of the value, so a typical message takes
 * one step per header line before the Call-ID and one for it: the per-step cost (a call, the
 * state read and written back through memory) is paid per line, not per word. */
static inline int ng911_sip_step(__u32 index, void *ctx) {
  struct ng911_sip_walk *walk = (struct ng911_sip_walk *)ctx;
  struct ng911_scratch *sc = walk->sc;
  struct ng911_sip_scan *s = &sc->scan;
  __u64 len = s->len;
  __u64 pos = s->pos;
  __u32 phase = s->phase;
  (void)index;
  if (phase == NG911_SCAN_DONE) return 1;
  if (pos >= len) { /* the window ended first: no Call-ID seen (the caller falls back) */
    s->phase = NG911_SCAN_DONE;
    return 1;
  }
  const __u8 *v = ng911_env_view(walk->env, sc, pos);
  if (!v) {
    s->phase = NG911_SCAN_DONE;
    return 1;
  }
  if (phase == NG911_SCAN_VALUE) return ng911_sip_value(sc, v, pos);
  if (phase == NG911_SCAN_COLON) return ng911_sip_colon(walk, pos, ng911_load64(v));
  if (phase == NG911_SCAN_NAME) {
    __u64 name = ng911_load64(v);
    __u32 c0 = (__u32)(name & 0xff);
    if (c0 == '\r' || c0 == '\n') { /* the blank line: the header fields end */
      if (!s->has_call_id) s->kind = NG911_SIP_MALFORMED;
      s->phase = NG911_SCAN_DONE;
      return 1;
    }
    __u32 c1 = (__u32)(name >> 8 & 0xff);
    __u32 c7 = (__u32)(name >> 56);
    __u64 lower = name | NG911_LOWER;
    /* Header names are case-insensitive; "Call-ID" may be followed by white space before the
     * colon (HCOLON), and its compact form is "i" (RFC 3261 §7.3.3). */
    if ((lower << 8 >> 8) == NG911_W8('c', 'a', 'l', 'l', '-', 'i', 'd', 0) && (c7 == ':' || ng911_is_space(c7)))
      return ng911_sip_colon(walk, pos + 7, ng911_load64(v + 7));
    if ((c0 | 0x20) == 'i' && (c1 == ':' || ng911_is_space(c1))) return ng911_sip_colon(walk, pos + 1, ng911_load64(v + 1));
    if (s->want_to && !s->to_seen && (c0 | 0x20) == 't') {
      __u32 c2 = (__u32)(name >> 16 & 0xff);
      /* "To" or its compact form "t", white space allowed before the colon. */
      if (c1 == ':' || ng911_is_space(c1) || ((c1 | 0x20) == 'o' && (c2 == ':' || ng911_is_space(c2))))
        phase = NG911_SCAN_TO;
    }
  }
  /* The line feed: eight words at constant offsets from the view. */
  __u64 lf = 0;
  int found = 0;
NG911_UNROLL
  for (__u32 k = 0; k < NG911_SCAN_WORDS; k++) {
    __u64 m = ng911_bytes_eq(ng911_load64(v + 8 * k), '\n');
    if (m) {
      lf = pos + 8 * k + ng911_first_byte(m);
      found = 1;
      break;
    }
  }
  if (phase == NG911_SCAN_TO && !s->to_tag) ng911_sip_to_tag(s, v, found ? lf - pos : 8 * NG911_SCAN_WORDS);
  if (!found) {
    s->pos = pos + 8 * NG911_SCAN_WORDS;
    s->phase = phase == NG911_SCAN_TO ? NG911_SCAN_TO : NG911_SCAN_LINE;
    return 0;
  }
  if (lf >= len) { /* the zeros past the end, not a line feed */
    s->phase = NG911_SCAN_DONE;
    return 1;
  }
  if (phase == NG911_SCAN_TO) {
    s->to_seen = 1;
    if (s->has_call_id) { /* the Call-ID came first: nothing more to look for */
      s->phase = NG911_SCAN_DONE;
      return 1;
    }
  }
  if (s->first_line) {
    s->first_line = 0;
    if (s->kind == NG911_SIP_REQUEST && !ng911_sip_start_line_ok(walk, lf)) {
      s->kind = NG911_SIP_MALFORMED;
      s->phase = NG911_SCAN_DONE;
      return 1;
    }
  }
  s->pos = lf + 1;
  s->phase = NG911_SCAN_NAME;
  return 0;
}

#endif /* NG911_DP_SIP_H */
