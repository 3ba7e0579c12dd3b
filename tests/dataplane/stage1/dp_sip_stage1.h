/* The stage-one SIP classifier (kernel/dp_sip.h as committed in 8a2d7bb), names prefixed s1_,
 * kept unchanged as the oracle that the faster classifier is checked against
 * (classifier_equivalence_test.cpp): the same class, Call-ID and hash for every message. */
/* The SIP classifier: start line, emergency Request-URI and Call-ID of one datagram, read from
 * a scratch buffer (the first S1_SIP_WINDOW bytes of the UDP payload). Plain C that compiles
 * for BPF and in user space: the XDP program, the user-space twin and the unit tests run this
 * same code. Every index is masked with S1_SCRATCH_MASK so the verifier can prove each load
 * in bounds without tracking the scan; bytes at or past `len` read as zero.
 *
 * The header scan is a sequence of steps with constant work each (four 8-byte words searched
 * for LF, or one word of the Call-ID hashed); the includer runs s1_sip_step() in a loop:
 * bpf_loop() in the kernel, so the verifier checks one step rather than every iteration. */
#ifndef S1_DP_SIP_H
#define S1_DP_SIP_H

#include <linux/types.h>

#define S1_SIP_WINDOW 1472u
#define S1_SCRATCH_MASK 2047u
#define S1_SCRATCH_SIZE (S1_SCRATCH_MASK + 1u + 16u)

#define S1_ONES 0x0101010101010101ull
#define S1_HIGHS 0x8080808080808080ull
#define S1_LOWER 0x2020202020202020ull
/* Eight characters as a little-endian word, as an 8-byte load sees them. */
#define S1_W8(a, b, c, d, e, f, g, h)                                                   \
  ((__u64)(__u8)(a) | (__u64)(__u8)(b) << 8 | (__u64)(__u8)(c) << 16 | (__u64)(__u8)(d) << 24 | \
   (__u64)(__u8)(e) << 32 | (__u64)(__u8)(f) << 40 | (__u64)(__u8)(g) << 48 | (__u64)(__u8)(h) << 56)

/* Words searched for a line end per step. */
#define S1_SCAN_WORDS 4u
/* Enough steps for the window: a step advances at least one byte and usually a line. */
#define S1_SIP_MAX_STEPS 512u

enum s1_sip_kind {
  S1_SIP_NONE = 0,    /* not (yet) known */
  S1_SIP_REQUEST,
  S1_SIP_RESPONSE,
  S1_SIP_KEEPALIVE,
  S1_SIP_MALFORMED,
};

enum s1_scan_phase {
  S1_SCAN_LINE = 0,   /* looking for the end of the current line */
  S1_SCAN_COLON,      /* after "Call-ID"/"i": skipping white space and the colon */
  S1_SCAN_VALUE,      /* hashing the Call-ID's value */
  S1_SCAN_DONE,
};

/* The scan's state and result. `buf` is the scratch buffer (S1_SCRATCH_SIZE bytes). */
struct s1_sip_scan {
  const __u8 *buf;
  __u32 len;             /* valid bytes in buf */
  __u32 pos;             /* where the current step starts */
  __u32 phase;           /* enum s1_scan_phase */
  __u32 first_line;      /* 1 until the start line's end is seen */
  __u32 kind;            /* enum s1_sip_kind */
  __u32 is_invite;
  __u32 emergency;       /* Request-URI is urn:service:sos or a sub-service */
  __u32 has_call_id;     /* call_id_hash is set */
  __u32 value_len;       /* Call-ID bytes hashed so far */
  __u64 call_id_hash;
};

/* A 64-bit mix (the finaliser of MurmurHash3): cheap in BPF (two multiplies) and good enough
 * that Maglev slots fill evenly from Call-IDs that differ in a few characters. */
static inline __u64 s1_fmix64(__u64 h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

static inline __u64 s1_mix(__u64 h, __u64 word) {
  h ^= word;
  h *= 0x9e3779b97f4a7c15ull;
  return h ^ (h >> 29);
}

/* The 8 bytes at pos (masked), bytes at or past len reading as zero. */
static inline __u64 s1_word(const __u8 *buf, __u32 len, __u32 pos) {
  __u64 w;
#ifdef __BPF__
  w = *(const __u64 *)(buf + (pos & S1_SCRATCH_MASK));
#else
  __builtin_memcpy(&w, buf + (pos & S1_SCRATCH_MASK), sizeof w);
#endif
  if (pos >= len) return 0;
  if (len - pos < 8) w &= (1ull << ((len - pos) * 8)) - 1;
  return w;
}

static inline __u32 s1_byte(const __u8 *buf, __u32 len, __u32 pos) {
  return pos < len ? buf[pos & S1_SCRATCH_MASK] : 0;
}

/* 0x80 in each byte of v that is zero; the lowest one is exact (higher ones may be borrows). */
static inline __u64 s1_zero_bytes(__u64 v) { return (v - S1_ONES) & ~v & S1_HIGHS; }
static inline __u64 s1_bytes_eq(__u64 w, __u8 c) { return s1_zero_bytes(w ^ (S1_ONES * c)); }

/* Index (0-7) of the lowest flagged byte of a nonzero s1_zero_bytes() mask, without a
 * count-trailing-zeros instruction (BPF has none): the isolated bit times a de Bruijn-like
 * constant puts the index in the top byte. */
static inline __u32 s1_first_byte(__u64 mask) {
  __u64 low = mask & (~mask + 1);
  return (__u32)(((low >> 7) * 0x0001020304050607ull) >> 56);
}

static inline int s1_is_space(__u32 c) { return c == ' ' || c == '\t'; }

/* Whether the Request-URI at `at` is urn:service:sos or a sub-service (RFC 5031), bare or as
 * the user part of a sip:/sips: URI. Scheme and URN compare case-insensitively. */
static inline int s1_emergency_uri(const __u8 *buf, __u32 len, __u32 at) {
  __u64 u0 = s1_word(buf, len, at) | S1_LOWER;
  __u32 rest; /* where "sos" starts */
  if (u0 == S1_W8('u', 'r', 'n', ':', 's', 'e', 'r', 'v')) {
    if (((s1_word(buf, len, at + 8) | S1_LOWER) & 0xffffffffull) != S1_W8('i', 'c', 'e', ':', 0, 0, 0, 0)) return 0;
    rest = at + 12;
  } else if (u0 == S1_W8('s', 'i', 'p', ':', 'u', 'r', 'n', ':')) {
    if ((s1_word(buf, len, at + 8) | S1_LOWER) != S1_W8('s', 'e', 'r', 'v', 'i', 'c', 'e', ':')) return 0;
    rest = at + 16;
  } else if (u0 == S1_W8('s', 'i', 'p', 's', ':', 'u', 'r', 'n')) {
    if ((s1_word(buf, len, at + 8) | S1_LOWER) != S1_W8(':', 's', 'e', 'r', 'v', 'i', 'c', 'e')) return 0;
    if (s1_byte(buf, len, at + 16) != ':') return 0;
    rest = at + 17;
  } else {
    return 0;
  }
  if (((s1_word(buf, len, rest) | S1_LOWER) & 0xffffff) != S1_W8('s', 'o', 's', 0, 0, 0, 0, 0)) return 0;
  __u32 next = s1_byte(buf, len, rest + 3);
  if (next == '.') { /* a sub-service: urn:service:sos.police */
    __u32 c = s1_byte(buf, len, rest + 4) | 0x20;
    return c >= 'a' && c <= 'z';
  }
  return next == ' ' || next == ';' || next == '@' || next == '>' || next == '?';
}

/* The start line, in constant work; sets kind, is_invite, emergency and where the scan goes on. */
static inline void s1_sip_start(struct s1_sip_scan *s) {
  const __u8 *buf = s->buf;
  __u32 len = s->len;
  __u64 w0 = s1_word(buf, len, 0);
  s->phase = S1_SCAN_LINE;
  s->first_line = 1;
  s->kind = S1_SIP_MALFORMED;
  s->pos = 0;
  /* RFC 5626 keep-alives: CRLF pairs, or a STUN binding (magic cookie at offset 4). */
  if ((w0 & 0xffff) == S1_W8('\r', '\n', 0, 0, 0, 0, 0, 0) && len <= 4) {
    s->kind = S1_SIP_KEEPALIVE;
    s->phase = S1_SCAN_DONE;
    return;
  }
  if ((w0 & 0xc0) == 0 && (w0 >> 32) == 0x42a41221ull && len >= 20) {
    s->kind = S1_SIP_KEEPALIVE;
    s->phase = S1_SCAN_DONE;
    return;
  }
  if (w0 == S1_W8('S', 'I', 'P', '/', '2', '.', '0', ' ')) {
    __u32 d0 = s1_byte(buf, len, 8), d1 = s1_byte(buf, len, 9), d2 = s1_byte(buf, len, 10);
    if (d0 < '1' || d0 > '6' || d1 < '0' || d1 > '9' || d2 < '0' || d2 > '9' || s1_byte(buf, len, 11) != ' ') {
      s->phase = S1_SCAN_DONE;
      return;
    }
    s->kind = S1_SIP_RESPONSE;
    s->pos = 12;
    return;
  }
  /* A request: METHOD SP Request-URI SP SIP/2.0; the method is at most 15 characters. */
  __u64 spaces = s1_bytes_eq(w0, ' ');
  __u32 method_len;
  if (spaces) {
    method_len = s1_first_byte(spaces);
  } else {
    __u64 w1 = s1_word(buf, len, 8);
    __u64 more = s1_bytes_eq(w1, ' ');
    if (!more) { s->phase = S1_SCAN_DONE; return; }
    method_len = 8 + s1_first_byte(more);
  }
  __u32 first = (__u32)(w0 & 0xff);
  if (method_len == 0 || first < 'A' || first > 'Z') { s->phase = S1_SCAN_DONE; return; }
  s->kind = S1_SIP_REQUEST;
  s->is_invite = method_len == 6 && (w0 & 0xffffffffffffull) == S1_W8('I', 'N', 'V', 'I', 'T', 'E', 0, 0);
  s->emergency = (__u32)s1_emergency_uri(buf, len, method_len + 1);
  s->pos = method_len + 1;
}

/* The end of a line at lf: checks the start line's end, ends the scan at the blank line, or
 * looks at the next header field's name. Returns 1 when the scan is over. */
static inline int s1_sip_line_end(struct s1_sip_scan *s, __u32 lf) {
  const __u8 *buf = s->buf;
  __u32 len = s->len;
  if (s->first_line) {
    s->first_line = 0;
    /* A request's start line ends "SP SIP/2.0 CRLF" (RFC 3261 §7.1). */
    if (s->kind == S1_SIP_REQUEST &&
        (lf < 9 || s1_word(buf, len, lf - 8) != S1_W8('S', 'I', 'P', '/', '2', '.', '0', '\r') ||
         s1_byte(buf, len, lf - 9) != ' ')) {
      s->kind = S1_SIP_MALFORMED;
      return 1;
    }
  }
  __u32 at = lf + 1;
  __u64 name = s1_word(buf, len, at);
  __u32 c0 = (__u32)(name & 0xff);
  if (c0 == '\r' || c0 == '\n') { /* the blank line: no Call-ID among the header fields */
    s->kind = S1_SIP_MALFORMED;
    return 1;
  }
  __u32 c1 = (__u32)(name >> 8 & 0xff);
  __u32 c7 = (__u32)(name >> 56);
  __u64 lower = name | S1_LOWER;
  /* Header names are case-insensitive; "Call-ID" may be followed by white space before the
   * colon (HCOLON), and its compact form is "i" (RFC 3261 §7.3.3). */
  if ((lower << 8 >> 8) == S1_W8('c', 'a', 'l', 'l', '-', 'i', 'd', 0) && (c7 == ':' || s1_is_space(c7))) {
    s->pos = at + 7;
    s->phase = S1_SCAN_COLON;
    return 0;
  }
  if ((c0 | 0x20) == 'i' && (c1 == ':' || s1_is_space(c1))) {
    s->pos = at + 1;
    s->phase = S1_SCAN_COLON;
    return 0;
  }
  s->pos = at;
  return 0;
}

/* One step of the header scan. Returns 1 when the scan is over (bpf_loop's convention). */
static inline int s1_sip_step(__u32 index, void *ctx) {
  struct s1_sip_scan *s = (struct s1_sip_scan *)ctx;
  const __u8 *buf = s->buf;
  __u32 len = s->len;
  __u32 pos = s->pos;
  (void)index;
  if (s->phase == S1_SCAN_DONE) return 1;
  if (pos >= len) { /* the window ended first: no Call-ID seen (the caller falls back) */
    s->phase = S1_SCAN_DONE;
    return 1;
  }
  if (s->phase == S1_SCAN_LINE) {
    /* Four words a step: header lines are 20-80 bytes, so most lines take one or two steps. */
    __u32 lf = 0, found = 0;
    for (__u32 k = 0; k < S1_SCAN_WORDS; k++) {
      __u64 m = s1_bytes_eq(s1_word(buf, len, pos + 8 * k), '\n');
      if (m) {
        lf = pos + 8 * k + s1_first_byte(m);
        found = 1;
        break;
      }
    }
    if (!found) {
      s->pos = pos + 8 * S1_SCAN_WORDS;
      return 0;
    }
    if (lf >= len) { /* the zeros past the end, not a line feed */
      s->pos = len;
      return 0;
    }
    if (s1_sip_line_end(s, lf)) s->phase = S1_SCAN_DONE;
    return s->phase == S1_SCAN_DONE;
  }
  if (s->phase == S1_SCAN_COLON) {
    __u32 c = s1_byte(buf, len, pos);
    if (c == ':' || s1_is_space(c)) {
      s->pos = pos + 1;
      return 0;
    }
    s->phase = S1_SCAN_VALUE;
    s->value_len = 0;
    s->call_id_hash = 0;
  }
  /* The Call-ID value: a word, optionally "@" word, so it ends at the first white space, CR or
   * LF. Hashed 8 bytes at a time from its first byte, so the hash does not depend on where in
   * the packet the value sits. */
  __u64 w = s1_word(buf, len, pos);
  __u64 ends = s1_bytes_eq(w, '\r') | s1_bytes_eq(w, '\n') | s1_bytes_eq(w, ' ') | s1_bytes_eq(w, '\t') |
               s1_zero_bytes(w);
  if (!ends) {
    s->call_id_hash = s1_mix(s->call_id_hash, w);
    s->value_len += 8;
    s->pos = pos + 8;
    return 0;
  }
  __u32 n = s1_first_byte(ends);
  if (n) s->call_id_hash = s1_mix(s->call_id_hash, w & ((1ull << (n * 8)) - 1));
  s->value_len += n;
  /* A value cut by the end of the window is not the Call-ID: its hash would differ from the
   * same call's shorter messages. Zero bytes only mean the end when they are past len. */
  if (pos + n < len && s1_byte(buf, len, pos + n) != 0 && s->value_len > 0) {
    s->call_id_hash = s1_fmix64(s->call_id_hash ^ s->value_len);
    s->has_call_id = 1;
  } else if (s->value_len == 0 || (pos + n < len && s1_byte(buf, len, pos + n) == 0)) {
    s->kind = S1_SIP_MALFORMED; /* empty Call-ID, or a NUL in it */
  }
  s->phase = S1_SCAN_DONE;
  return 1;
}

#endif /* S1_DP_SIP_H */
