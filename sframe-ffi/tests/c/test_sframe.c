/*
 * C tests of the sframe C ABI (include/sframe.h), run by scripts/stages/30-ffi.sh under
 * ASan+UBSan (static library) and valgrind (shared library).
 *
 * Covers every function of sframe.h, every status a caller can provoke, the RFC 9605
 * Appendix C vectors (test-vectors/rfc9605.json, suites 1-5) and the draft-barnes-sframe-iana-256
 * vectors (test-vectors/iana-256.json, suites 6-8) and the per-SSRC key vectors
 * (test-vectors/rtp-ssrc-keys.json, suites 1-8) through the generated rfc9605_vectors.h, the
 * a=sframe SDP functions on real Chromium and Firefox SDP (test-vectors/sdp/, embedded in the
 * same header), and misuse: NULL pointers, zero lengths, short and exact output buffers,
 * unknown KIDs, tampered frames, replays, aliasing buffers. Output ends with "N passed, M
 * failed".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc9605_vectors.h"
#include "sframe.h"

static int g_failed_checks;

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);      \
            g_failed_checks++;                                                              \
        }                                                                                   \
    } while (0)

#define CHECK_STATUS(expr, want)                                                            \
    do {                                                                                    \
        SframeStatus got_ = (expr);                                                         \
        if (got_ != (want)) {                                                               \
            fprintf(stderr, "  %s:%d: %s returned %s (%u), want %s\n", __FILE__, __LINE__,  \
                    #expr, sframe_status_name(got_), (unsigned)got_, #want);                \
            g_failed_checks++;                                                              \
        }                                                                                   \
    } while (0)

static const uint8_t KEY_A[16] = "0123456789abcdef";
static const uint8_t KEY_B[32] = "another base key of 32 bytes!!!";
static const uint16_t ALL_SUITES[] = {
    SFRAME_AES_128_CTR_HMAC_SHA256_80, SFRAME_AES_128_CTR_HMAC_SHA256_64,
    SFRAME_AES_128_CTR_HMAC_SHA256_32, SFRAME_AES_128_GCM_SHA256_128,
    SFRAME_AES_256_GCM_SHA512_128,     SFRAME_AES_256_CTR_HMAC_SHA512_80,
    SFRAME_AES_256_CTR_HMAC_SHA512_64, SFRAME_AES_256_CTR_HMAC_SHA512_32,
};
#define SUITE_COUNT (sizeof ALL_SUITES / sizeof ALL_SUITES[0])

/* A sender/receiver pair on `suite` sharing KEY_A under `kid`. */
static void make_pair(uint16_t suite, uint64_t kid, SframeSender **s, SframeReceiver **r) {
    *s = sframe_sender_new(suite);
    *r = sframe_receiver_new(suite);
    CHECK(*s != NULL && *r != NULL);
    CHECK_STATUS(sframe_sender_set_key(*s, kid, KEY_A, sizeof KEY_A), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_add_key(*r, kid, KEY_A, sizeof KEY_A), SFRAME_OK);
}

/* Protects `pt` into a fresh exactly-sized heap buffer (ASan sees any overrun). */
static uint8_t *protect_alloc(SframeSender *s, const uint8_t *md, size_t md_len,
                              const uint8_t *pt, size_t pt_len, size_t *len) {
    size_t cap = sframe_sender_max_output_len(s, pt_len);
    uint8_t *out = malloc(cap);
    CHECK(out != NULL);
    CHECK_STATUS(sframe_sender_protect(s, md, md_len, pt, pt_len, out, cap, len), SFRAME_OK);
    return out;
}

/* ---------------------------------------------------------------- status, version, suites */

static void test_status_strings(void) {
    static const SframeStatus all[] = {
        SFRAME_OK, SFRAME_ERR_BUFFER_TOO_SMALL, SFRAME_ERR_MALFORMED_FRAME,
        SFRAME_ERR_UNKNOWN_KEY_ID, SFRAME_ERR_AUTHENTICATION_FAILED,
        SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE, SFRAME_ERR_INVALID_KEY,
        SFRAME_ERR_COUNTER_EXHAUSTED, SFRAME_ERR_REPLAY, SFRAME_ERR_KEY_STORE_FULL,
        SFRAME_ERR_KEY_USAGE_LIMIT, SFRAME_ERR_NO_KEY, SFRAME_ERR_INVALID_CONFIG,
        SFRAME_ERR_METADATA_TOO_LONG, SFRAME_ERR_KEY_IN_USE, SFRAME_ERR_COUNTER_UNKNOWN,
        SFRAME_ERR_SUITE_MISMATCH, SFRAME_ERR_INVALID_LENGTH, SFRAME_ERR_EXTERNAL_KEY,
        SFRAME_ERR_STALE_EPOCH, SFRAME_ERR_NULL_POINTER, SFRAME_ERR_INVALID_ARGUMENT, SFRAME_ERR_PANIC,
        SFRAME_ERR_UNKNOWN, SFRAME_ERR_SDP_NOT_SDP, SFRAME_ERR_SDP_MALFORMED_LINE,
        SFRAME_ERR_SDP_MALFORMED_MEDIA_LINE, SFRAME_ERR_SDP_SESSION_LEVEL_SFRAME,
        SFRAME_ERR_SDP_SFRAME_WITH_VALUE, SFRAME_ERR_SDP_DUPLICATE_MID,
        SFRAME_ERR_SDP_NO_SUCH_SECTION, SFRAME_ERR_SDP_NOT_RTP,
        SFRAME_ERR_SDP_SECTION_COUNT_MISMATCH, SFRAME_ERR_SDP_BUNDLE_PAYLOAD_TYPE_REUSE,
        SFRAME_ERR_SDP_REJECTED,
    };
    size_t n = sizeof all / sizeof all[0];
    CHECK(SFRAME_OK == 0);
    for (size_t i = 0; i < n; i++) {
        const char *msg = sframe_status_str(all[i]);
        const char *name = sframe_status_name(all[i]);
        CHECK(msg != NULL && msg[0] != '\0');
        CHECK(name != NULL && name[0] != '\0');
        CHECK(strcmp(msg, "unknown status") != 0);
        for (size_t j = 0; j < i; j++) {
            CHECK(all[i] != all[j]);
            CHECK(strcmp(name, sframe_status_name(all[j])) != 0);
            CHECK(strcmp(msg, sframe_status_str(all[j])) != 0);
        }
    }
    CHECK(strcmp(sframe_status_name(SFRAME_OK), "ok") == 0);
    CHECK(strcmp(sframe_status_name(SFRAME_ERR_AUTHENTICATION_FAILED),
                 "authentication_failed") == 0);
    CHECK(strcmp(sframe_status_str(SFRAME_ERR_AUTHENTICATION_FAILED),
                 "authentication failed") == 0);
    /* Core errors added later are appended: earlier values never change. */
    CHECK(SFRAME_ERR_METADATA_TOO_LONG == 13 && SFRAME_ERR_NULL_POINTER == 100);
    CHECK(SFRAME_ERR_KEY_IN_USE == 14 && SFRAME_ERR_COUNTER_UNKNOWN == 15);
    CHECK(strcmp(sframe_status_name(SFRAME_ERR_KEY_IN_USE), "key_in_use") == 0);
    CHECK(strcmp(sframe_status_name(SFRAME_ERR_COUNTER_UNKNOWN), "counter_unknown") == 0);
    CHECK(SFRAME_ERR_SUITE_MISMATCH == 16 && SFRAME_ERR_INVALID_LENGTH == 17);
    CHECK(strcmp(sframe_status_name(SFRAME_ERR_SUITE_MISMATCH), "suite_mismatch") == 0);
    CHECK(strcmp(sframe_status_name(SFRAME_ERR_INVALID_LENGTH), "invalid_length") == 0);
    CHECK(SFRAME_ERR_EXTERNAL_KEY == 18);
    CHECK(strcmp(sframe_status_name(SFRAME_ERR_EXTERNAL_KEY), "external_key") == 0);
    CHECK(SFRAME_ERR_STALE_EPOCH == 19);
    CHECK(strcmp(sframe_status_name(SFRAME_ERR_STALE_EPOCH), "stale_epoch") == 0);
    /* The SDP statuses: 200 on, named sdp_ + sframe-core's SdpError code. */
    CHECK(SFRAME_ERR_SDP_NOT_SDP == 200 && SFRAME_ERR_SDP_REJECTED == 210);
    CHECK(strcmp(sframe_status_name(SFRAME_ERR_SDP_NOT_SDP), "sdp_not_sdp") == 0);
    CHECK(strcmp(sframe_status_name(SFRAME_ERR_SDP_BUNDLE_PAYLOAD_TYPE_REUSE),
                 "sdp_bundle_payload_type_reuse") == 0);
    /* Values that are no status still give a static string. */
    const SframeStatus bogus[] = {20, 99, 104, 199, 211, 0xffffffffu};
    for (size_t i = 0; i < sizeof bogus / sizeof bogus[0]; i++) {
        CHECK(strcmp(sframe_status_str(bogus[i]), "unknown status") == 0);
        CHECK(strcmp(sframe_status_name(bogus[i]), "unknown") == 0);
    }
}

static void test_version_and_backend(void) {
    const char *v = sframe_version();
    const char *b = sframe_backend();
    CHECK(v != NULL && strchr(v, '.') != NULL);
    CHECK(b != NULL && (strcmp(b, "rustcrypto") == 0 || strcmp(b, "aws-lc") == 0));
}

static void test_cipher_suite_info(void) {
    static const struct { uint16_t id; const char *name; size_t nk, nt; } table[] = {
        {1, "AES_128_CTR_HMAC_SHA256_80", 48, 10}, {2, "AES_128_CTR_HMAC_SHA256_64", 48, 8},
        {3, "AES_128_CTR_HMAC_SHA256_32", 48, 4},  {4, "AES_128_GCM_SHA256_128", 16, 16},
        {5, "AES_256_GCM_SHA512_128", 32, 16},
        {6, "AES_256_CTR_HMAC_SHA512_80", 96, 10}, {7, "AES_256_CTR_HMAC_SHA512_64", 96, 8},
        {8, "AES_256_CTR_HMAC_SHA512_32", 96, 4},
    };
    CHECK(SUITE_COUNT == sizeof table / sizeof table[0] && SUITE_COUNT == 8);
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        SframeSuiteInfo info;
        memset(&info, 0, sizeof info);
        CHECK(ALL_SUITES[i] == table[i].id);
        CHECK_STATUS(sframe_cipher_suite_info(table[i].id, &info), SFRAME_OK);
        CHECK(info.id == table[i].id);
        CHECK(info.name != NULL && strcmp(info.name, table[i].name) == 0);
        CHECK(info.key_len == table[i].nk);
        CHECK(info.nonce_len == 12);
        CHECK(info.tag_len == table[i].nt);
        CHECK(info.max_overhead == SFRAME_MAX_HEADER_LEN + table[i].nt);
    }
    SframeSuiteInfo info;
    memset(&info, 0xab, sizeof info);
    CHECK_STATUS(sframe_cipher_suite_info(0, &info), SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE);
    CHECK_STATUS(sframe_cipher_suite_info(9, &info), SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE);
    CHECK_STATUS(sframe_cipher_suite_info(0xffff, &info), SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE);
    CHECK(info.id == 0xabab); /* unchanged on error */
    CHECK_STATUS(sframe_cipher_suite_info(4, NULL), SFRAME_ERR_NULL_POINTER);
    /* Unknown suites give no object. */
    CHECK(sframe_sender_new(0) == NULL);
    CHECK(sframe_sender_new(9) == NULL);
    CHECK(sframe_receiver_new(9) == NULL);
    CHECK(sframe_receiver_new(0) == NULL);
    CHECK(sframe_receiver_new(0xffff) == NULL);
}

/* ---------------------------------------------------------------- header */

static void test_rfc_header_vectors(void) {
    for (size_t i = 0; i < HEADER_VECTOR_COUNT; i++) {
        const HeaderVector *v = &HEADER_VECTORS[i];
        uint8_t buf[SFRAME_MAX_HEADER_LEN];
        size_t n = 99;
        CHECK_STATUS(sframe_header_encode(v->kid, v->ctr, buf, sizeof buf, &n), SFRAME_OK);
        CHECK(n == v->len && memcmp(buf, v->header, n) == 0);
        uint64_t kid = 0, ctr = 0;
        size_t hl = 0;
        CHECK_STATUS(sframe_header_parse(v->header, v->len, &kid, &ctr, &hl), SFRAME_OK);
        CHECK(kid == v->kid && ctr == v->ctr && hl == v->len);
        /* Encoding into exactly len bytes works, one less is refused and writes nothing. */
        uint8_t *exact = malloc(v->len);
        CHECK_STATUS(sframe_header_encode(v->kid, v->ctr, exact, v->len, &n), SFRAME_OK);
        free(exact);
        memset(buf, 0x5a, sizeof buf);
        CHECK_STATUS(sframe_header_encode(v->kid, v->ctr, buf, v->len - 1, &n),
                     SFRAME_ERR_BUFFER_TOO_SMALL);
        CHECK(n == 0);
        for (size_t j = 0; j < sizeof buf; j++) CHECK(buf[j] == 0x5a);
        /* Every truncation of an extended header is malformed. */
        for (size_t cut = 0; cut < v->len; cut++)
            CHECK_STATUS(sframe_header_parse(v->header, cut, &kid, &ctr, &hl),
                         SFRAME_ERR_MALFORMED_FRAME);
    }
}

static void test_header_misuse(void) {
    uint64_t kid = 7, ctr = 7;
    size_t hl = 7, n = 7;
    const uint8_t non_minimal[] = {0x80, 0x05}; /* KID 5 written extended */
    CHECK_STATUS(sframe_header_parse(non_minimal, 2, &kid, &ctr, &hl),
                 SFRAME_ERR_MALFORMED_FRAME);
    CHECK(kid == 7 && ctr == 7 && hl == 7); /* outputs unchanged on error */
    CHECK_STATUS(sframe_header_parse(NULL, 0, &kid, &ctr, &hl), SFRAME_ERR_MALFORMED_FRAME);
    CHECK_STATUS(sframe_header_parse(NULL, 5, &kid, &ctr, &hl), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_header_parse(non_minimal, 2, NULL, &ctr, &hl), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_header_parse(non_minimal, 2, &kid, NULL, &hl), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_header_parse(non_minimal, 2, &kid, &ctr, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_header_parse(non_minimal, SIZE_MAX, &kid, &ctr, &hl),
                 SFRAME_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sframe_header_encode(1, 2, NULL, 0, &n), SFRAME_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(sframe_header_encode(1, 2, NULL, 4, &n), SFRAME_ERR_NULL_POINTER);
    uint8_t b[4];
    CHECK_STATUS(sframe_header_encode(1, 2, b, sizeof b, NULL), SFRAME_ERR_NULL_POINTER);
    /* Trailing payload after the header is not the header's business. */
    const uint8_t frame[] = {0x12, 0xaa, 0xbb};
    CHECK_STATUS(sframe_header_parse(frame, sizeof frame, &kid, &ctr, &hl), SFRAME_OK);
    CHECK(kid == 1 && ctr == 2 && hl == 1);
}

/* ---------------------------------------------------------------- RFC 9605 C.3 vectors */

/* The generated vectors (rfc9605.json + iana-256.json) exercise every suite of sframe.h. */
static void test_vectors_cover_every_suite(void) {
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        size_t found = 0;
        for (size_t j = 0; j < SFRAME_VECTOR_COUNT; j++)
            if (SFRAME_VECTORS[j].suite == ALL_SUITES[i]) found++;
        if (found == 0) fprintf(stderr, "  no C.3-style vector for suite %u\n", ALL_SUITES[i]);
        CHECK(found > 0);
    }
    for (size_t j = 0; j < SFRAME_VECTOR_COUNT; j++) {
        SframeSuiteInfo info;
        CHECK_STATUS(sframe_cipher_suite_info(SFRAME_VECTORS[j].suite, &info), SFRAME_OK);
    }
}

static void test_rfc_vectors_unprotect(void) {
    for (size_t i = 0; i < SFRAME_VECTOR_COUNT; i++) {
        const SframeVector *v = &SFRAME_VECTORS[i];
        SframeReceiver *r = sframe_receiver_new(v->suite);
        CHECK(r != NULL);
        CHECK_STATUS(sframe_receiver_add_key(r, v->kid, v->base_key, v->base_key_len), SFRAME_OK);
        size_t cap = sframe_receiver_max_output_len(r, v->ct_len);
        CHECK(cap >= v->pt_len);
        uint8_t *out = malloc(cap);
        size_t n = 0;
        CHECK_STATUS(sframe_receiver_unprotect(r, v->metadata, v->metadata_len, v->ct, v->ct_len,
                                               out, cap, &n),
                     SFRAME_OK);
        CHECK(n == v->pt_len && memcmp(out, v->pt, n) == 0);
        /* The same frame again is a replay. */
        CHECK_STATUS(sframe_receiver_unprotect(r, v->metadata, v->metadata_len, v->ct, v->ct_len,
                                               out, cap, &n),
                     SFRAME_ERR_REPLAY);
        CHECK(n == 0);
        free(out);

        /* In place, on a fresh receiver. */
        SframeReceiver *r2 = sframe_receiver_new(v->suite);
        CHECK_STATUS(sframe_receiver_add_key(r2, v->kid, v->base_key, v->base_key_len), SFRAME_OK);
        uint8_t *frame = malloc(v->ct_len);
        memcpy(frame, v->ct, v->ct_len);
        size_t off = 0, len = 0;
        CHECK_STATUS(sframe_receiver_unprotect_in_place(r2, v->metadata, v->metadata_len, frame,
                                                        v->ct_len, &off, &len),
                     SFRAME_OK);
        uint64_t kid, ctr;
        size_t hl;
        CHECK_STATUS(sframe_header_parse(v->ct, v->ct_len, &kid, &ctr, &hl), SFRAME_OK);
        CHECK(kid == v->kid && ctr == v->ctr);
        CHECK(off == hl && len == v->pt_len && memcmp(frame + off, v->pt, len) == 0);
        SframeKeyUsage u;
        CHECK_STATUS(sframe_receiver_usage(r2, v->kid, &u), SFRAME_OK);
        CHECK(u.frames == 1 && u.auth_failures == 0);
        free(frame);
        sframe_receiver_free(r2);
        sframe_receiver_free(r);
    }
}

/* sframe_hazmat_protect_frame(v) into `out` (capacity `cap`): the vector's inputs at `ctr`. */
static SframeStatus hazmat_vector(const SframeVector *v, uint64_t ctr, uint8_t *out, size_t cap,
                                  size_t *n) {
    return sframe_hazmat_protect_frame(v->suite, v->kid, ctr, v->base_key, v->base_key_len,
                                       v->metadata, v->metadata_len, v->pt, v->pt_len, out, cap,
                                       n);
}

static void test_rfc_vectors_protect(void) {
    for (size_t i = 0; i < SFRAME_VECTOR_COUNT; i++) {
        const SframeVector *v = &SFRAME_VECTORS[i];
        /* The hazmat call makes the vector's frame at its counter, as often as asked (no state:
         * what a vector file or an interop harness needs, and a sender must never do). */
        uint8_t *out = malloc(v->ct_len); /* exactly the frame size */
        size_t n = 1;
        for (int again = 0; again < 2; again++) {
            CHECK_STATUS(hazmat_vector(v, v->ctr, out, v->ct_len, &n), SFRAME_OK);
            CHECK(n == v->ct_len && memcmp(out, v->ct, n) == 0);
        }
        CHECK_STATUS(hazmat_vector(v, v->ctr, out, v->ct_len - 1, &n),
                     SFRAME_ERR_BUFFER_TOO_SMALL);
        CHECK(n == 0);
        free(out);

        /* A sender resumed at the vector's counter (the first sender of this process to use
         * this key) reproduces the ciphertext too. */
        SframeSender *s = sframe_sender_new(v->suite);
        CHECK_STATUS(sframe_sender_set_key_with_counter(s, v->kid, v->base_key, v->base_key_len,
                                                        v->ctr),
                     SFRAME_OK);
        size_t cap = sframe_sender_max_output_len(s, v->pt_len);
        CHECK(cap >= v->ct_len);
        out = malloc(cap);
        CHECK_STATUS(sframe_sender_protect(s, v->metadata, v->metadata_len, v->pt, v->pt_len, out,
                                           cap, &n),
                     SFRAME_OK);
        CHECK(n == v->ct_len && memcmp(out, v->ct, n) == 0);
        free(out);

        /* A second live sender with the same key and KID is refused (it would reuse s's
         * nonces); once s is freed, a sender resuming from the counter persisted after s's
         * last frame takes over: its frame is the hazmat frame at that counter. */
        SframeSender *s2 = sframe_sender_new(v->suite);
        CHECK_STATUS(sframe_sender_set_key_with_counter(s2, v->kid, v->base_key,
                                                        v->base_key_len, v->ctr),
                     SFRAME_ERR_KEY_IN_USE);
        sframe_sender_free(s);
        CHECK_STATUS(sframe_sender_set_key_with_counter(s2, v->kid, v->base_key,
                                                        v->base_key_len, v->ctr + 1),
                     SFRAME_OK);
        uint8_t *want = malloc(v->ct_len);
        CHECK_STATUS(hazmat_vector(v, v->ctr + 1, want, v->ct_len, &n), SFRAME_OK);
        CHECK(n == v->ct_len); /* CTR 17767 and 17768: both 2-byte counters */
        uint8_t *buf = malloc(v->ct_len); /* exactly the frame size */
        memcpy(buf, v->pt, v->pt_len);
        CHECK_STATUS(sframe_sender_protect_in_place(s2, v->metadata, v->metadata_len, buf,
                                                    v->ct_len, v->pt_len, &n),
                     SFRAME_OK);
        CHECK(n == v->ct_len && memcmp(buf, want, n) == 0);
        CHECK(memcmp(buf, v->ct, n) != 0); /* another counter: another frame */
        free(buf);
        free(want);
        sframe_sender_free(s2);
    }
}

/* Hazmat misuse: every error a caller can provoke, `*out_len` 0 and nothing written. */
static void test_hazmat_misuse(void) {
    uint8_t out[64];
    size_t n = 5;
    memset(out, 0xee, sizeof out);
    CHECK_STATUS(sframe_hazmat_protect_frame(9, 1, 0, KEY_A, sizeof KEY_A, NULL, 0, NULL, 0, out,
                                             sizeof out, &n),
                 SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE);
    CHECK(n == 0);
    n = 5;
    CHECK_STATUS(sframe_hazmat_protect_frame(4, 1, 0, KEY_A, 15, NULL, 0, NULL, 0, out,
                                             sizeof out, &n),
                 SFRAME_ERR_INVALID_KEY);
    CHECK(n == 0);
    n = 5;
    CHECK_STATUS(sframe_hazmat_protect_frame(4, 1, 0, NULL, 16, NULL, 0, NULL, 0, out, sizeof out,
                                             &n),
                 SFRAME_ERR_NULL_POINTER);
    CHECK(n == 0);
    CHECK_STATUS(sframe_hazmat_protect_frame(4, 1, 0, KEY_A, sizeof KEY_A, NULL, 0, NULL, 0, out,
                                             sizeof out, NULL),
                 SFRAME_ERR_NULL_POINTER);
    for (size_t i = 0; i < sizeof out; i++) CHECK(out[i] == 0xee);
    /* An empty frame: 1-byte header (KID 1, CTR 0 inline) and the tag. */
    CHECK_STATUS(sframe_hazmat_protect_frame(4, 1, 0, KEY_A, sizeof KEY_A, NULL, 0, NULL, 0, out,
                                             sizeof out, &n),
                 SFRAME_OK);
    CHECK(n == 1 + 16 && out[0] == 0x10);
}

static void test_tampered_frames(void) {
    for (size_t i = 0; i < SFRAME_VECTOR_COUNT; i++) {
        const SframeVector *v = &SFRAME_VECTORS[i];
        SframeReceiver *r = sframe_receiver_new(v->suite);
        CHECK_STATUS(sframe_receiver_add_key(r, v->kid, v->base_key, v->base_key_len), SFRAME_OK);
        uint64_t kid, ctr;
        size_t hl;
        CHECK_STATUS(sframe_header_parse(v->ct, v->ct_len, &kid, &ctr, &hl), SFRAME_OK);
        uint8_t *frame = malloc(v->ct_len);
        uint8_t *out = malloc(v->ct_len);
        size_t n = 1;
        uint64_t failures = 0;
        for (size_t pos = hl; pos < v->ct_len; pos++) {
            memcpy(frame, v->ct, v->ct_len);
            frame[pos] ^= 0x01;
            memset(out, 0xee, v->ct_len);
            CHECK_STATUS(sframe_receiver_unprotect(r, v->metadata, v->metadata_len, frame,
                                                   v->ct_len, out, v->ct_len, &n),
                         SFRAME_ERR_AUTHENTICATION_FAILED);
            failures++;
            CHECK(n == 0);
            /* Nothing decrypted is released: the plaintext area is wiped, the rest untouched. */
            int leaked = 0;
            for (size_t j = 0; j < v->ct_len; j++)
                leaked |= out[j] != (j < v->pt_len ? 0x00 : 0xee);
            CHECK(!leaked);
        }
        /* Tampered metadata fails too. */
        if (v->metadata_len > 0) {
            uint8_t *md = malloc(v->metadata_len);
            memcpy(md, v->metadata, v->metadata_len);
            md[0] ^= 0x80;
            CHECK_STATUS(sframe_receiver_unprotect(r, md, v->metadata_len, v->ct, v->ct_len, out,
                                                   v->ct_len, &n),
                         SFRAME_ERR_AUTHENTICATION_FAILED);
            failures++;
            free(md);
        }
        /* A truncated frame (shorter than header + tag) is malformed. */
        SframeSuiteInfo info;
        CHECK_STATUS(sframe_cipher_suite_info(v->suite, &info), SFRAME_OK);
        CHECK_STATUS(sframe_receiver_unprotect(r, v->metadata, v->metadata_len, v->ct,
                                               hl + info.tag_len - 1, out, v->ct_len, &n),
                     SFRAME_ERR_MALFORMED_FRAME);
        /* Failures never moved the window: the genuine frame still decrypts. */
        CHECK_STATUS(sframe_receiver_unprotect(r, v->metadata, v->metadata_len, v->ct, v->ct_len,
                                               out, v->ct_len, &n),
                     SFRAME_OK);
        CHECK(n == v->pt_len && memcmp(out, v->pt, n) == 0);
        SframeKeyUsage u;
        CHECK_STATUS(sframe_receiver_usage(r, v->kid, &u), SFRAME_OK);
        CHECK(u.frames == 1 && u.auth_failures == failures);
        free(out);
        free(frame);
        sframe_receiver_free(r);
    }
}

/* ---------------------------------------------------------------- sender */

static void test_round_trip_every_suite(void) {
    const uint8_t md[] = "rtp header bytes";
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        SframeSender *s;
        SframeReceiver *r;
        make_pair(ALL_SUITES[i], 1000 + i, &s, &r);
        for (size_t len = 0; len < 300; len += 37) {
            uint8_t *pt = malloc(len + 1);
            for (size_t j = 0; j < len; j++) pt[j] = (uint8_t)(j * 7 + i);
            size_t flen = 0;
            uint8_t *frame = protect_alloc(s, md, sizeof md, pt, len, &flen);
            CHECK(flen > len && flen <= sframe_sender_max_output_len(s, len));
            size_t cap = sframe_receiver_max_output_len(r, flen);
            uint8_t *out = malloc(cap + 1);
            size_t n = 0;
            CHECK_STATUS(sframe_receiver_unprotect(r, md, sizeof md, frame, flen, out, cap, &n),
                         SFRAME_OK);
            CHECK(n == len && memcmp(out, pt, len) == 0);
            free(out);
            free(frame);
            free(pt);
        }
        sframe_sender_free(s);
        sframe_receiver_free(r);
    }
}

static void test_sender_state(void) {
    SframeSender *s = sframe_sender_new(SFRAME_AES_128_GCM_SHA256_128);
    uint64_t kid = 5, ctr = 5;
    SframeKeyUsage u = {9, 9};
    CHECK_STATUS(sframe_sender_key_id(s, &kid), SFRAME_ERR_NO_KEY);
    CHECK_STATUS(sframe_sender_next_counter(s, &ctr), SFRAME_ERR_NO_KEY);
    CHECK_STATUS(sframe_sender_usage(s, &u), SFRAME_ERR_NO_KEY);
    CHECK(kid == 5 && ctr == 5 && u.frames == 9);
    uint8_t out[64];
    size_t n = 3;
    CHECK_STATUS(sframe_sender_protect(s, NULL, 0, (const uint8_t *)"x", 1, out, sizeof out, &n),
                 SFRAME_ERR_NO_KEY);
    CHECK(n == 0);

    CHECK_STATUS(sframe_sender_set_key(s, 42, KEY_A, sizeof KEY_A), SFRAME_OK);
    CHECK_STATUS(sframe_sender_key_id(s, &kid), SFRAME_OK);
    CHECK_STATUS(sframe_sender_next_counter(s, &ctr), SFRAME_OK);
    CHECK(kid == 42 && ctr == 0);
    for (int i = 0; i < 3; i++)
        CHECK_STATUS(sframe_sender_protect(s, NULL, 0, NULL, 0, out, sizeof out, &n), SFRAME_OK);
    CHECK_STATUS(sframe_sender_next_counter(s, &ctr), SFRAME_OK);
    CHECK_STATUS(sframe_sender_usage(s, &u), SFRAME_OK);
    CHECK(ctr == 3 && u.frames == 3 && u.auth_failures == 0);
    /* Re-setting the current KID keeps the counter (no nonce reuse). */
    CHECK_STATUS(sframe_sender_set_key(s, 42, KEY_A, sizeof KEY_A), SFRAME_OK);
    CHECK_STATUS(sframe_sender_next_counter(s, &ctr), SFRAME_OK);
    CHECK(ctr == 3);
    /* Rotation to a new KID restarts at 0; frames carry the new KID. */
    CHECK_STATUS(sframe_sender_set_key(s, 43, KEY_B, sizeof KEY_B), SFRAME_OK);
    CHECK_STATUS(sframe_sender_next_counter(s, &ctr), SFRAME_OK);
    CHECK(ctr == 0);
    CHECK_STATUS(sframe_sender_protect(s, NULL, 0, NULL, 0, out, sizeof out, &n), SFRAME_OK);
    uint64_t fk, fc;
    size_t hl;
    CHECK_STATUS(sframe_header_parse(out, n, &fk, &fc, &hl), SFRAME_OK);
    CHECK(fk == 43 && fc == 0);
    /* Going back to a key used before resumes its counter (never 0 again), and a given
     * counter never moves it backwards. */
    CHECK_STATUS(sframe_sender_set_key(s, 42, KEY_A, sizeof KEY_A), SFRAME_OK);
    CHECK_STATUS(sframe_sender_next_counter(s, &ctr), SFRAME_OK);
    CHECK(ctr == 3);
    CHECK_STATUS(sframe_sender_set_key_with_counter(s, 42, KEY_A, sizeof KEY_A, 1), SFRAME_OK);
    CHECK_STATUS(sframe_sender_next_counter(s, &ctr), SFRAME_OK);
    CHECK(ctr == 3);
    CHECK_STATUS(sframe_sender_set_key(s, 43, KEY_B, sizeof KEY_B), SFRAME_OK);

    /* Base keys shorter than SFRAME_MIN_BASE_KEY_LEN are refused; the old key stays. */
    CHECK_STATUS(sframe_sender_set_key(s, 44, KEY_A, SFRAME_MIN_BASE_KEY_LEN - 1),
                 SFRAME_ERR_INVALID_KEY);
    CHECK_STATUS(sframe_sender_set_key(s, 44, NULL, 0), SFRAME_ERR_INVALID_KEY);
    CHECK_STATUS(sframe_sender_set_key_with_counter(s, 44, KEY_A, 3, 0), SFRAME_ERR_INVALID_KEY);
    CHECK_STATUS(sframe_sender_key_id(s, &kid), SFRAME_OK);
    CHECK(kid == 43);
    sframe_sender_free(s);
}

static void test_counter_exhausted(void) {
    SframeSender *s = sframe_sender_new(SFRAME_AES_128_CTR_HMAC_SHA256_80);
    CHECK_STATUS(sframe_sender_set_key_with_counter(s, 1, KEY_A, sizeof KEY_A, UINT64_MAX),
                 SFRAME_OK);
    uint8_t out[64];
    size_t n = 0;
    uint64_t ctr = 0;
    CHECK_STATUS(sframe_sender_next_counter(s, &ctr), SFRAME_OK);
    CHECK(ctr == UINT64_MAX);
    CHECK_STATUS(sframe_sender_protect(s, NULL, 0, (const uint8_t *)"last", 4, out, sizeof out,
                                       &n),
                 SFRAME_OK);
    CHECK(n == 1 + 8 + 4 + 10);
    CHECK_STATUS(sframe_sender_next_counter(s, &ctr), SFRAME_ERR_COUNTER_EXHAUSTED);
    CHECK_STATUS(sframe_sender_protect(s, NULL, 0, (const uint8_t *)"more", 4, out, sizeof out,
                                       &n),
                 SFRAME_ERR_COUNTER_EXHAUSTED);
    CHECK(n == 0);
    /* Rotation recovers. */
    CHECK_STATUS(sframe_sender_set_key(s, 2, KEY_A, sizeof KEY_A), SFRAME_OK);
    CHECK_STATUS(sframe_sender_protect(s, NULL, 0, (const uint8_t *)"more", 4, out, sizeof out,
                                       &n),
                 SFRAME_OK);
    sframe_sender_free(s);
}

static void test_sender_usage_limit(void) {
    SframeSender *s = sframe_sender_new(SFRAME_AES_256_GCM_SHA512_128);
    CHECK_STATUS(sframe_sender_set_key(s, 9, KEY_B, sizeof KEY_B), SFRAME_OK);
    CHECK_STATUS(sframe_sender_set_max_encryptions(s, 2), SFRAME_OK);
    uint8_t out[64];
    size_t n;
    CHECK_STATUS(sframe_sender_protect(s, NULL, 0, NULL, 0, out, sizeof out, &n), SFRAME_OK);
    CHECK_STATUS(sframe_sender_protect(s, NULL, 0, NULL, 0, out, sizeof out, &n), SFRAME_OK);
    CHECK_STATUS(sframe_sender_protect(s, NULL, 0, NULL, 0, out, sizeof out, &n),
                 SFRAME_ERR_KEY_USAGE_LIMIT);
    CHECK_STATUS(sframe_sender_protect_in_place(s, NULL, 0, out, sizeof out, 0, &n),
                 SFRAME_ERR_KEY_USAGE_LIMIT);
    CHECK_STATUS(sframe_sender_set_max_encryptions(NULL, 2), SFRAME_ERR_NULL_POINTER);
    sframe_sender_free(s);
}

static void test_short_output_buffers(void) {
    const uint8_t pt[100] = {1, 2, 3};
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        SframeSender *s;
        SframeReceiver *r;
        make_pair(ALL_SUITES[i], 77, &s, &r);
        size_t flen = 0;
        uint8_t *frame = protect_alloc(s, NULL, 0, pt, sizeof pt, &flen);
        /* Every out_cap below the frame size: refused, nothing written, no counter used. */
        uint8_t *out = malloc(flen + 16);
        for (size_t cap = 0; cap < flen; cap++) {
            memset(out, 0xcc, flen + 16);
            size_t n = 5;
            CHECK_STATUS(sframe_sender_protect(s, NULL, 0, pt, sizeof pt, out, cap, &n),
                         SFRAME_ERR_BUFFER_TOO_SMALL);
            CHECK(n == 0);
            for (size_t j = 0; j < flen + 16; j++) CHECK(out[j] == 0xcc);
        }
        uint64_t ctr = 0;
        CHECK_STATUS(sframe_sender_next_counter(s, &ctr), SFRAME_OK);
        CHECK(ctr == 1);
        /* Exactly the frame size works (in a buffer of exactly that size). */
        uint8_t *exact = malloc(flen);
        size_t n = 0;
        CHECK_STATUS(sframe_sender_protect(s, NULL, 0, pt, sizeof pt, exact, flen, &n), SFRAME_OK);
        CHECK(n == flen);
        free(exact);
        /* Receiver: plaintext needs 100 bytes; 99 is too small and leaks nothing. */
        for (size_t cap = 0; cap < sizeof pt; cap += 33) {
            memset(out, 0xcc, flen + 16);
            CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, frame, flen, out, cap, &n),
                         SFRAME_ERR_BUFFER_TOO_SMALL);
            for (size_t j = 0; j < flen + 16; j++) CHECK(out[j] == 0xcc);
        }
        CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, frame, flen, out, sizeof pt - 1, &n),
                     SFRAME_ERR_BUFFER_TOO_SMALL);
        uint8_t *pt_exact = malloc(sizeof pt);
        CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, frame, flen, pt_exact, sizeof pt, &n),
                     SFRAME_OK);
        CHECK(n == sizeof pt && memcmp(pt_exact, pt, n) == 0);
        free(pt_exact);
        /* In place with too little room. */
        uint8_t *buf = malloc(flen);
        memcpy(buf, pt, sizeof pt);
        CHECK_STATUS(sframe_sender_protect_in_place(s, NULL, 0, buf, flen - 1, sizeof pt, &n),
                     SFRAME_ERR_BUFFER_TOO_SMALL);
        CHECK(memcmp(buf, pt, sizeof pt) == 0);
        CHECK_STATUS(sframe_sender_protect_in_place(s, NULL, 0, buf, 10, sizeof pt, &n),
                     SFRAME_ERR_BUFFER_TOO_SMALL); /* plaintext_len > buf_cap */
        free(buf);
        free(out);
        free(frame);
        sframe_sender_free(s);
        sframe_receiver_free(r);
    }
}

static void test_aliasing_buffers(void) {
    SframeSender *s;
    SframeReceiver *r;
    make_pair(SFRAME_AES_128_CTR_HMAC_SHA256_64, 3, &s, &r);
    uint8_t buf[128];
    memset(buf, 0, sizeof buf);
    memcpy(buf, "aliased plaintext", 17);
    size_t n = 0, m = 0;
    /* out == plaintext: the library copies the input first, the result is a valid frame. */
    CHECK_STATUS(sframe_sender_protect(s, buf + 10, 4, buf, 17, buf, sizeof buf, &n), SFRAME_OK);
    uint8_t md[4];
    /* metadata was read before out was written: it was the original bytes 10..13 */
    memcpy(md, (const uint8_t *)"aliased plaintext" + 10, 4);
    uint8_t out[128];
    CHECK_STATUS(sframe_receiver_unprotect(r, md, 4, buf, n, out, sizeof out, &m), SFRAME_OK);
    CHECK(m == 17 && memcmp(out, "aliased plaintext", 17) == 0);
    /* unprotect with out == ciphertext. */
    size_t flen = 0;
    uint8_t *frame = protect_alloc(s, NULL, 0, (const uint8_t *)"again", 5, &flen);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, frame, flen, frame, flen, &m), SFRAME_OK);
    CHECK(m == 5 && memcmp(frame, "again", 5) == 0);
    free(frame);
    sframe_sender_free(s);
    sframe_receiver_free(r);
}

/* One KID per sender: two live senders given the same key material and KID would count from
 * 0 under one key and reuse every nonce; the second is refused with KEY_IN_USE (in the whole
 * process: tests/nonce_model.rs checks senders on several threads). */
static void test_key_in_use(void) {
    const SframeMlsKidLayout audio_track = {4, 6, 0}, video_track = {4, 6, 1};
    static const uint8_t secret[16] = "MLS exporter 20";
    SframeSender *audio = sframe_sender_new(SFRAME_AES_128_GCM_SHA256_128);
    SframeSender *video = sframe_sender_new(SFRAME_AES_128_GCM_SHA256_128);
    SframeSender *other_suite = sframe_sender_new(SFRAME_AES_256_GCM_SHA512_128);
    uint8_t out[64];
    size_t n = 9;
    uint64_t kid = 0, ctr = 0, kid_a = 0, kid_v = 0;
    CHECK_STATUS(sframe_sender_set_key(audio, 0x10, KEY_A, sizeof KEY_A), SFRAME_OK);
    CHECK_STATUS(sframe_sender_protect(audio, NULL, 0, NULL, 0, out, sizeof out, &n), SFRAME_OK);
    /* Same key and KID on the second encryptor: refused, it keeps no key. */
    CHECK_STATUS(sframe_sender_set_key(video, 0x10, KEY_A, sizeof KEY_A), SFRAME_ERR_KEY_IN_USE);
    CHECK_STATUS(sframe_sender_set_key_with_counter(video, 0x10, KEY_A, sizeof KEY_A, 1000),
                 SFRAME_ERR_KEY_IN_USE);
    CHECK_STATUS(sframe_sender_protect(video, NULL, 0, NULL, 0, out, sizeof out, &n),
                 SFRAME_ERR_NO_KEY);
    CHECK(n == 0);
    /* Its own KID (participant 1, track 1) works; the refusal leaves it unchanged. */
    CHECK_STATUS(sframe_sender_set_key(video, 0x11, KEY_A, sizeof KEY_A), SFRAME_OK);
    CHECK_STATUS(sframe_sender_protect(video, NULL, 0, NULL, 0, out, sizeof out, &n), SFRAME_OK);
    CHECK_STATUS(sframe_sender_set_key(video, 0x10, KEY_A, sizeof KEY_A), SFRAME_ERR_KEY_IN_USE);
    CHECK_STATUS(sframe_sender_key_id(video, &kid), SFRAME_OK);
    CHECK_STATUS(sframe_sender_next_counter(video, &ctr), SFRAME_OK);
    CHECK(kid == 0x11 && ctr == 1);
    /* Another suite derives another key: not in use. */
    CHECK_STATUS(sframe_sender_set_key(other_suite, 0x10, KEY_A, sizeof KEY_A), SFRAME_OK);
    /* Ratchet and MLS keys alike; the MLS context carries the track. */
    CHECK_STATUS(sframe_sender_set_ratcheting_key(audio, 4, 3, KEY_B, sizeof KEY_B, &kid),
                 SFRAME_OK);
    CHECK_STATUS(sframe_sender_set_ratcheting_key(video, 4, 3, KEY_B, sizeof KEY_B, &kid),
                 SFRAME_ERR_KEY_IN_USE);
    CHECK_STATUS(sframe_sender_set_mls_key(audio, &audio_track, secret, sizeof secret, 20, 3,
                                           &kid_a),
                 SFRAME_OK);
    CHECK_STATUS(sframe_sender_set_mls_key(video, &audio_track, secret, sizeof secret, 20, 3,
                                           &kid_v),
                 SFRAME_ERR_KEY_IN_USE);
    CHECK_STATUS(sframe_sender_set_mls_key(video, &video_track, secret, sizeof secret, 20, 3,
                                           &kid_v),
                 SFRAME_OK);
    CHECK(kid_a == 0x34 && kid_v == ((1u << 10) | 0x34));
    /* Freed: its keys are free again, and their counters stay with the process: a successor
     * resumes where audio stood (1), even given a lower counter. */
    sframe_sender_free(audio);
    CHECK_STATUS(sframe_sender_set_key_with_counter(video, 0x10, KEY_A, sizeof KEY_A, 0),
                 SFRAME_OK);
    CHECK_STATUS(sframe_sender_protect(video, NULL, 0, NULL, 0, out, sizeof out, &n), SFRAME_OK);
    uint64_t fk = 0, fc = 0;
    size_t hl = 0;
    CHECK_STATUS(sframe_header_parse(out, n, &fk, &fc, &hl), SFRAME_OK);
    CHECK(fk == 0x10 && fc == 1);
    sframe_sender_free(video);
    sframe_sender_free(other_suite);
}

/* ---------------------------------------------------------------- receiver */

static void test_receiver_keys(void) {
    SframeSender *s1 = sframe_sender_new(SFRAME_AES_128_GCM_SHA256_128);
    SframeSender *s2 = sframe_sender_new(SFRAME_AES_128_GCM_SHA256_128);
    SframeReceiver *r = sframe_receiver_new(SFRAME_AES_128_GCM_SHA256_128);
    CHECK_STATUS(sframe_sender_set_key(s1, 1, KEY_A, sizeof KEY_A), SFRAME_OK);
    CHECK_STATUS(sframe_sender_set_key(s2, 1ULL << 40, KEY_B, sizeof KEY_B), SFRAME_OK);
    CHECK(sframe_receiver_key_count(r) == 0);
    CHECK(!sframe_receiver_has_key(r, 1));
    size_t l1, l2, n;
    uint8_t *f1 = protect_alloc(s1, NULL, 0, (const uint8_t *)"one", 3, &l1);
    uint8_t *f2 = protect_alloc(s2, NULL, 0, (const uint8_t *)"two", 3, &l2);
    uint8_t out[64];
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, f1, l1, out, sizeof out, &n),
                 SFRAME_ERR_UNKNOWN_KEY_ID);
    CHECK_STATUS(sframe_receiver_add_key(r, 1, KEY_A, sizeof KEY_A), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_add_key(r, 1ULL << 40, KEY_B, sizeof KEY_B), SFRAME_OK);
    CHECK(sframe_receiver_key_count(r) == 2);
    CHECK(sframe_receiver_has_key(r, 1) && sframe_receiver_has_key(r, 1ULL << 40));
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, f2, l2, out, sizeof out, &n), SFRAME_OK);
    CHECK(n == 3 && memcmp(out, "two", 3) == 0);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, f1, l1, out, sizeof out, &n), SFRAME_OK);
    CHECK(n == 3 && memcmp(out, "one", 3) == 0);
    /* Wrong key under a known KID: authentication fails. */
    SframeReceiver *wrong = sframe_receiver_new(SFRAME_AES_128_GCM_SHA256_128);
    CHECK_STATUS(sframe_receiver_add_key(wrong, 1, KEY_B, sizeof KEY_B), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_unprotect(wrong, NULL, 0, f1, l1, out, sizeof out, &n),
                 SFRAME_ERR_AUTHENTICATION_FAILED);
    sframe_receiver_free(wrong);
    /* Removing keys. */
    CHECK_STATUS(sframe_receiver_remove_key(r, 1), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_remove_key(r, 1), SFRAME_ERR_UNKNOWN_KEY_ID);
    CHECK(!sframe_receiver_has_key(r, 1) && sframe_receiver_key_count(r) == 1);
    SframeKeyUsage u;
    CHECK_STATUS(sframe_receiver_usage(r, 1, &u), SFRAME_ERR_UNKNOWN_KEY_ID);
    CHECK_STATUS(sframe_receiver_usage(r, 1ULL << 40, &u), SFRAME_OK);
    CHECK(u.frames == 1);
    CHECK_STATUS(sframe_receiver_clear(r), SFRAME_OK);
    CHECK(sframe_receiver_key_count(r) == 0);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, f2, l2, out, sizeof out, &n),
                 SFRAME_ERR_UNKNOWN_KEY_ID);
    CHECK_STATUS(sframe_receiver_add_key(r, 2, KEY_A, 15), SFRAME_ERR_INVALID_KEY);
    CHECK_STATUS(sframe_receiver_add_key(r, 2, NULL, 0), SFRAME_ERR_INVALID_KEY);
    CHECK(sframe_receiver_key_count(r) == 0);
    /* Re-adding the same key is a no-op: the replay window stays (a re-announced key never
     * lets old frames replay). */
    CHECK_STATUS(sframe_receiver_add_key(r, 1, KEY_A, sizeof KEY_A), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, f1, l1, out, sizeof out, &n), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, f1, l1, out, sizeof out, &n),
                 SFRAME_ERR_REPLAY);
    CHECK_STATUS(sframe_receiver_add_key(r, 1, KEY_A, sizeof KEY_A), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, f1, l1, out, sizeof out, &n),
                 SFRAME_ERR_REPLAY);
    CHECK_STATUS(sframe_receiver_usage(r, 1, &u), SFRAME_OK);
    CHECK(u.frames == 1);
    /* Another base key for the KID replaces the key (fresh state): f1 no longer authenticates. */
    CHECK_STATUS(sframe_receiver_add_key(r, 1, KEY_B, sizeof KEY_B), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, f1, l1, out, sizeof out, &n),
                 SFRAME_ERR_AUTHENTICATION_FAILED);
    free(f1);
    free(f2);
    sframe_sender_free(s1);
    sframe_sender_free(s2);
    sframe_receiver_free(r);
}

/* A receiver for `suite` with the config `cfg` and KEY_A under `kid`. */
static SframeReceiver *receiver_with(const SframeReceiverConfig *cfg, uint64_t kid) {
    SframeReceiver *r = NULL;
    CHECK_STATUS(sframe_receiver_new_with_config(cfg, &r), SFRAME_OK);
    CHECK(r != NULL);
    CHECK_STATUS(sframe_receiver_add_key(r, kid, KEY_A, sizeof KEY_A), SFRAME_OK);
    return r;
}

static void test_receiver_config(void) {
    SframeReceiverConfig cfg, got;
    SframeReceiver *r = (SframeReceiver *)&cfg; /* must be overwritten with NULL on error */
    CHECK_STATUS(sframe_receiver_config_init(&cfg, 99), SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE);
    CHECK_STATUS(sframe_receiver_config_init(NULL, 1), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_config_init(&cfg, SFRAME_AES_128_GCM_SHA256_128), SFRAME_OK);
    CHECK(cfg.cipher_suite == SFRAME_AES_128_GCM_SHA256_128);
    CHECK(cfg.replay_window == SFRAME_DEFAULT_REPLAY_WINDOW);
    CHECK(cfg.max_ratchet_lookahead == SFRAME_DEFAULT_MAX_RATCHET_LOOKAHEAD);
    CHECK(!cfg.mls && cfg.mls_epochs_kept == SFRAME_DEFAULT_MLS_EPOCHS_KEPT);
    CHECK(cfg.max_auth_failures == (uint64_t)1 << 36);
    /* Each out-of-range setting is refused, and no receiver is made: *r, set to a non-NULL
     * sentinel before every call, comes back NULL. */
#define CHECK_REFUSED(config, status)                                                   \
    do {                                                                                \
        r = (SframeReceiver *)&cfg;                                                     \
        CHECK_STATUS(sframe_receiver_new_with_config((config), &r), (status));         \
        CHECK(r == NULL);                                                               \
    } while (0)
    SframeReceiverConfig bad = cfg;
    bad.replay_window = SFRAME_MAX_REPLAY_WINDOW + 1;
    CHECK_REFUSED(&bad, SFRAME_ERR_INVALID_CONFIG);
    bad = cfg;
    bad.max_ratchet_lookahead = SFRAME_MAX_RATCHET_LOOKAHEAD + 1;
    CHECK_REFUSED(&bad, SFRAME_ERR_INVALID_CONFIG);
    bad = cfg;
    bad.mls = true;
    bad.mls_layout.epoch_bits = 0; /* E must be 1..32 */
    bad.mls_layout.index_bits = 6;
    CHECK_REFUSED(&bad, SFRAME_ERR_INVALID_CONFIG);
    bad.mls_layout.epoch_bits = 4;
    bad.mls_epochs_kept = 0;
    CHECK_REFUSED(&bad, SFRAME_ERR_INVALID_CONFIG);
    bad.mls_epochs_kept = SFRAME_MAX_MLS_EPOCHS + 1;
    CHECK_REFUSED(&bad, SFRAME_ERR_INVALID_CONFIG);
    bad = cfg;
    bad.cipher_suite = 0;
    CHECK_REFUSED(&bad, SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE);
    CHECK_REFUSED(NULL, SFRAME_ERR_NULL_POINTER);
#undef CHECK_REFUSED
    CHECK_STATUS(sframe_receiver_new_with_config(&cfg, NULL), SFRAME_ERR_NULL_POINTER);
    /* A valid config is kept as given. */
    cfg.replay_window = 4;
    cfg.max_auth_failures = 7;
    cfg.mls = true;
    cfg.mls_layout.epoch_bits = 4;
    cfg.mls_layout.index_bits = 6;
    cfg.mls_layout.context = 1;
    cfg.mls_epochs_kept = 2;
    CHECK_STATUS(sframe_receiver_new_with_config(&cfg, &r), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_config(r, &got), SFRAME_OK);
    CHECK(got.replay_window == 4 && got.max_auth_failures == 7 && got.mls);
    CHECK(got.mls_layout.epoch_bits == 4 && got.mls_layout.index_bits == 6);
    CHECK(got.mls_layout.context == 1 && got.mls_epochs_kept == 2);
    CHECK_STATUS(sframe_receiver_config(NULL, &got), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_config(r, NULL), SFRAME_ERR_NULL_POINTER);
    sframe_receiver_free(r);
}

static void test_replay_window(void) {
    SframeSender *s = sframe_sender_new(SFRAME_AES_128_CTR_HMAC_SHA256_80);
    CHECK_STATUS(sframe_sender_set_key(s, 8, KEY_A, sizeof KEY_A), SFRAME_OK);
    SframeReceiverConfig cfg;
    CHECK_STATUS(sframe_receiver_config_init(&cfg, SFRAME_AES_128_CTR_HMAC_SHA256_80), SFRAME_OK);
    cfg.replay_window = 4;
    SframeReceiver *r = receiver_with(&cfg, 8);
    /* Frames 0..9; deliver 9 first: 0..5 are then too old for a window of 4. */
    uint8_t *frames[10];
    size_t lens[10], n;
    uint8_t out[64];
    for (int i = 0; i < 10; i++)
        frames[i] = protect_alloc(s, NULL, 0, (const uint8_t *)"f", 1, &lens[i]);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, frames[9], lens[9], out, sizeof out, &n),
                 SFRAME_OK);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, frames[7], lens[7], out, sizeof out, &n),
                 SFRAME_OK);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, frames[7], lens[7], out, sizeof out, &n),
                 SFRAME_ERR_REPLAY);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, frames[2], lens[2], out, sizeof out, &n),
                 SFRAME_ERR_REPLAY);
    /* Window 0: replay protection off. */
    cfg.replay_window = 0;
    SframeReceiver *r0 = receiver_with(&cfg, 8);
    CHECK_STATUS(sframe_receiver_unprotect(r0, NULL, 0, frames[7], lens[7], out, sizeof out, &n),
                 SFRAME_OK);
    CHECK_STATUS(sframe_receiver_unprotect(r0, NULL, 0, frames[7], lens[7], out, sizeof out, &n),
                 SFRAME_OK);
    for (int i = 0; i < 10; i++) free(frames[i]);
    sframe_sender_free(s);
    sframe_receiver_free(r);
    sframe_receiver_free(r0);
}

static void test_receiver_auth_failure_limit(void) {
    SframeSender *s = sframe_sender_new(SFRAME_AES_128_CTR_HMAC_SHA256_32);
    CHECK_STATUS(sframe_sender_set_key(s, 12, KEY_A, sizeof KEY_A), SFRAME_OK);
    SframeReceiverConfig cfg;
    CHECK_STATUS(sframe_receiver_config_init(&cfg, SFRAME_AES_128_CTR_HMAC_SHA256_32), SFRAME_OK);
    CHECK(cfg.max_auth_failures == 1 << 12); /* the 4-byte tag suites' default */
    cfg.max_auth_failures = 2;
    SframeReceiver *r = receiver_with(&cfg, 12);
    size_t flen, n;
    uint8_t *frame = protect_alloc(s, NULL, 0, (const uint8_t *)"payload", 7, &flen);
    uint8_t out[64];
    frame[flen - 1] ^= 1;
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, frame, flen, out, sizeof out, &n),
                 SFRAME_ERR_AUTHENTICATION_FAILED);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, frame, flen, out, sizeof out, &n),
                 SFRAME_ERR_AUTHENTICATION_FAILED);
    frame[flen - 1] ^= 1;
    /* Two forgeries spent the key: even the genuine frame is refused now. */
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, frame, flen, out, sizeof out, &n),
                 SFRAME_ERR_KEY_USAGE_LIMIT);
    SframeKeyUsage u;
    CHECK_STATUS(sframe_receiver_usage(r, 12, &u), SFRAME_OK);
    CHECK(u.frames == 0 && u.auth_failures == 2);
    free(frame);
    sframe_sender_free(s);
    sframe_receiver_free(r);
}

static void test_in_place_misuse(void) {
    SframeSender *s;
    SframeReceiver *r;
    make_pair(SFRAME_AES_128_GCM_SHA256_128, 4, &s, &r);
    uint8_t buf[64] = "in place";
    size_t n = 0, off = 9, len = 9;
    CHECK_STATUS(sframe_sender_protect_in_place(s, NULL, 0, buf, sizeof buf, 8, &n), SFRAME_OK);
    uint8_t saved[64];
    memcpy(saved, buf, n);
    buf[n - 1] ^= 0x10;
    CHECK_STATUS(sframe_receiver_unprotect_in_place(r, NULL, 0, buf, n, &off, &len),
                 SFRAME_ERR_AUTHENTICATION_FAILED);
    CHECK(off == 0 && len == 0);
    buf[n - 1] ^= 0x10;
    CHECK(memcmp(buf, saved, n) == 0); /* frame unchanged on error */
    CHECK_STATUS(sframe_receiver_unprotect_in_place(r, NULL, 0, buf, n, NULL, &len),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_unprotect_in_place(r, NULL, 0, buf, n, &off, NULL),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_unprotect_in_place(r, NULL, 0, NULL, n, &off, &len),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_unprotect_in_place(r, NULL, 0, NULL, 0, &off, &len),
                 SFRAME_ERR_MALFORMED_FRAME);
    CHECK_STATUS(sframe_receiver_unprotect_in_place(NULL, NULL, 0, buf, n, &off, &len),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_unprotect_in_place(r, NULL, 5, buf, n, &off, &len),
                 SFRAME_ERR_NULL_POINTER);
    /* Metadata inside the frame buffer is copied before decrypting. */
    CHECK_STATUS(sframe_receiver_unprotect_in_place(r, buf, 0, buf, n, &off, &len), SFRAME_OK);
    CHECK(off == 1 && len == 8 && memcmp(buf + off, "in place", 8) == 0);
    CHECK_STATUS(sframe_sender_protect_in_place(NULL, NULL, 0, buf, sizeof buf, 8, &n),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sender_protect_in_place(s, NULL, 0, NULL, 8, 8, &n),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sender_protect_in_place(s, NULL, 0, buf, sizeof buf, 8, NULL),
                 SFRAME_ERR_NULL_POINTER);
    /* Metadata overlapping the in-place buffer: the frame must authenticate the original. */
    memcpy(buf, "metadata", 8);
    CHECK_STATUS(sframe_sender_protect_in_place(s, buf, 8, buf, sizeof buf, 8, &n), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_unprotect_in_place(r, (const uint8_t *)"metadata", 8, buf, n,
                                                    &off, &len),
                 SFRAME_OK);
    CHECK(len == 8 && memcmp(buf + off, "metadata", 8) == 0);
    sframe_sender_free(s);
    sframe_receiver_free(r);
}

/* ---------------------------------------------------------------- key management */

static void test_ratchet(void) {
    SframeSender *s = sframe_sender_new(SFRAME_AES_128_GCM_SHA256_128);
    SframeReceiver *r = sframe_receiver_new(SFRAME_AES_128_GCM_SHA256_128);
    uint64_t kid = 0, kid1 = 0, kid2 = 0;
    CHECK_STATUS(sframe_sender_ratchet(s, &kid), SFRAME_ERR_NO_KEY); /* no chain yet */
    CHECK_STATUS(sframe_sender_ratchet(NULL, &kid), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sender_set_ratcheting_key(s, 0, 5, KEY_A, sizeof KEY_A, &kid),
                 SFRAME_ERR_INVALID_CONFIG);
    /* R = 1 cannot tell a late frame from a future one: refused (R >= 2). */
    CHECK_STATUS(sframe_sender_set_ratcheting_key(s, 1, 5, KEY_A, sizeof KEY_A, &kid),
                 SFRAME_ERR_INVALID_CONFIG);
    CHECK_STATUS(sframe_sender_set_ratcheting_key(s, 4, 5, KEY_A, 8, &kid), SFRAME_ERR_INVALID_KEY);
    CHECK_STATUS(sframe_sender_set_ratcheting_key(NULL, 4, 5, KEY_A, 16, &kid),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sender_set_ratcheting_key(s, SFRAME_DEFAULT_RATCHET_BITS, 5, KEY_A,
                                                  sizeof KEY_A, &kid),
                 SFRAME_OK);
    CHECK(kid == (5u << SFRAME_DEFAULT_RATCHET_BITS)); /* generation 5, step 0 */
    CHECK_STATUS(sframe_receiver_add_ratcheting_key(r, 0, kid, KEY_A, sizeof KEY_A),
                 SFRAME_ERR_INVALID_CONFIG);
    CHECK_STATUS(sframe_receiver_add_ratcheting_key(r, 1, kid, KEY_A, sizeof KEY_A),
                 SFRAME_ERR_INVALID_CONFIG);
    CHECK_STATUS(sframe_receiver_add_ratcheting_key(NULL, 4, kid, KEY_A, sizeof KEY_A),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_add_ratcheting_key(r, SFRAME_DEFAULT_RATCHET_BITS, kid, KEY_A,
                                                    sizeof KEY_A),
                 SFRAME_OK);
    size_t l0, l1, l2, n;
    uint8_t out[64];
    uint8_t *f0 = protect_alloc(s, NULL, 0, (const uint8_t *)"step0", 5, &l0);
    CHECK_STATUS(sframe_sender_ratchet(s, &kid1), SFRAME_OK);
    CHECK(kid1 == kid + 1);
    uint8_t *f1 = protect_alloc(s, NULL, 0, (const uint8_t *)"step1", 5, &l1);
    CHECK_STATUS(sframe_sender_ratchet(s, NULL), SFRAME_OK); /* kid output is optional */
    CHECK_STATUS(sframe_sender_key_id(s, &kid2), SFRAME_OK);
    CHECK(kid2 == kid + 2);
    uint64_t ctr = 9;
    CHECK_STATUS(sframe_sender_next_counter(s, &ctr), SFRAME_OK);
    CHECK(ctr == 0); /* each step starts its counter again */
    uint8_t *f2 = protect_alloc(s, NULL, 0, (const uint8_t *)"step2", 5, &l2);
    /* The receiver derives the later steps forward from the step-0 key. */
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, f0, l0, out, sizeof out, &n), SFRAME_OK);
    CHECK(n == 5 && memcmp(out, "step0", 5) == 0);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, f1, l1, out, sizeof out, &n), SFRAME_OK);
    CHECK(n == 5 && memcmp(out, "step1", 5) == 0);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, f2, l2, out, sizeof out, &n), SFRAME_OK);
    CHECK(n == 5 && memcmp(out, "step2", 5) == 0);
    CHECK(sframe_receiver_has_key(r, kid2));
    /* Installing the chain again after another key resumes each step key's counter: step 0
     * used counter 0, step 1 counter 0, so they continue at 1 (never 0 again). */
    CHECK_STATUS(sframe_sender_set_key(s, 7, KEY_B, sizeof KEY_B), SFRAME_OK);
    CHECK_STATUS(sframe_sender_set_ratcheting_key(s, SFRAME_DEFAULT_RATCHET_BITS, 5, KEY_A,
                                                  sizeof KEY_A, &kid),
                 SFRAME_OK);
    CHECK_STATUS(sframe_sender_next_counter(s, &ctr), SFRAME_OK);
    CHECK(kid == (5u << SFRAME_DEFAULT_RATCHET_BITS) && ctr == 1);
    CHECK_STATUS(sframe_sender_ratchet(s, &kid1), SFRAME_OK);
    CHECK_STATUS(sframe_sender_next_counter(s, &ctr), SFRAME_OK);
    CHECK(kid1 == kid + 1 && ctr == 1);
    free(f0);
    free(f1);
    free(f2);
    sframe_sender_free(s);
    sframe_receiver_free(r);
}

static void test_mls_epochs(void) {
    static const uint8_t epoch14[16] = "MLS exporter 14";
    const SframeMlsKidLayout layout = {4, 6, 0};
    const SframeMlsKidLayout bad = {0, 6, 0};
    SframeSender *alice = sframe_sender_new(SFRAME_AES_128_GCM_SHA256_128);
    SframeSender *carol = sframe_sender_new(SFRAME_AES_128_GCM_SHA256_128);
    SframeReceiver *plain = sframe_receiver_new(SFRAME_AES_128_GCM_SHA256_128);
    uint64_t kid_a = 0, kid_c = 0;

    CHECK_STATUS(sframe_receiver_add_mls_epoch(plain, 14, epoch14, sizeof epoch14),
                 SFRAME_ERR_INVALID_CONFIG); /* no MLS layout in its config */
    sframe_receiver_free(plain);
    SframeReceiverConfig cfg;
    CHECK_STATUS(sframe_receiver_config_init(&cfg, SFRAME_AES_128_GCM_SHA256_128), SFRAME_OK);
    cfg.mls = true;
    cfg.mls_layout = bad;
    SframeReceiver *bob = NULL;
    CHECK_STATUS(sframe_receiver_new_with_config(&cfg, &bob), SFRAME_ERR_INVALID_CONFIG);
    cfg.mls_layout = layout;
    CHECK_STATUS(sframe_receiver_new_with_config(&cfg, &bob), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_add_mls_epoch(bob, 14, epoch14, 15), SFRAME_ERR_INVALID_KEY);
    CHECK_STATUS(sframe_receiver_add_mls_epoch(bob, 14, NULL, 16), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_add_mls_epoch(NULL, 14, epoch14, 16), SFRAME_ERR_NULL_POINTER);
    CHECK(!sframe_receiver_has_mls_epoch(bob, 14));
    CHECK_STATUS(sframe_receiver_add_mls_epoch(bob, 14, epoch14, sizeof epoch14), SFRAME_OK);
    CHECK(sframe_receiver_has_mls_epoch(bob, 14));
    CHECK(!sframe_receiver_has_mls_epoch(NULL, 14));

    /* KID = (leaf << E) | (epoch mod 2^E): leaf 3, epoch 14, E = 4 -> 0x3e (RFC 9605 §5.2). */
    CHECK_STATUS(sframe_sender_set_mls_key(alice, &layout, epoch14, sizeof epoch14, 14, 3, &kid_a),
                 SFRAME_OK);
    CHECK(kid_a == 0x3e);
    CHECK_STATUS(sframe_sender_set_mls_key(carol, &layout, epoch14, sizeof epoch14, 14, 5, &kid_c),
                 SFRAME_OK);
    CHECK(kid_c == 0x5e);
    CHECK_STATUS(sframe_sender_set_mls_key(carol, &layout, epoch14, sizeof epoch14, 14, 64, NULL),
                 SFRAME_ERR_INVALID_CONFIG); /* leaf index needs more than 6 bits */
    CHECK_STATUS(sframe_sender_set_mls_key(carol, &bad, epoch14, sizeof epoch14, 14, 5, NULL),
                 SFRAME_ERR_INVALID_CONFIG);
    CHECK_STATUS(sframe_sender_set_mls_key(carol, NULL, epoch14, sizeof epoch14, 14, 5, NULL),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sender_set_mls_key(carol, &layout, epoch14, 3, 14, 5, NULL),
                 SFRAME_ERR_INVALID_KEY);
    CHECK_STATUS(sframe_sender_set_mls_key(NULL, &layout, epoch14, 16, 14, 5, NULL),
                 SFRAME_ERR_NULL_POINTER);

    /* Bob derives each member's key on demand from the frame's KID. */
    size_t la, lc, n;
    uint8_t out[64];
    uint8_t *fa = protect_alloc(alice, NULL, 0, (const uint8_t *)"from alice", 10, &la);
    uint8_t *fc = protect_alloc(carol, NULL, 0, (const uint8_t *)"from carol", 10, &lc);
    CHECK_STATUS(sframe_receiver_unprotect(bob, NULL, 0, fa, la, out, sizeof out, &n), SFRAME_OK);
    CHECK(n == 10 && memcmp(out, "from alice", 10) == 0);
    CHECK_STATUS(sframe_receiver_unprotect(bob, NULL, 0, fc, lc, out, sizeof out, &n), SFRAME_OK);
    CHECK(n == 10 && memcmp(out, "from carol", 10) == 0);
    CHECK(sframe_receiver_has_key(bob, 0x3e) && sframe_receiver_has_key(bob, 0x5e));

    /* Removing a member's key inside a kept epoch: it is not derived again with a fresh
     * replay window, so alice's old frame does not replay (until the epoch is removed). */
    CHECK_STATUS(sframe_receiver_remove_key(bob, 0x3e), SFRAME_OK);
    CHECK(!sframe_receiver_has_key(bob, 0x3e));
    CHECK_STATUS(sframe_receiver_unprotect(bob, NULL, 0, fa, la, out, sizeof out, &n),
                 SFRAME_ERR_UNKNOWN_KEY_ID);
    CHECK(!sframe_receiver_has_key(bob, 0x3e));

    /* Removing the epoch forgets its secret and the derived keys. */
    CHECK_STATUS(sframe_receiver_remove_mls_epoch(bob, 14), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_remove_mls_epoch(bob, 14), SFRAME_ERR_UNKNOWN_KEY_ID);
    CHECK_STATUS(sframe_receiver_remove_mls_epoch(NULL, 14), SFRAME_ERR_NULL_POINTER);
    CHECK(!sframe_receiver_has_mls_epoch(bob, 14) && !sframe_receiver_has_key(bob, 0x3e));
    free(fa);
    fa = protect_alloc(alice, NULL, 0, (const uint8_t *)"too late", 8, &la);
    CHECK_STATUS(sframe_receiver_unprotect(bob, NULL, 0, fa, la, out, sizeof out, &n),
                 SFRAME_ERR_UNKNOWN_KEY_ID);
    free(fa);
    free(fc);
    sframe_sender_free(alice);
    sframe_sender_free(carol);
    sframe_receiver_free(bob);
}

/* Security 2, finding 1: an MLS epoch forgotten as the oldest came back, when added again (a
 * late or duplicated MLS message, a resync), with empty replay windows, and pushed out a newer
 * epoch. It is refused now (as is one removed), and nothing changes. */
static void test_mls_evicted_epoch_cannot_come_back(void) {
    static const uint8_t s1[16] = "MLS exporter  1";
    static const uint8_t s2[16] = "MLS exporter  2";
    static const uint8_t s3[16] = "MLS exporter  3";
    const SframeMlsKidLayout layout = {4, 6, 0};
    SframeReceiverConfig cfg;
    CHECK_STATUS(sframe_receiver_config_init(&cfg, SFRAME_AES_128_GCM_SHA256_128), SFRAME_OK);
    cfg.mls = true;
    cfg.mls_layout = layout;
    cfg.mls_epochs_kept = 2;
    SframeReceiver *bob = NULL;
    CHECK_STATUS(sframe_receiver_new_with_config(&cfg, &bob), SFRAME_OK);
    SframeSender *alice = sframe_sender_new(SFRAME_AES_128_GCM_SHA256_128);
    CHECK_STATUS(sframe_receiver_add_mls_epoch(bob, 1, s1, sizeof s1), SFRAME_OK);
    CHECK_STATUS(sframe_sender_set_mls_key(alice, &layout, s1, sizeof s1, 1, 3, NULL), SFRAME_OK);
    size_t len, n;
    uint8_t out[64];
    uint8_t *f = protect_alloc(alice, NULL, 0, (const uint8_t *)"once", 4, &len);
    CHECK_STATUS(sframe_receiver_unprotect(bob, NULL, 0, f, len, out, sizeof out, &n), SFRAME_OK);

    /* Epochs 2 and 3: with two kept, epoch 1 is forgotten. */
    CHECK_STATUS(sframe_receiver_add_mls_epoch(bob, 2, s2, sizeof s2), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_add_mls_epoch(bob, 3, s3, sizeof s3), SFRAME_OK);
    CHECK(!sframe_receiver_has_mls_epoch(bob, 1));
    /* Epoch 1 again, same secret: refused; epochs 2 and 3 stay; the frame is not accepted
     * a second time. */
    CHECK_STATUS(sframe_receiver_add_mls_epoch(bob, 1, s1, sizeof s1), SFRAME_ERR_STALE_EPOCH);
    CHECK(!sframe_receiver_has_mls_epoch(bob, 1));
    CHECK(sframe_receiver_has_mls_epoch(bob, 2) && sframe_receiver_has_mls_epoch(bob, 3));
    CHECK_STATUS(sframe_receiver_unprotect(bob, NULL, 0, f, len, out, sizeof out, &n),
                 SFRAME_ERR_UNKNOWN_KEY_ID);
    /* The same epoch again while kept: nothing changes. Removed, then added again: refused. */
    CHECK_STATUS(sframe_receiver_add_mls_epoch(bob, 3, s3, sizeof s3), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_remove_mls_epoch(bob, 3), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_add_mls_epoch(bob, 3, s3, sizeof s3), SFRAME_ERR_STALE_EPOCH);
    CHECK(!sframe_receiver_has_mls_epoch(bob, 3) && sframe_receiver_has_mls_epoch(bob, 2));
    free(f);
    sframe_sender_free(alice);
    sframe_receiver_free(bob);
}

/* ---------------------------------------------------------------- NULL / zero-length misuse */

static void test_null_and_zero_length(void) {
    SframeSender *s;
    SframeReceiver *r;
    make_pair(SFRAME_AES_128_GCM_SHA256_128, 6, &s, &r);
    uint8_t out[64];
    size_t n = 123;
    uint64_t u64 = 0;
    SframeKeyUsage u;

    /* NULL objects. */
    CHECK_STATUS(sframe_sender_set_key(NULL, 1, KEY_A, sizeof KEY_A), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sender_set_key_with_counter(NULL, 1, KEY_A, sizeof KEY_A, 0),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sender_key_id(NULL, &u64), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sender_next_counter(NULL, &u64), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sender_usage(NULL, &u), SFRAME_ERR_NULL_POINTER);
    CHECK(sframe_sender_max_output_len(NULL, 100) == 0);
    CHECK_STATUS(sframe_sender_protect(NULL, NULL, 0, NULL, 0, out, sizeof out, &n),
                 SFRAME_ERR_NULL_POINTER);
    CHECK(n == 0);
    CHECK_STATUS(sframe_receiver_add_key(NULL, 1, KEY_A, sizeof KEY_A), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_remove_key(NULL, 1), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_clear(NULL), SFRAME_ERR_NULL_POINTER);
    CHECK(!sframe_receiver_has_key(NULL, 1));
    CHECK(sframe_receiver_key_count(NULL) == 0);
    CHECK_STATUS(sframe_receiver_usage(NULL, 6, &u), SFRAME_ERR_NULL_POINTER);
    CHECK(sframe_receiver_max_output_len(NULL, 100) == 0);
    CHECK_STATUS(sframe_receiver_unprotect(NULL, NULL, 0, out, 20, out + 20, 20, &n),
                 SFRAME_ERR_NULL_POINTER);
    sframe_sender_free(NULL);
    sframe_receiver_free(NULL);

    /* NULL out-parameters. */
    CHECK_STATUS(sframe_sender_key_id(s, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sender_next_counter(s, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sender_usage(s, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_config(r, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_usage(r, 6, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sender_protect(s, NULL, 0, NULL, 0, out, sizeof out, NULL),
                 SFRAME_ERR_NULL_POINTER);

    /* NULL data with a non-zero length. */
    CHECK_STATUS(sframe_sender_set_key(s, 1, NULL, 16), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_add_key(r, 1, NULL, 16), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sender_protect(s, NULL, 3, NULL, 0, out, sizeof out, &n),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sender_protect(s, NULL, 0, NULL, 3, out, sizeof out, &n),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sender_protect(s, NULL, 0, NULL, 0, NULL, 64, &n),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, NULL, 20, out, sizeof out, &n),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 2, out, 20, out + 20, 20, &n),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, out, 20, NULL, 20, &n),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, out, 20, out + 20, 20, NULL),
                 SFRAME_ERR_NULL_POINTER);
    /* Impossible lengths are refused before anything is read. */
    CHECK_STATUS(sframe_sender_protect(s, out, SIZE_MAX, NULL, 0, out, sizeof out, &n),
                 SFRAME_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, out, SIZE_MAX, out, 1, &n),
                 SFRAME_ERR_INVALID_ARGUMENT);

    /* NULL with length 0 is an empty input: empty plaintext and metadata are valid. */
    size_t flen = 0;
    CHECK_STATUS(sframe_sender_protect(s, NULL, 0, NULL, 0, out, sizeof out, &flen), SFRAME_OK);
    CHECK(flen == 1 + 16); /* header for KID 6, CTR 0 + tag */
    CHECK(sframe_receiver_max_output_len(r, flen) == 0);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, out, flen, NULL, 0, &n), SFRAME_OK);
    CHECK(n == 0);
    /* An empty frame, and a NULL/0 output for a non-empty plaintext. */
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, NULL, 0, out, sizeof out, &n),
                 SFRAME_ERR_MALFORMED_FRAME);
    CHECK_STATUS(sframe_sender_protect(s, NULL, 0, (const uint8_t *)"x", 1, NULL, 0, &n),
                 SFRAME_ERR_BUFFER_TOO_SMALL);
    /* Size helpers never overflow. */
    CHECK(sframe_sender_max_output_len(s, SIZE_MAX) == SIZE_MAX);
    CHECK(sframe_receiver_max_output_len(r, 0) == 0);
    sframe_sender_free(s);
    sframe_receiver_free(r);
}

static void test_malformed_inputs(void) {
    SframeReceiver *r = sframe_receiver_new(SFRAME_AES_128_GCM_SHA256_128);
    CHECK_STATUS(sframe_receiver_add_key(r, 1, KEY_A, sizeof KEY_A), SFRAME_OK);
    uint8_t out[64];
    size_t n;
    /* Deterministic pseudo-random junk of every length up to 48 never crashes and never
     * authenticates; the status is always one a receiver documents. */
    uint32_t x = 12345;
    for (size_t len = 0; len <= 48; len++) {
        uint8_t junk[48];
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            junk[i] = (uint8_t)(x >> 16);
        }
        if (len > 0) junk[0] = (uint8_t)(0x10 | (junk[0] & 0x07)); /* KID 1, inline CTR */
        SframeStatus st = sframe_receiver_unprotect(r, NULL, 0, junk, len, out, sizeof out, &n);
        CHECK(st == SFRAME_ERR_MALFORMED_FRAME || st == SFRAME_ERR_AUTHENTICATION_FAILED);
        CHECK(n == 0);
    }
    const uint8_t trunc[] = {0x90}; /* extended KID byte missing */
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, trunc, 1, out, sizeof out, &n),
                 SFRAME_ERR_MALFORMED_FRAME);
    sframe_receiver_free(r);
}

/* ---------------------------------------------------------------- runner */

typedef struct {
    const char *name;
    void (*fn)(void);
} TestCase;

/* ---- SFrame over RTP (draft-ietf-avtcore-rtp-sframe) ---- */

/* Packets of one protected frame, written into one heap buffer each (ASan sees overruns). */
#define RTP_MAX_PKTS 16
typedef struct {
    uint8_t *pkt[RTP_MAX_PKTS];
    size_t len[RTP_MAX_PKTS];
    size_t count;
} RtpPackets;

static void rtp_packetize(const uint8_t *frame, size_t frame_len, bool per_packet,
                          size_t max_payload, uint16_t first_seq, uint32_t ts, RtpPackets *out) {
    size_t count = 0;
    CHECK_STATUS(sframe_rtp_fragment_count(frame_len, max_payload, &count), SFRAME_OK);
    CHECK(count <= RTP_MAX_PKTS);
    out->count = 0;
    for (size_t i = 0; i < count && i < RTP_MAX_PKTS; i++) {
        SframeRtpHeader h = {true, 100, (uint16_t)(first_seq + i), ts, 0x11223344u};
        size_t cap = 12 + max_payload, n = 0;
        uint8_t *p = malloc(cap);
        CHECK_STATUS(sframe_rtp_write_fragment(frame, frame_len, per_packet, max_payload, i, &h,
                                               p, cap, &n),
                     SFRAME_OK);
        CHECK(n > 12 && n <= cap);
        /* Descriptor: S on the first, E (and the marker) on the last, T per mode. */
        CHECK(((p[12] & 0x80) != 0) == (i == 0));
        CHECK(((p[12] & 0x40) != 0) == (i + 1 == count));
        CHECK(((p[12] & 0x20) != 0) == per_packet);
        CHECK(((p[1] & 0x80) != 0) == (i + 1 == count));
        out->pkt[i] = p;
        out->len[i] = n;
        out->count++;
    }
}

static void rtp_free(RtpPackets *p) {
    for (size_t i = 0; i < p->count; i++) free(p->pkt[i]);
    p->count = 0;
}

/* Pops every ready frame; returns how many decrypted, checks each against `want`. */
static int rtp_drain(SframeRtpDepacketizer *d, SframeReceiver *r, const uint8_t *want,
                     size_t want_len, SframeStatus *last_error) {
    int frames = 0;
    uint8_t *out = malloc(SFRAME_RTP_MAX_FRAME_SIZE);
    for (;;) {
        SframeRtpFrame f;
        bool has = true;
        SframeStatus st = sframe_rtp_depacketizer_pop(d, r, NULL, 0, out,
                                                      SFRAME_RTP_MAX_FRAME_SIZE, &f, &has);
        if (st == SFRAME_OK && !has) break;
        if (st != SFRAME_OK) {
            CHECK(!has);
            *last_error = st;
            continue;
        }
        CHECK(f.len == want_len && memcmp(out, want, want_len) == 0);
        CHECK(f.ssrc == 0x11223344u && f.payload_type == 100 && f.marker);
        frames++;
    }
    free(out);
    return frames;
}

static void test_rtp_loss_reorder_duplicates(void) {
    SframeSender *s;
    SframeReceiver *r;
    make_pair(SFRAME_AES_128_GCM_SHA256_128, 3, &s, &r);
    SframeRtpDepacketizer *d = sframe_rtp_depacketizer_new();
    CHECK(d != NULL);
    uint8_t media[2500];
    for (size_t i = 0; i < sizeof media; i++) media[i] = (uint8_t)(i * 7);
    for (int mode = 0; mode < 2; mode++) {
        bool per_packet = mode == 1;
        size_t media_len = per_packet ? 1000 - sframe_rtp_per_packet_overhead(SFRAME_AES_128_GCM_SHA256_128)
                                      : sizeof media;
        uint8_t ct[2600];
        size_t ct_len = 0;
        /* Frame A arrives reversed and duplicated; frame B loses a packet. */
        CHECK_STATUS(sframe_sender_protect(s, NULL, 0, media, media_len, ct, sizeof ct, &ct_len),
                     SFRAME_OK);
        RtpPackets a, b;
        uint16_t seq = (uint16_t)(65530 + mode * 100); /* wraps in per-frame mode */
        rtp_packetize(ct, ct_len, per_packet, 1000, seq, 1000, &a);
        CHECK(per_packet ? a.count == 1 : a.count == 3);
        CHECK_STATUS(sframe_sender_protect(s, NULL, 0, media, media_len, ct, sizeof ct, &ct_len),
                     SFRAME_OK);
        rtp_packetize(ct, ct_len, per_packet, 300, (uint16_t)(seq + a.count), 2000, &b);
        CHECK(b.count >= 2 || per_packet);
        SframeStatus err = SFRAME_OK;
        int got = 0;
        for (size_t k = a.count; k-- > 0;) {
            SframeRtpPushed res = SFRAME_RTP_LATE;
            CHECK_STATUS(sframe_rtp_depacketizer_push(d, a.pkt[k], a.len[k], &res), SFRAME_OK);
            CHECK(res == (k == 0 ? SFRAME_RTP_FRAME_READY : SFRAME_RTP_BUFFERED));
            got += rtp_drain(d, r, media, media_len, &err);
        }
        for (size_t k = 0; k < a.count; k++) {
            SframeRtpPushed res = SFRAME_RTP_BUFFERED;
            CHECK_STATUS(sframe_rtp_depacketizer_push(d, a.pkt[k], a.len[k], &res), SFRAME_OK);
            CHECK(res == SFRAME_RTP_DUPLICATE);
        }
        for (size_t k = 1; k < b.count; k++) {
            CHECK_STATUS(sframe_rtp_depacketizer_push(d, b.pkt[k], b.len[k], NULL), SFRAME_OK);
        }
        got += rtp_drain(d, r, media, media_len, &err);
        CHECK(got == 1);
        CHECK(err == SFRAME_OK);
        rtp_free(&a);
        rtp_free(&b);
    }
    SframeRtpStats st;
    CHECK_STATUS(sframe_rtp_depacketizer_stats(d, &st), SFRAME_OK);
    CHECK(st.frames == 2 && st.duplicates >= 2);
    CHECK_STATUS(sframe_rtp_depacketizer_stats(d, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_rtp_depacketizer_stats(NULL, &st), SFRAME_ERR_NULL_POINTER);
    sframe_rtp_depacketizer_free(d);
    sframe_rtp_depacketizer_free(NULL);
    sframe_sender_free(s);
    sframe_receiver_free(r);
}

/* Sequence validation (RFC 3550 A.1): reordering below SFRAME_RTP_SEQUENCE_WINDOW, jumps
   below SFRAME_RTP_MAX_DROPOUT; anything else is refused unless the packet before it in
   sequence was refused too, which re-synchronises (Security 2, finding 3). */
static void test_rtp_sequence_validation(void) {
    SframeRtpDepacketizer *d = sframe_rtp_depacketizer_new();
    CHECK(d != NULL);
    static const uint8_t frame[40] = {0}; /* middle fragments of a would-be frame */
    const struct {
        uint16_t seq;
        SframeRtpPushed want;
    } steps[] = {
        {10000, SFRAME_RTP_BUFFERED},
        {(uint16_t)(10000 + SFRAME_RTP_MAX_DROPOUT), SFRAME_RTP_TOO_FAR_AHEAD},
        {(uint16_t)(10000 - SFRAME_RTP_SEQUENCE_WINDOW), SFRAME_RTP_LATE},
        {(uint16_t)(10001 - SFRAME_RTP_SEQUENCE_WINDOW), SFRAME_RTP_BUFFERED},
        {40000, SFRAME_RTP_TOO_FAR_AHEAD},
        {40001, SFRAME_RTP_BUFFERED}, /* re-synchronises: drops the two stored */
        {40001, SFRAME_RTP_DUPLICATE},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        SframeRtpHeader h = {false, 100, steps[i].seq, 90, 0x11223344u};
        uint8_t p[64];
        size_t n = 0;
        CHECK_STATUS(sframe_rtp_write_fragment(frame, sizeof frame, false, 11, 1, &h, p,
                                               sizeof p, &n),
                     SFRAME_OK);
        SframeRtpPushed res = SFRAME_RTP_FRAME_READY;
        CHECK_STATUS(sframe_rtp_depacketizer_push(d, p, n, &res), SFRAME_OK);
        CHECK(res == steps[i].want);
    }
    SframeRtpStats st;
    CHECK_STATUS(sframe_rtp_depacketizer_stats(d, &st), SFRAME_OK);
    CHECK(st.too_far_ahead == 2 && st.late == 1 && st.resyncs == 1);
    CHECK(st.duplicates == 1 && st.evicted == 2 && st.packets == 3);
    sframe_rtp_depacketizer_free(d);
}

static void test_rtp_tamper_and_misuse(void) {
    SframeSender *s;
    SframeReceiver *r;
    make_pair(SFRAME_AES_128_CTR_HMAC_SHA256_80, 4, &s, &r);
    SframeRtpDepacketizer *d = sframe_rtp_depacketizer_new();
    const uint8_t media[600] = {1, 2, 3};
    uint8_t ct[700];
    size_t ct_len = 0;
    CHECK_STATUS(sframe_sender_protect(s, NULL, 0, media, sizeof media, ct, sizeof ct, &ct_len),
                 SFRAME_OK);
    RtpPackets a;
    rtp_packetize(ct, ct_len, false, 200, 10, 1, &a);
    a.pkt[1][a.len[1] - 1] ^= 1; /* one ciphertext bit */
    for (size_t k = 0; k < a.count; k++)
        CHECK_STATUS(sframe_rtp_depacketizer_push(d, a.pkt[k], a.len[k], NULL), SFRAME_OK);
    SframeStatus err = SFRAME_OK;
    CHECK(rtp_drain(d, r, media, sizeof media, &err) == 0);
    CHECK(err == SFRAME_ERR_AUTHENTICATION_FAILED);
    rtp_free(&a);

    /* Fragmenting: bad sizes and indexes. */
    size_t n = 99, count = 0;
    uint8_t buf[64];
    CHECK_STATUS(sframe_rtp_fragment_count(ct_len, 1, &count), SFRAME_ERR_INVALID_CONFIG);
    CHECK_STATUS(sframe_rtp_fragment_count(0, 100, &count), SFRAME_ERR_MALFORMED_FRAME);
    CHECK_STATUS(sframe_rtp_fragment_count(ct_len, 100, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_rtp_write_fragment(ct, ct_len, false, 50, 1000, NULL, buf, sizeof buf, &n),
                 SFRAME_ERR_INVALID_CONFIG);
    CHECK(n == 0);
    CHECK_STATUS(sframe_rtp_write_fragment(ct, ct_len, false, 60, 0, NULL, buf, 10, &n),
                 SFRAME_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(sframe_rtp_write_fragment(ct, ct_len, false, 60, 0, NULL, buf, sizeof buf, &n),
                 SFRAME_OK);
    CHECK(n == 60 && buf[0] == 0x80 && memcmp(buf + 1, ct, 59) == 0);
    CHECK_STATUS(sframe_rtp_write_fragment(NULL, 5, false, 60, 0, NULL, buf, sizeof buf, &n),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_rtp_write_fragment(ct, ct_len, false, 60, 0, NULL, buf, sizeof buf, NULL),
                 SFRAME_ERR_NULL_POINTER);
    CHECK(sframe_rtp_per_packet_overhead(4) == 1 + 17 + 16);
    CHECK(sframe_rtp_per_packet_overhead(0) == 0);

    /* Pushing garbage: errors, never a crash. */
    const uint8_t not_rtp[3] = {0x80, 0, 0};
    const uint8_t v1[13] = {0x40, 100, 0, 1, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0xc0};
    const uint8_t empty_payload[12] = {0x80, 100, 0, 1, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44};
    const uint8_t other_ssrc[13] = {0x80, 100, 0, 1, 0, 0, 0, 0, 0x99, 0x22, 0x33, 0x44, 0xc0};
    CHECK_STATUS(sframe_rtp_depacketizer_push(d, not_rtp, sizeof not_rtp, NULL),
                 SFRAME_ERR_MALFORMED_FRAME);
    CHECK_STATUS(sframe_rtp_depacketizer_push(d, v1, sizeof v1, NULL), SFRAME_ERR_MALFORMED_FRAME);
    CHECK_STATUS(sframe_rtp_depacketizer_push(d, empty_payload, sizeof empty_payload, NULL),
                 SFRAME_ERR_MALFORMED_FRAME);
    CHECK_STATUS(sframe_rtp_depacketizer_push(d, other_ssrc, sizeof other_ssrc, NULL),
                 SFRAME_ERR_INVALID_CONFIG);
    CHECK_STATUS(sframe_rtp_depacketizer_push(NULL, v1, sizeof v1, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_rtp_depacketizer_push(d, NULL, 13, NULL), SFRAME_ERR_NULL_POINTER);
    SframeRtpFrame f;
    bool has = true;
    CHECK_STATUS(sframe_rtp_depacketizer_pop(d, NULL, NULL, 0, buf, sizeof buf, &f, &has),
                 SFRAME_ERR_NULL_POINTER);
    CHECK(!has);
    CHECK_STATUS(sframe_rtp_depacketizer_pop(d, r, NULL, 0, buf, sizeof buf, NULL, &has),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_rtp_depacketizer_pop(d, r, NULL, 0, buf, sizeof buf, &f, NULL),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_rtp_depacketizer_pop(d, r, NULL, 0, buf, sizeof buf, &f, &has), SFRAME_OK);
    CHECK(!has);
    sframe_rtp_depacketizer_free(d);
    sframe_sender_free(s);
    sframe_receiver_free(r);
}

static void test_rtp_ssrc_keys(void) {
    /* test-vectors/rtp-ssrc-keys.json, suite 4 and 5, SSRC 0x12345678, base key 00..0f. */
    static const uint8_t want4[32] = {
        0xf3, 0x09, 0xf1, 0x18, 0xae, 0xcd, 0xac, 0xfb, 0xc1, 0x65, 0xcc, 0x08, 0x00, 0x22, 0xb2, 0x97,
        0x10, 0x0b, 0xbb, 0x55, 0xe4, 0x83, 0xb0, 0x02, 0xd7, 0x62, 0x00, 0x0a, 0x0f, 0xaa, 0x68, 0x4d};
    uint8_t base[16], out[64];
    for (int i = 0; i < 16; i++) base[i] = (uint8_t)i;
    size_t n = 0;
    CHECK_STATUS(sframe_rtp_ssrc_base_key(4, base, 16, 0x12345678u, out, sizeof out, &n), SFRAME_OK);
    CHECK(n == 32 && memcmp(out, want4, 32) == 0);
    CHECK_STATUS(sframe_rtp_ssrc_base_key(5, base, 16, 0x12345678u, out, sizeof out, &n), SFRAME_OK);
    CHECK(n == 64 && out[0] == 0x3b && out[63] == 0x30);
    CHECK_STATUS(sframe_rtp_ssrc_base_key(5, base, 16, 1, out, 63, &n), SFRAME_ERR_BUFFER_TOO_SMALL);
    CHECK(n == 0);
    CHECK_STATUS(sframe_rtp_ssrc_base_key(4, base, 15, 1, out, sizeof out, &n), SFRAME_ERR_INVALID_KEY);
    CHECK_STATUS(sframe_rtp_ssrc_base_key(9, base, 16, 1, out, sizeof out, &n),
                 SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE);
    CHECK_STATUS(sframe_rtp_ssrc_base_key(4, base, 16, 1, out, sizeof out, NULL), SFRAME_ERR_NULL_POINTER);
    /* The derived key works as a stream base key. */
    SframeSender *s = sframe_sender_new(4);
    SframeReceiver *r = sframe_receiver_new(4);
    CHECK_STATUS(sframe_rtp_ssrc_base_key(4, base, 16, 0x12345678u, out, sizeof out, &n), SFRAME_OK);
    CHECK_STATUS(sframe_sender_set_key(s, 1, out, n), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_add_key(r, 1, out, n), SFRAME_OK);
    uint8_t ct[64], pt[64];
    size_t ct_len = 0, pt_len = 0;
    CHECK_STATUS(sframe_sender_protect(s, NULL, 0, (const uint8_t *)"hi", 2, ct, sizeof ct, &ct_len), SFRAME_OK);
    CHECK_STATUS(sframe_receiver_unprotect(r, NULL, 0, ct, ct_len, pt, sizeof pt, &pt_len), SFRAME_OK);
    CHECK(pt_len == 2 && memcmp(pt, "hi", 2) == 0);
    sframe_sender_free(s);
    sframe_receiver_free(r);
}

static void test_rtp_ssrc_key_vectors(void) {
    /* Every vector of test-vectors/rtp-ssrc-keys.json, into an exactly sized heap buffer, and
     * every suite the library offers (1..8) has vectors. */
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        size_t found = 0;
        for (size_t j = 0; j < SSRC_KEY_VECTOR_COUNT; j++)
            if (SSRC_KEY_VECTORS[j].suite == ALL_SUITES[i]) found++;
        if (found == 0) fprintf(stderr, "  no per-SSRC key vector for suite %u\n", ALL_SUITES[i]);
        CHECK(found > 0);
    }
    for (size_t j = 0; j < SSRC_KEY_VECTOR_COUNT; j++) {
        const SsrcKeyVector *v = &SSRC_KEY_VECTORS[j];
        uint8_t *out = malloc(v->ssrc_key_len);
        CHECK(out != NULL);
        size_t n = 0;
        CHECK_STATUS(sframe_rtp_ssrc_base_key(v->suite, v->base_key, v->base_key_len, v->ssrc, out,
                                              v->ssrc_key_len, &n),
                     SFRAME_OK);
        CHECK(n == v->ssrc_key_len && memcmp(out, v->ssrc_key, n) == 0);
        if (n != v->ssrc_key_len || memcmp(out, v->ssrc_key, v->ssrc_key_len) != 0)
            fprintf(stderr, "  per-SSRC key vector %zu (suite %u, SSRC %u) differs\n", j, v->suite,
                    (unsigned)v->ssrc);
        /* One byte short: nothing written. */
        memset(out, 0xee, v->ssrc_key_len);
        CHECK_STATUS(sframe_rtp_ssrc_base_key(v->suite, v->base_key, v->base_key_len, v->ssrc, out,
                                              v->ssrc_key_len - 1, &n),
                     SFRAME_ERR_BUFFER_TOO_SMALL);
        CHECK(n == 0 && out[0] == 0xee);
        free(out);
    }
}

/* ---- a=sframe SDP negotiation (draft-ietf-avtcore-rtp-sframe §6) ---- */

typedef struct {
    const char *name;
    const char *text;
    size_t len;
} SdpFixture;

static const SdpFixture SDP_FIXTURES[] = {
    {"chromium-offer", SDP_CHROMIUM_OFFER, SDP_CHROMIUM_OFFER_LEN},
    {"chromium-answer", SDP_CHROMIUM_ANSWER, SDP_CHROMIUM_ANSWER_LEN},
    {"chromium-offer-2video", SDP_CHROMIUM_OFFER_2VIDEO, SDP_CHROMIUM_OFFER_2VIDEO_LEN},
    {"chromium-offer-sframe", SDP_CHROMIUM_OFFER_SFRAME, SDP_CHROMIUM_OFFER_SFRAME_LEN},
    {"chromium-answer-sframe", SDP_CHROMIUM_ANSWER_SFRAME, SDP_CHROMIUM_ANSWER_SFRAME_LEN},
    {"firefox-offer", SDP_FIREFOX_OFFER, SDP_FIREFOX_OFFER_LEN},
    {"firefox-answer", SDP_FIREFOX_ANSWER, SDP_FIREFOX_ANSWER_LEN},
    {"firefox-offer-2video", SDP_FIREFOX_OFFER_2VIDEO, SDP_FIREFOX_OFFER_2VIDEO_LEN},
    {"firefox-offer-sframe", SDP_FIREFOX_OFFER_SFRAME, SDP_FIREFOX_OFFER_SFRAME_LEN},
    {"firefox-answer-sframe", SDP_FIREFOX_ANSWER_SFRAME, SDP_FIREFOX_ANSWER_SFRAME_LEN},
};
#define SDP_FIXTURE_COUNT (sizeof SDP_FIXTURES / sizeof SDP_FIXTURES[0])
#define A_SFRAME_LINE_LEN 10 /* "a=sframe\r\n" */

/* An SDP text from a text function, in an exactly sized heap buffer (ASan sees any overrun):
 * the first call (NULL, 0) must answer BUFFER_TOO_SMALL with the length needed. Returns NULL
 * (and the status in *status) if the first call fails otherwise. */
typedef SframeStatus (*SdpSectionEdit)(const char *, size_t, size_t, char *, size_t, size_t *,
                                       SframeSdpErrorDetail *);

static char *sdp_edit(SdpSectionEdit f, const char *sdp, size_t sdp_len, size_t section,
                      size_t *len) {
    size_t needed = 0;
    SframeStatus st = f(sdp, sdp_len, section, NULL, 0, &needed, NULL);
    CHECK_STATUS(st, SFRAME_ERR_BUFFER_TOO_SMALL);
    char *out = malloc(needed ? needed : 1);
    CHECK(out != NULL);
    *len = 0;
    CHECK_STATUS(f(sdp, sdp_len, section, out, needed, len, NULL), SFRAME_OK);
    CHECK(*len == needed);
    return out;
}

static char *sdp_strip(const char *sdp, size_t sdp_len, size_t *len) {
    size_t needed = 0;
    CHECK_STATUS(sframe_sdp_strip_sframe(sdp, sdp_len, NULL, 0, &needed, NULL),
                 SFRAME_ERR_BUFFER_TOO_SMALL);
    char *out = malloc(needed);
    CHECK(out != NULL);
    CHECK_STATUS(sframe_sdp_strip_sframe(sdp, sdp_len, out, needed, len, NULL), SFRAME_OK);
    CHECK(*len == needed);
    return out;
}

static char *sdp_prepare(const char *sdp, size_t sdp_len, const SframeSdpPolicy *policies,
                         size_t n, size_t *len) {
    size_t needed = 0;
    CHECK_STATUS(sframe_sdp_prepare_offer(sdp, sdp_len, policies, n, NULL, 0, &needed, NULL),
                 SFRAME_ERR_BUFFER_TOO_SMALL);
    char *out = malloc(needed);
    CHECK(out != NULL);
    CHECK_STATUS(sframe_sdp_prepare_offer(sdp, sdp_len, policies, n, out, needed, len, NULL),
                 SFRAME_OK);
    CHECK(*len == needed);
    return out;
}

static void test_sdp_browser_fixtures_add_remove_byte_identical(void) {
    for (size_t f = 0; f < SDP_FIXTURE_COUNT; f++) {
        const SdpFixture *fx = &SDP_FIXTURES[f];
        size_t count = 0;
        CHECK_STATUS(sframe_sdp_section_count(fx->text, fx->len, &count, NULL), SFRAME_OK);
        CHECK(count == (strstr(fx->name, "2video") ? 3u : 2u));
        size_t with_sframe = 0;
        for (size_t i = 0; i < count; i++) {
            SframeSdpSectionInfo info;
            CHECK_STATUS(sframe_sdp_section_info(fx->text, fx->len, i, &info, NULL), SFRAME_OK);
            CHECK(info.index == i && info.rtp && !info.stopped && info.bundled);
            CHECK(info.media >= fx->text && info.media + info.media_len <= fx->text + fx->len);
            CHECK((info.media_len == 5 && memcmp(info.media, i == 0 ? "audio" : "video", 5) == 0));
            CHECK(info.mid != NULL && info.mid_len >= 1);
            size_t found = 99;
            CHECK_STATUS(sframe_sdp_find_mid(fx->text, fx->len, info.mid, info.mid_len, &found, NULL),
                         SFRAME_OK);
            CHECK(found == i);
            bool has = !info.has_sframe;
            CHECK_STATUS(sframe_sdp_has_sframe(fx->text, fx->len, i, &has, NULL), SFRAME_OK);
            CHECK(has == info.has_sframe);
            if (has) {
                with_sframe++;
                continue;
            }
            /* Add: one CRLF line more, found; remove: the original bytes again. */
            size_t with_len = 0, back_len = 0;
            char *with = sdp_edit(sframe_sdp_add_sframe, fx->text, fx->len, i, &with_len);
            CHECK(with_len == fx->len + A_SFRAME_LINE_LEN);
            CHECK_STATUS(sframe_sdp_has_sframe(with, with_len, i, &has, NULL), SFRAME_OK);
            CHECK(has);
            char *back = sdp_edit(sframe_sdp_remove_sframe, with, with_len, i, &back_len);
            CHECK(back_len == fx->len && memcmp(back, fx->text, fx->len) == 0);
            if (back_len != fx->len || memcmp(back, fx->text, fx->len) != 0)
                fprintf(stderr, "  %s section %zu: add+remove is not byte-identical\n", fx->name, i);
            /* Adding twice changes nothing. */
            size_t again_len = 0;
            char *again = sdp_edit(sframe_sdp_add_sframe, with, with_len, i, &again_len);
            CHECK(again_len == with_len && memcmp(again, with, with_len) == 0);
            free(again);
            free(back);
            free(with);
        }
        /* Only the *-sframe fixtures carry a=sframe, Firefox's answer excepted (it drops it). */
        int sframe_fixture = strstr(fx->name, "-sframe") != NULL;
        int firefox_answer = strcmp(fx->name, "firefox-answer-sframe") == 0;
        CHECK(with_sframe == (sframe_fixture && !firefox_answer ? count : 0));
        /* Strip removes exactly the a=sframe lines. */
        size_t stripped_len = 0;
        char *stripped = sdp_strip(fx->text, fx->len, &stripped_len);
        CHECK(stripped_len == fx->len - with_sframe * A_SFRAME_LINE_LEN);
        if (with_sframe == 0) CHECK(memcmp(stripped, fx->text, fx->len) == 0);
        free(stripped);
    }
    /* The edited offers captured from the browsers are what prepare_offer makes of the
     * stripped text, whether the policy is given once or per section. */
    const SdpFixture *edited[] = {&SDP_FIXTURES[3], &SDP_FIXTURES[8]};
    const SframeSdpPolicy one[] = {SFRAME_SDP_POLICY_REQUIRED};
    const SframeSdpPolicy each[] = {SFRAME_SDP_POLICY_PREFERRED, SFRAME_SDP_POLICY_REQUIRED};
    for (size_t e = 0; e < 2; e++) {
        size_t stripped_len = 0, a_len = 0, b_len = 0;
        char *stripped = sdp_strip(edited[e]->text, edited[e]->len, &stripped_len);
        char *a = sdp_prepare(stripped, stripped_len, one, 1, &a_len);
        char *b = sdp_prepare(stripped, stripped_len, each, 2, &b_len);
        CHECK(a_len == edited[e]->len && memcmp(a, edited[e]->text, a_len) == 0);
        CHECK(b_len == edited[e]->len && memcmp(b, edited[e]->text, b_len) == 0);
        free(b);
        free(a);
        free(stripped);
    }
}

static void test_sdp_check_answer_browser_outcomes(void) {
    SframeSdpOutcome out[2];
    size_t n = 0;
    SframeSdpErrorDetail detail;
    const SframeSdpPolicy required = SFRAME_SDP_POLICY_REQUIRED;
    const SframeSdpPolicy preferred = SFRAME_SDP_POLICY_PREFERRED;
    /* Chromium 156 answers a=sframe with a=sframe: negotiated. */
    CHECK_STATUS(sframe_sdp_check_answer(SDP_CHROMIUM_OFFER_SFRAME, SDP_CHROMIUM_OFFER_SFRAME_LEN,
                                         SDP_CHROMIUM_ANSWER_SFRAME, SDP_CHROMIUM_ANSWER_SFRAME_LEN,
                                         &required, 1, out, 2, &n, &detail),
                 SFRAME_OK);
    CHECK(n == 2);
    for (size_t i = 0; i < 2; i++) {
        CHECK(out[i].index == i && out[i].outcome == SFRAME_SDP_OUTCOME_NEGOTIATED);
        CHECK(out[i].reason == SFRAME_SDP_REASON_NONE);
    }
    /* Firefox ESR 153 drops it: stopped under REQUIRED (draft §6), clear under PREFERRED. */
    CHECK_STATUS(sframe_sdp_check_answer(SDP_FIREFOX_OFFER_SFRAME, SDP_FIREFOX_OFFER_SFRAME_LEN,
                                         SDP_FIREFOX_ANSWER_SFRAME, SDP_FIREFOX_ANSWER_SFRAME_LEN,
                                         &required, 1, out, 2, &n, &detail),
                 SFRAME_OK);
    CHECK(n == 2);
    for (size_t i = 0; i < 2; i++) {
        CHECK(out[i].outcome == SFRAME_SDP_OUTCOME_STOPPED);
        CHECK(out[i].reason == SFRAME_SDP_REASON_PEER_LACKS_SFRAME);
    }
    CHECK_STATUS(sframe_sdp_check_answer(SDP_FIREFOX_OFFER_SFRAME, SDP_FIREFOX_OFFER_SFRAME_LEN,
                                         SDP_FIREFOX_ANSWER_SFRAME, SDP_FIREFOX_ANSWER_SFRAME_LEN,
                                         &preferred, 1, out, 2, &n, &detail),
                 SFRAME_OK);
    CHECK(n == 2 && out[0].outcome == SFRAME_SDP_OUTCOME_CLEAR && out[1].outcome == SFRAME_SDP_OUTCOME_CLEAR);
    /* No a=sframe offered, REQUIRED: never falls back to clear. */
    CHECK_STATUS(sframe_sdp_check_answer(SDP_CHROMIUM_OFFER, SDP_CHROMIUM_OFFER_LEN,
                                         SDP_CHROMIUM_ANSWER, SDP_CHROMIUM_ANSWER_LEN, &required, 1,
                                         out, 2, &n, NULL),
                 SFRAME_OK);
    CHECK(out[0].reason == SFRAME_SDP_REASON_SFRAME_NOT_OFFERED);
    /* One outcome short: BUFFER_TOO_SMALL, the count needed, nothing written. */
    SframeSdpOutcome one = {77, 77, 77, {0, 0, 0}};
    CHECK_STATUS(sframe_sdp_check_answer(SDP_CHROMIUM_OFFER_SFRAME, SDP_CHROMIUM_OFFER_SFRAME_LEN,
                                         SDP_CHROMIUM_ANSWER_SFRAME, SDP_CHROMIUM_ANSWER_SFRAME_LEN,
                                         &required, 1, &one, 1, &n, NULL),
                 SFRAME_ERR_BUFFER_TOO_SMALL);
    CHECK(n == 2 && one.index == 77 && one.outcome == 77);
    /* An answer with a section less. */
    CHECK_STATUS(sframe_sdp_check_answer(SDP_CHROMIUM_OFFER_2VIDEO, SDP_CHROMIUM_OFFER_2VIDEO_LEN,
                                         SDP_CHROMIUM_ANSWER, SDP_CHROMIUM_ANSWER_LEN, &required, 1,
                                         out, 2, &n, &detail),
                 SFRAME_ERR_SDP_SECTION_COUNT_MISMATCH);
    CHECK(n == 0 && detail.expected == 3 && detail.found == 2);
}

static void test_sdp_offer_answer_round(void) {
    /* Offerer: a=sframe everywhere; answerer: plan, then its own answer edited; offerer: check. */
    const SframeSdpPolicy required = SFRAME_SDP_POLICY_REQUIRED;
    const SframeSdpPolicy preferred = SFRAME_SDP_POLICY_PREFERRED;
    size_t offer_len = 0, answer_len = 0, n = 0;
    char *offer = sdp_prepare(SDP_CHROMIUM_OFFER, SDP_CHROMIUM_OFFER_LEN, &required, 1, &offer_len);
    CHECK(offer_len == SDP_CHROMIUM_OFFER_LEN + 2 * A_SFRAME_LINE_LEN);
    SframeSdpOutcome plan[2];
    CHECK_STATUS(sframe_sdp_answer_for_offer(offer, offer_len, &preferred, 1, plan, 2, &n, NULL),
                 SFRAME_OK);
    CHECK(n == 2 && plan[0].outcome == SFRAME_SDP_OUTCOME_NEGOTIATED &&
          plan[1].outcome == SFRAME_SDP_OUTCOME_NEGOTIATED);
    size_t needed = 0;
    CHECK_STATUS(sframe_sdp_apply_answer(SDP_CHROMIUM_ANSWER, SDP_CHROMIUM_ANSWER_LEN, plan, 2, NULL,
                                         0, &needed, NULL),
                 SFRAME_ERR_BUFFER_TOO_SMALL);
    char *answer = malloc(needed);
    CHECK(answer != NULL);
    CHECK_STATUS(sframe_sdp_apply_answer(SDP_CHROMIUM_ANSWER, SDP_CHROMIUM_ANSWER_LEN, plan, 2,
                                         answer, needed, &answer_len, NULL),
                 SFRAME_OK);
    CHECK(answer_len == SDP_CHROMIUM_ANSWER_LEN + 2 * A_SFRAME_LINE_LEN);
    SframeSdpOutcome checked[2];
    CHECK_STATUS(sframe_sdp_check_answer(offer, offer_len, answer, answer_len, &required, 1,
                                         checked, 2, &n, NULL),
                 SFRAME_OK);
    CHECK(n == 2 && checked[0].outcome == SFRAME_SDP_OUTCOME_NEGOTIATED &&
          checked[1].outcome == SFRAME_SDP_OUTCOME_NEGOTIATED);
    free(answer);
    /* A REQUIRED answerer to an offer without a=sframe: both stopped: port 0, out of BUNDLE. */
    CHECK_STATUS(sframe_sdp_answer_for_offer(SDP_CHROMIUM_OFFER, SDP_CHROMIUM_OFFER_LEN, &required,
                                             1, plan, 2, &n, NULL),
                 SFRAME_OK);
    CHECK(plan[1].outcome == SFRAME_SDP_OUTCOME_STOPPED &&
          plan[1].reason == SFRAME_SDP_REASON_PEER_LACKS_SFRAME);
    char buf[8192];
    CHECK_STATUS(sframe_sdp_apply_answer(SDP_CHROMIUM_ANSWER, SDP_CHROMIUM_ANSWER_LEN, plan, 2, buf,
                                         sizeof buf, &answer_len, NULL),
                 SFRAME_OK);
    CHECK(answer_len < sizeof buf);
    buf[answer_len] = '\0';
    CHECK(strstr(buf, "m=audio 0 ") != NULL && strstr(buf, "a=group:BUNDLE\r\n") != NULL);
    free(offer);
}

static void test_sdp_errors_and_misuse(void) {
    SframeSdpErrorDetail d;
    char out[256];
    size_t len = 77, n = 0;
    const SframeSdpPolicy required = SFRAME_SDP_POLICY_REQUIRED;
    /* Parse errors, with their line. */
    static const struct { const char *text; SframeStatus status; size_t line; } bad[] = {
        {"", SFRAME_ERR_SDP_NOT_SDP, 0},
        {"v=0\r\ns=-\r\nbogus\r\n", SFRAME_ERR_SDP_MALFORMED_LINE, 3},
        {"v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=x:\xff\r\n", SFRAME_ERR_SDP_MALFORMED_LINE, 4},
        {"v=0\r\nm=audio x RTP/AVP 0\r\n", SFRAME_ERR_SDP_MALFORMED_MEDIA_LINE, 2},
        {"v=0\r\na=sframe\r\n", SFRAME_ERR_SDP_SESSION_LEVEL_SFRAME, 2},
        {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=sframe:x\r\n", SFRAME_ERR_SDP_SFRAME_WITH_VALUE, 3},
        {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:a\r\nm=video 9 RTP/AVP 96\r\na=mid:a\r\n",
         SFRAME_ERR_SDP_DUPLICATE_MID, 5},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&d, 0xee, sizeof d);
        len = 77;
        CHECK_STATUS(sframe_sdp_add_sframe(bad[i].text, strlen(bad[i].text), 0, out, sizeof out, &len, &d),
                     bad[i].status);
        CHECK(len == 0 && d.line == bad[i].line && d.index == 0 && d.expected == 0);
    }
    /* Not RTP; no such section; no such mid. */
    const char *dc = "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
    CHECK_STATUS(sframe_sdp_add_sframe(dc, strlen(dc), 0, out, sizeof out, &len, &d),
                 SFRAME_ERR_SDP_NOT_RTP);
    CHECK(d.index == 0 && d.line == 0);
    CHECK_STATUS(sframe_sdp_remove_sframe(SDP_FIREFOX_OFFER, SDP_FIREFOX_OFFER_LEN, 2, out, sizeof out,
                                          &len, &d),
                 SFRAME_ERR_SDP_NO_SUCH_SECTION);
    size_t index = 5;
    CHECK_STATUS(sframe_sdp_find_mid(SDP_FIREFOX_OFFER, SDP_FIREFOX_OFFER_LEN, "9", 1, &index, &d),
                 SFRAME_ERR_SDP_NO_SUCH_SECTION);
    CHECK(index == 5);
    /* §6's BUNDLE rule: SFrame on one of two videos sharing payload types (H264 39 first). */
    const SframeSdpPolicy split[] = {SFRAME_SDP_POLICY_REQUIRED, SFRAME_SDP_POLICY_REQUIRED,
                                     SFRAME_SDP_POLICY_OFF};
    CHECK_STATUS(sframe_sdp_prepare_offer(SDP_CHROMIUM_OFFER_2VIDEO, SDP_CHROMIUM_OFFER_2VIDEO_LEN,
                                          split, 3, out, sizeof out, &len, &d),
                 SFRAME_ERR_SDP_BUNDLE_PAYLOAD_TYPE_REUSE);
    CHECK(len == 0 && d.conflict.payload_type == 39 && d.conflict.sframe_section == 1 &&
          d.conflict.clear_section == 2);
    /* Policies: a zeroed one, an unknown one, a count neither 1 nor the section count. */
    const SframeSdpPolicy zero[] = {0, 0}, unknown[] = {4}, three[] = {1, 1, 1};
    CHECK_STATUS(sframe_sdp_prepare_offer(SDP_CHROMIUM_OFFER, SDP_CHROMIUM_OFFER_LEN, zero, 2, out,
                                          sizeof out, &len, &d),
                 SFRAME_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sframe_sdp_answer_for_offer(SDP_CHROMIUM_OFFER, SDP_CHROMIUM_OFFER_LEN, unknown, 1,
                                             NULL, 0, &n, &d),
                 SFRAME_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sframe_sdp_check_answer(SDP_CHROMIUM_OFFER, SDP_CHROMIUM_OFFER_LEN,
                                         SDP_CHROMIUM_ANSWER, SDP_CHROMIUM_ANSWER_LEN, three, 3,
                                         NULL, 0, &n, &d),
                 SFRAME_ERR_INVALID_ARGUMENT);
    /* Outcomes given back: unknown kind, STOPPED without a stop reason, REJECTED (reject the
     * offer), and fewer outcomes than sections. */
    SframeSdpOutcome plan[2] = {
        {0, SFRAME_SDP_OUTCOME_NEGOTIATED, SFRAME_SDP_REASON_NONE, {0, 0, 0}},
        {1, 9, SFRAME_SDP_REASON_NONE, {0, 0, 0}},
    };
    CHECK_STATUS(sframe_sdp_apply_answer(SDP_CHROMIUM_ANSWER, SDP_CHROMIUM_ANSWER_LEN, plan, 2, out,
                                         sizeof out, &len, &d),
                 SFRAME_ERR_INVALID_ARGUMENT);
    plan[1].outcome = SFRAME_SDP_OUTCOME_STOPPED;
    CHECK_STATUS(sframe_sdp_apply_answer(SDP_CHROMIUM_ANSWER, SDP_CHROMIUM_ANSWER_LEN, plan, 2, out,
                                         sizeof out, &len, &d),
                 SFRAME_ERR_INVALID_ARGUMENT);
    plan[1].outcome = SFRAME_SDP_OUTCOME_REJECTED;
    plan[1].reason = SFRAME_SDP_REASON_ANSWER_ADDED_SFRAME;
    CHECK_STATUS(sframe_sdp_apply_answer(SDP_CHROMIUM_ANSWER, SDP_CHROMIUM_ANSWER_LEN, plan, 2, out,
                                         sizeof out, &len, &d),
                 SFRAME_ERR_SDP_REJECTED);
    CHECK(d.index == 1 && d.reason == SFRAME_SDP_REASON_ANSWER_ADDED_SFRAME);
    CHECK_STATUS(sframe_sdp_apply_answer(SDP_CHROMIUM_ANSWER, SDP_CHROMIUM_ANSWER_LEN, plan, 1, out,
                                         sizeof out, &len, &d),
                 SFRAME_ERR_SDP_SECTION_COUNT_MISMATCH);
    CHECK(d.expected == 1 && d.found == 2);
    /* A short text buffer: the length needed, nothing written. */
    memset(out, 0xee, sizeof out);
    CHECK_STATUS(sframe_sdp_strip_sframe(SDP_FIREFOX_OFFER, SDP_FIREFOX_OFFER_LEN, out, sizeof out,
                                         &len, &d),
                 SFRAME_ERR_BUFFER_TOO_SMALL);
    CHECK(len == SDP_FIREFOX_OFFER_LEN && (unsigned char)out[0] == 0xee);
    CHECK(d.line == 0 && d.conflict.payload_type == 0);
    /* NULL where a value is needed; a NULL text with length 0 is an empty text. */
    bool has = false;
    SframeSdpSectionInfo info;
    CHECK_STATUS(sframe_sdp_section_count(SDP_FIREFOX_OFFER, SDP_FIREFOX_OFFER_LEN, NULL, NULL),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sdp_section_info(SDP_FIREFOX_OFFER, SDP_FIREFOX_OFFER_LEN, 0, NULL, NULL),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sdp_section_info(SDP_FIREFOX_OFFER, SDP_FIREFOX_OFFER_LEN, 2, &info, NULL),
                 SFRAME_ERR_SDP_NO_SUCH_SECTION);
    CHECK_STATUS(sframe_sdp_has_sframe(NULL, 4, 0, &has, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sdp_has_sframe(NULL, 0, 0, &has, NULL), SFRAME_ERR_SDP_NOT_SDP);
    CHECK_STATUS(sframe_sdp_find_mid(SDP_FIREFOX_OFFER, SDP_FIREFOX_OFFER_LEN, "0", 1, NULL, NULL),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sdp_add_sframe(SDP_FIREFOX_OFFER, SDP_FIREFOX_OFFER_LEN, 0, out, sizeof out,
                                       NULL, NULL),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_sdp_prepare_offer(SDP_FIREFOX_OFFER, SDP_FIREFOX_OFFER_LEN, NULL, 1, out,
                                          sizeof out, &len, NULL),
                 SFRAME_ERR_NULL_POINTER);
    CHECK(len == 0);
    CHECK_STATUS(sframe_sdp_check_answer(SDP_FIREFOX_OFFER, SDP_FIREFOX_OFFER_LEN, SDP_FIREFOX_ANSWER,
                                         SDP_FIREFOX_ANSWER_LEN, &required, 1, NULL, 2, &n, NULL),
                 SFRAME_ERR_NULL_POINTER);
    CHECK(n == 0);
}


/* ---------------------------------------------------------------- RTP sessions */

/* Packets of frames sent by a send stream, each copied into its own exactly-sized heap
 * buffer (ASan sees overruns), so that tests can drop, reorder and duplicate them. */
#define SESSION_MAX_PKTS 256
typedef struct {
    uint8_t *pkt[SESSION_MAX_PKTS];
    size_t len[SESSION_MAX_PKTS];
    size_t count;
} SessionPackets;

/* Sends one frame through `s` and appends its packets to `p`; returns the packet count. */
static size_t session_send(SframeSendStream *s, const uint8_t *media, size_t media_len,
                           uint32_t ts, SessionPackets *p, SframeSentFrame *sent_out) {
    size_t cap = sframe_send_stream_max_packets_len(s, media_len);
    size_t lens_cap = sframe_send_stream_max_packet_count(s, media_len);
    uint8_t *out = malloc(cap);
    size_t *lens = malloc(lens_cap * sizeof *lens);
    SframeSentFrame sent;
    CHECK(out != NULL && lens != NULL && cap > media_len && lens_cap > 0);
    CHECK_STATUS(sframe_send_stream_send_frame(s, media, media_len, ts, true, out, cap, lens,
                                               lens_cap, &sent),
                 SFRAME_OK);
    size_t at = 0;
    for (size_t i = 0; i < sent.packets && p->count < SESSION_MAX_PKTS; i++) {
        uint8_t *pkt = malloc(lens[i]);
        memcpy(pkt, out + at, lens[i]);
        p->pkt[p->count] = pkt;
        p->len[p->count] = lens[i];
        p->count++;
        at += lens[i];
    }
    CHECK(at == sent.len);
    if (sent_out) *sent_out = sent;
    free(out);
    free(lens);
    return sent.packets;
}

static void session_packets_free(SessionPackets *p) {
    for (size_t i = 0; i < p->count; i++) free(p->pkt[i]);
    p->count = 0;
}

/* What a drain of a session saw. */
typedef struct {
    int frames, awaiting, key_auth, key_auth_first, failed, from_buffer;
    SframeStatus last_error;
    uint64_t last_counter[2]; /* per stream index (by SSRC order in the test) */
} SessionSeen;

/* Polls until NONE. Frame plaintexts must be `len` bytes of (counter + fill) & 0xff. */
static void session_drain(SframeReceiveSession *r, uint64_t now, uint8_t fill, SessionSeen *seen,
                          SframeSessionEvent *events, size_t events_cap, size_t *n_events) {
    uint8_t *out = malloc(SFRAME_SESSION_MAX_FRAME_SIZE);
    for (int guard = 0; guard < 10000; guard++) {
        SframeSessionEvent e;
        CHECK_STATUS(sframe_receive_session_poll(r, out, SFRAME_SESSION_MAX_FRAME_SIZE, now, &e),
                     SFRAME_OK);
        if (e.kind == SFRAME_SESSION_NONE) break;
        if (events && n_events && *n_events < events_cap) events[(*n_events)++] = e;
        switch (e.kind) {
        case SFRAME_SESSION_FRAME: {
            seen->frames++;
            if (e.from_buffer) seen->from_buffer++;
            CHECK(e.has_kid && e.error == SFRAME_OK && e.marker && e.len > 0);
            int ok = 1;
            for (size_t i = 0; i < e.len; i++) ok &= out[i] == (uint8_t)(e.counter + fill);
            CHECK(ok);
            break;
        }
        case SFRAME_SESSION_AWAITING_KEY: seen->awaiting++; break;
        case SFRAME_SESSION_KEY_AUTHENTICATED:
            seen->key_auth++;
            if (e.first) seen->key_auth_first++;
            break;
        case SFRAME_SESSION_FAILED:
            seen->failed++;
            seen->last_error = e.error;
            CHECK(e.error != SFRAME_OK);
            break;
        default: CHECK(0);
        }
    }
    free(out);
}

static SframeSendStream *send_stream(uint16_t suite, uint32_t ssrc, size_t max_payload,
                                     bool per_ssrc, uint16_t first_seq) {
    SframeSendStreamConfig c = {suite, ssrc, 96, false, max_payload, per_ssrc, first_seq};
    SframeSendStream *s = NULL;
    CHECK_STATUS(sframe_send_stream_new(&c, &s), SFRAME_OK);
    CHECK(s != NULL);
    return s;
}

static SframeReceiveSession *receive_session(uint16_t suite, bool per_ssrc, size_t streams) {
    SframeReceiveSession *r = NULL;
    CHECK_STATUS(sframe_receive_session_new(suite, per_ssrc, streams, 2000, &r), SFRAME_OK);
    CHECK(r != NULL);
    return r;
}

/* Suites 6 (video: 5000-byte frames in 1100-byte payloads) and 8 (audio: 160-byte frames, one
 * packet each), two SSRCs sharing one KID and base key with per-SSRC keys: packets lost,
 * reordered and duplicated; every complete frame comes out once, the lost one never. */
static void test_session_round_trip_loss_reorder(void) {
    const struct { uint16_t suite; size_t frame_len, max_payload; } cases[] = {
        {SFRAME_AES_256_CTR_HMAC_SHA512_80, 5000, 1100},
        {SFRAME_AES_256_CTR_HMAC_SHA512_32, 160, 1100},
    };
    for (size_t c = 0; c < 2; c++) {
        uint16_t suite = cases[c].suite;
        size_t flen = cases[c].frame_len;
        SframeSendStream *s[2] = {send_stream(suite, 0x1111u, cases[c].max_payload, true, 65530),
                                  send_stream(suite, 0x2222u, cases[c].max_payload, true, 7)};
        SframeReceiveSession *r = receive_session(suite, true, 4);
        for (int i = 0; i < 2; i++)
            CHECK_STATUS(sframe_send_stream_set_key(s[i], 42, KEY_B, sizeof KEY_B), SFRAME_OK);
        CHECK_STATUS(sframe_receive_session_add_key(r, 42, KEY_B, sizeof KEY_B), SFRAME_OK);
        uint8_t *media = malloc(flen);
        SessionPackets p = {0};
        size_t frame_start[2][4];
        for (uint64_t f = 0; f < 4; f++)
            for (int i = 0; i < 2; i++) {
                frame_start[i][f] = p.count;
                memset(media, (int)(f + 0x30), flen); /* fill 0x30: plaintext = counter + 0x30 */
                SframeSentFrame sent;
                session_send(s[i], media, flen, (uint32_t)(f * 3000), &p, &sent);
                CHECK(sent.kid == 42 && sent.counter == f);
            }
        /* Push every packet in reverse order, twice over, except the first packet of stream
         * 1's frame 2 (lost). */
        SframeSessionEvent events[64];
        size_t n_events = 0;
        SessionSeen seen = {0};
        for (int pass = 0; pass < 2; pass++)
            for (size_t k = p.count; k-- > 0;) {
                if (k == frame_start[1][2]) continue;
                SframeRtpPushed pushed = SFRAME_RTP_LATE;
                CHECK_STATUS(sframe_receive_session_push_packet(r, p.pkt[k], p.len[k], 10, &pushed),
                             SFRAME_OK);
                CHECK(pass == 0 ? (pushed == SFRAME_RTP_BUFFERED || pushed == SFRAME_RTP_FRAME_READY)
                                : pushed == SFRAME_RTP_DUPLICATE);
                session_drain(r, 10, 0x30, &seen, events, 64, &n_events);
            }
        CHECK(seen.frames == 7 && seen.failed == 0 && seen.awaiting == 0);
        CHECK(seen.key_auth == 2 && seen.key_auth_first == 1);
        SframeStreamStats st;
        bool found = false;
        CHECK_STATUS(sframe_receive_session_stream_stats(r, 0x2222u, &st, &found), SFRAME_OK);
        CHECK(found && st.ssrc == 0x2222u && st.authenticated && st.frames_out == 3);
        CHECK(st.packets.duplicates > 0 && st.bytes_out == 3 * flen);
        CHECK_STATUS(sframe_receive_session_stream_stats(r, 0x1111u, &st, &found), SFRAME_OK);
        CHECK(found && st.frames_out == 4 && st.failures.authentication == 0);
        SframeSessionStats ss;
        CHECK_STATUS(sframe_receive_session_stats(r, &ss), SFRAME_OK);
        CHECK(ss.streams == 2 && ss.capacity == 4 && ss.keys_active == 1);
        CHECK(ss.slot_bytes >= SFRAME_SESSION_MAX_FRAME_SIZE + SFRAME_SESSION_WAIT_BYTES);
        SframeKidStats ks;
        CHECK_STATUS(sframe_receive_session_kid_stats(r, 42, &ks, &found), SFRAME_OK);
        CHECK(found && ks.active && ks.authenticated && ks.streams_authenticated == 2);
        CHECK(ks.counters.frames == 7 && !ks.ratcheting);
        SframeSendStats sst;
        CHECK_STATUS(sframe_send_stream_stats(s[0], &sst), SFRAME_OK);
        CHECK(sst.frames == 4 && sst.packets == frame_start[1][0] * 4 &&
              sst.next_sequence == (uint16_t)(65530 + sst.packets));
        /* Without per-SSRC keys the same packets do not authenticate. */
        SframeReceiveSession *plain = receive_session(suite, false, 4);
        CHECK_STATUS(sframe_receive_session_add_key(plain, 42, KEY_B, sizeof KEY_B), SFRAME_OK);
        SessionSeen bad = {0};
        for (size_t k = 0; k < p.count; k++)
            CHECK_STATUS(sframe_receive_session_push_packet(plain, p.pkt[k], p.len[k], 0, NULL),
                         SFRAME_OK);
        session_drain(plain, 0, 0x30, &bad, NULL, 0, NULL);
        CHECK(bad.frames == 0 && bad.failed == 8 && bad.last_error == SFRAME_ERR_AUTHENTICATION_FAILED);
        sframe_receive_session_free(plain);
        session_packets_free(&p);
        free(media);
        sframe_receive_session_free(r);
        sframe_send_stream_free(s[0]);
        sframe_send_stream_free(s[1]);
    }
}

/* A viewer that starts without the key: frames wait (AWAITING_KEY), come out of the buffer in
 * order once the key is added, and KEY_AUTHENTICATED is reported once. */
static void test_session_awaiting_key(void) {
    uint16_t suite = SFRAME_AES_256_CTR_HMAC_SHA512_80;
    SframeSendStream *s = send_stream(suite, 0xabcdu, 1000, true, 0);
    SframeReceiveSession *r = receive_session(suite, true, 2);
    CHECK_STATUS(sframe_send_stream_set_key(s, 9, KEY_A, sizeof KEY_A), SFRAME_OK);
    uint8_t media[3000];
    SessionPackets p = {0};
    SframeSessionEvent ev[32];
    size_t n = 0;
    SessionSeen seen = {0};
    for (uint64_t f = 0; f < 2; f++) {
        memset(media, (int)(f + 1), sizeof media);
        session_send(s, media, sizeof media, 0, &p, NULL);
    }
    for (size_t k = 0; k < p.count; k++)
        CHECK_STATUS(sframe_receive_session_push_packet(r, p.pkt[k], p.len[k], 0, NULL), SFRAME_OK);
    session_drain(r, 0, 1, &seen, ev, 32, &n);
    CHECK(n == 2 && seen.awaiting == 2 && seen.frames == 0);
    CHECK(ev[0].kind == SFRAME_SESSION_AWAITING_KEY && ev[0].kid == 9 && ev[0].counter == 0 &&
          ev[0].ssrc == 0xabcdu);
    SframeStreamStats st;
    bool found = false;
    CHECK_STATUS(sframe_receive_session_stream_stats(r, 0xabcdu, &st, &found), SFRAME_OK);
    CHECK(found && st.waiting == 2 && st.waiting_bytes > 0 && !st.authenticated);
    CHECK_STATUS(sframe_receive_session_add_key(r, 9, KEY_A, sizeof KEY_A), SFRAME_OK);
    n = 0;
    session_drain(r, 100, 1, &seen, ev, 32, &n);
    CHECK(seen.frames == 2 && seen.from_buffer == 2 && seen.key_auth == 1 && seen.key_auth_first == 1);
    CHECK(n == 3 && ev[0].kind == SFRAME_SESSION_FRAME && ev[0].counter == 0);
    CHECK(ev[1].kind == SFRAME_SESSION_KEY_AUTHENTICATED && ev[1].kid == 9 && ev[1].first);
    CHECK(ev[2].kind == SFRAME_SESSION_FRAME && ev[2].counter == 1 && ev[2].from_buffer);
    /* The next frame does not wait, and the key is not reported again. */
    memset(media, 3, sizeof media);
    session_packets_free(&p);
    session_send(s, media, sizeof media, 0, &p, NULL);
    for (size_t k = 0; k < p.count; k++)
        CHECK_STATUS(sframe_receive_session_push_packet(r, p.pkt[k], p.len[k], 200, NULL), SFRAME_OK);
    n = 0;
    session_drain(r, 200, 1, &seen, ev, 32, &n);
    CHECK(n == 1 && ev[0].kind == SFRAME_SESSION_FRAME && !ev[0].from_buffer && ev[0].counter == 2);
    CHECK(seen.key_auth == 1);
    CHECK_STATUS(sframe_receive_session_stream_stats(r, 0xabcdu, &st, &found), SFRAME_OK);
    CHECK(st.waited == 2 && st.released == 2 && st.waiting == 0 && st.frames_out == 3);
    session_packets_free(&p);
    sframe_receive_session_free(r);
    sframe_send_stream_free(s);
}

/* Key rotation: a new KID, then the old one removed; frames under the removed KID then fail,
 * and it cannot come back. A ratcheting stream's later steps decrypt. */
static void test_session_key_rotation_and_removal(void) {
    uint16_t suite = SFRAME_AES_256_CTR_HMAC_SHA512_32;
    SframeSendStream *s = send_stream(suite, 77, 1200, true, 100);
    SframeReceiveSession *r = receive_session(suite, true, 2);
    uint8_t media[100];
    SessionPackets p = {0}, old = {0};
    SessionSeen seen = {0};
    CHECK_STATUS(sframe_send_stream_set_key(s, 1, KEY_A, sizeof KEY_A), SFRAME_OK);
    CHECK_STATUS(sframe_receive_session_add_key(r, 1, KEY_A, sizeof KEY_A), SFRAME_OK);
    memset(media, 0, sizeof media);
    session_send(s, media, sizeof media, 0, &p, NULL); /* counter 0 under KID 1 */
    memset(media, 1, sizeof media);
    session_send(s, media, sizeof media, 0, &old, NULL); /* counter 1 under KID 1: held back */
    CHECK_STATUS(sframe_receive_session_push_packet(r, p.pkt[0], p.len[0], 0, NULL), SFRAME_OK);
    session_drain(r, 0, 0, &seen, NULL, 0, NULL);
    CHECK(seen.frames == 1 && seen.key_auth == 1);
    /* Rotation: KID 2 with KEY_B. */
    CHECK_STATUS(sframe_receive_session_add_key(r, 2, KEY_B, sizeof KEY_B), SFRAME_OK);
    CHECK_STATUS(sframe_send_stream_set_key(s, 2, KEY_B, sizeof KEY_B), SFRAME_OK);
    uint64_t kid = 0, ctr = 7;
    CHECK_STATUS(sframe_send_stream_key_id(s, &kid), SFRAME_OK);
    CHECK_STATUS(sframe_send_stream_next_counter(s, &ctr), SFRAME_OK);
    CHECK(kid == 2 && ctr == 0);
    session_packets_free(&p);
    memset(media, 0, sizeof media);
    session_send(s, media, sizeof media, 0, &p, NULL);
    CHECK_STATUS(sframe_receive_session_push_packet(r, p.pkt[0], p.len[0], 0, NULL), SFRAME_OK);
    session_drain(r, 0, 0, &seen, NULL, 0, NULL);
    CHECK(seen.frames == 2 && seen.key_auth == 2 && seen.key_auth_first == 2);
    /* KID 1 removed: its late frame fails, and it cannot be added again. */
    CHECK_STATUS(sframe_receive_session_remove_key(r, 1), SFRAME_OK);
    CHECK_STATUS(sframe_receive_session_remove_key(r, 1), SFRAME_ERR_UNKNOWN_KEY_ID);
    CHECK_STATUS(sframe_receive_session_add_key(r, 1, KEY_A, sizeof KEY_A), SFRAME_ERR_STALE_EPOCH);
    CHECK_STATUS(sframe_receive_session_push_packet(r, old.pkt[0], old.len[0], 0, NULL), SFRAME_OK);
    session_drain(r, 0, 0, &seen, NULL, 0, NULL);
    CHECK(seen.frames == 2 && seen.failed == 1 && seen.last_error == SFRAME_ERR_UNKNOWN_KEY_ID);
    SframeKidStats ks;
    bool found = false;
    CHECK_STATUS(sframe_receive_session_kid_stats(r, 1, &ks, &found), SFRAME_OK);
    CHECK(found && !ks.active && ks.counters.frames == 1 && ks.counters.failures.unknown_key == 1);
    CHECK_STATUS(sframe_receive_session_kid_stats(r, 12345, &ks, &found), SFRAME_OK);
    CHECK(!found);
    SframeSessionStats ss;
    CHECK_STATUS(sframe_receive_session_stats(r, &ss), SFRAME_OK);
    CHECK(ss.keys_active == 1 && ss.keys_removed == 1);
    /* A ratchet chain: step 1's frames decrypt under the key added for step 0. */
    uint64_t rkid = 0;
    CHECK_STATUS(sframe_send_stream_set_ratcheting_key(s, 4, 3, KEY_B, sizeof KEY_B, &rkid), SFRAME_OK);
    CHECK(rkid == (3u << 4));
    CHECK_STATUS(sframe_receive_session_add_ratcheting_key(r, 4, rkid, KEY_B, sizeof KEY_B), SFRAME_OK);
    CHECK_STATUS(sframe_send_stream_ratchet(s, &rkid), SFRAME_OK);
    CHECK(rkid == (3u << 4) + 1);
    session_packets_free(&p);
    session_send(s, media, sizeof media, 0, &p, NULL);
    CHECK_STATUS(sframe_receive_session_push_packet(r, p.pkt[0], p.len[0], 0, NULL), SFRAME_OK);
    session_drain(r, 0, 0, &seen, NULL, 0, NULL);
    CHECK(seen.frames == 3);
    CHECK_STATUS(sframe_receive_session_kid_stats(r, 3u << 4, &ks, &found), SFRAME_OK);
    CHECK(found && ks.ratcheting && ks.counters.frames == 1);
    CHECK_STATUS(sframe_receive_session_add_ratcheting_key(r, 1, 5, KEY_B, sizeof KEY_B),
                 SFRAME_ERR_INVALID_CONFIG);
    session_packets_free(&p);
    session_packets_free(&old);
    sframe_receive_session_free(r);
    sframe_send_stream_free(s);
}

/* test-vectors/rtp-ssrc-keys.json, suites 6 and 8 (same HKDF-SHA512): a frame protected with
 * hazmat under a vector's per-SSRC key decrypts in a session given the base key, and a send
 * stream given the base key makes frames that decrypt under the vector's per-SSRC key. */
static const struct {
    uint32_t ssrc;
    uint64_t kid;
    size_t base_len;
    uint8_t base[32], ssrc_key[64];
} SSRC_VECTORS[] = {
    {0u, 0, 16, {0x00,0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,0x09,0x0a,0x0b,0x0c,0x0d,0x0e,0x0f}, {0xab,0x5f,0x29,0x5a,0xd2,0x26,0x8b,0xb3,0x9e,0x28,0x7f,0x6f,0x9f,0xfb,0x04,0x2c,0x58,0x43,0xf6,0x48,0x2b,0x8f,0xaa,0x64,0x39,0x2d,0x08,0x2e,0x51,0x8e,0x90,0x4d,0x42,0xd4,0xce,0x82,0x2a,0x48,0x21,0xb9,0xd5,0xe6,0x1e,0x4c,0x03,0x6c,0xec,0xf6,0x99,0x32,0x57,0xae,0x4f,0xc3,0x91,0x31,0x6a,0xbc,0xb6,0x35,0x68,0x5e,0x4a,0xc5}},
    {305419896u, 74, 16, {0x00,0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,0x09,0x0a,0x0b,0x0c,0x0d,0x0e,0x0f}, {0x3b,0x53,0x71,0xe2,0x49,0x52,0xc3,0x6b,0x98,0x88,0xd0,0x69,0x7a,0x5d,0x59,0x8c,0x33,0x21,0x86,0x62,0x27,0x2b,0x86,0x7f,0xd3,0x4a,0x7f,0xa0,0xcd,0xff,0x39,0x50,0x8c,0xa8,0xf0,0x8a,0x72,0x60,0x08,0xaa,0x70,0x20,0x47,0x7c,0x4a,0xf2,0x01,0xa0,0x03,0xcc,0x17,0x88,0x36,0xa2,0x7d,0xc8,0x28,0x79,0x7b,0x88,0xb2,0x52,0xe5,0x30}},
    {4294967295u, 259, 32, {0x01,0x23,0x45,0x67,0x89,0xab,0xcd,0xef,0x01,0x23,0x45,0x67,0x89,0xab,0xcd,0xef,0x01,0x23,0x45,0x67,0x89,0xab,0xcd,0xef,0x01,0x23,0x45,0x67,0x89,0xab,0xcd,0xef}, {0xdc,0xa3,0xc5,0x4d,0x81,0x41,0xa1,0xff,0x41,0xcc,0x2e,0x83,0x8d,0xb7,0x1b,0x1b,0xde,0xc4,0xf1,0x31,0x74,0x48,0x2e,0xb6,0xbb,0x75,0x03,0xf8,0xa6,0xae,0x6e,0x90,0xb6,0x03,0x2b,0x21,0x2e,0xb4,0xf9,0x0b,0x77,0x42,0xf4,0xfb,0x6f,0xb5,0xcc,0x58,0x53,0x7c,0x5a,0xfd,0xcf,0x06,0x29,0x3f,0x00,0x55,0x71,0xcc,0xdf,0x8e,0x98,0xff}},
};

static void test_session_ssrc_key_vectors(void) {
    const uint16_t suites[2] = {SFRAME_AES_256_CTR_HMAC_SHA512_80, SFRAME_AES_256_CTR_HMAC_SHA512_32};
    const uint8_t pt[5] = {'v', 'e', 'c', 't', 'r'};
    for (size_t si = 0; si < 2; si++) {
        for (size_t v = 0; v < sizeof SSRC_VECTORS / sizeof SSRC_VECTORS[0]; v++) {
            uint16_t suite = suites[si];
            /* Receive: hazmat frame under the per-SSRC key, session given the base key. */
            uint8_t frame[64], pkt[128], out[64];
            size_t flen = 0, plen = 0;
            CHECK_STATUS(sframe_hazmat_protect_frame(suite, SSRC_VECTORS[v].kid, 5,
                                                     SSRC_VECTORS[v].ssrc_key, 64, NULL, 0, pt,
                                                     sizeof pt, frame, sizeof frame, &flen),
                         SFRAME_OK);
            SframeRtpHeader h = {true, 96, 1, 0, SSRC_VECTORS[v].ssrc};
            CHECK_STATUS(sframe_rtp_write_fragment(frame, flen, false, 1000, 0, &h, pkt, sizeof pkt,
                                                   &plen),
                         SFRAME_OK);
            for (int per_ssrc = 1; per_ssrc >= 0; per_ssrc--) {
                SframeReceiveSession *r = receive_session(suite, per_ssrc, 1);
                CHECK_STATUS(sframe_receive_session_add_key(r, SSRC_VECTORS[v].kid,
                                                            SSRC_VECTORS[v].base,
                                                            SSRC_VECTORS[v].base_len),
                             SFRAME_OK);
                CHECK_STATUS(sframe_receive_session_push_packet(r, pkt, plen, 0, NULL), SFRAME_OK);
                SframeSessionEvent e;
                CHECK_STATUS(sframe_receive_session_poll(r, out, sizeof out, 0, &e), SFRAME_OK);
                if (per_ssrc) {
                    CHECK(e.kind == SFRAME_SESSION_FRAME && e.len == sizeof pt &&
                          memcmp(out, pt, sizeof pt) == 0 && e.counter == 5 &&
                          e.ssrc == SSRC_VECTORS[v].ssrc && e.kid == SSRC_VECTORS[v].kid);
                } else {
                    /* The base key itself is not the stream's key. */
                    CHECK(e.kind == SFRAME_SESSION_FAILED &&
                          e.error == SFRAME_ERR_AUTHENTICATION_FAILED);
                }
                sframe_receive_session_free(r);
            }
            /* Send: a stream given the base key uses the vector's per-SSRC key. */
            SframeSendStream *s = send_stream(suite, SSRC_VECTORS[v].ssrc, 1000, true, 0);
            CHECK_STATUS(sframe_send_stream_set_key(s, SSRC_VECTORS[v].kid, SSRC_VECTORS[v].base,
                                                    SSRC_VECTORS[v].base_len),
                         SFRAME_OK);
            size_t lens[1];
            SframeSentFrame sent;
            CHECK(sframe_send_stream_max_packet_count(s, sizeof pt) == 1);
            CHECK_STATUS(sframe_send_stream_send_frame(s, pt, sizeof pt, 0, true, pkt, sizeof pkt,
                                                       lens, 1, &sent),
                         SFRAME_OK);
            SframeReceiver *plain = sframe_receiver_new(suite);
            CHECK_STATUS(sframe_receiver_add_key(plain, SSRC_VECTORS[v].kid,
                                                 SSRC_VECTORS[v].ssrc_key, 64),
                         SFRAME_OK);
            size_t n = 0;
            CHECK(sent.packets == 1 && lens[0] > 13);
            CHECK_STATUS(sframe_receiver_unprotect(plain, NULL, 0, pkt + 13, lens[0] - 13, out,
                                                   sizeof out, &n),
                         SFRAME_OK);
            CHECK(n == sizeof pt && memcmp(out, pt, n) == 0);
            sframe_receiver_free(plain);
            sframe_send_stream_free(s);
        }
    }
}

static void test_session_misuse(void) {
    uint16_t suite = SFRAME_AES_256_CTR_HMAC_SHA512_80;
    SframeSendStreamConfig c = {suite, 5, 96, false, 1000, true, 0};
    SframeSendStream *s = (SframeSendStream *)&c; /* must be overwritten with NULL on error */
    CHECK_STATUS(sframe_send_stream_new(NULL, &s), SFRAME_ERR_NULL_POINTER);
    CHECK(s == NULL);
    CHECK_STATUS(sframe_send_stream_new(&c, NULL), SFRAME_ERR_NULL_POINTER);
    c.payload_type = 128;
    CHECK_STATUS(sframe_send_stream_new(&c, &s), SFRAME_ERR_INVALID_CONFIG);
    c.payload_type = 96;
    c.max_payload_len = 1;
    CHECK_STATUS(sframe_send_stream_new(&c, &s), SFRAME_ERR_INVALID_CONFIG);
    c.max_payload_len = 1000;
    c.cipher_suite = 9;
    CHECK_STATUS(sframe_send_stream_new(&c, &s), SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE);
    CHECK(s == NULL);
    c.cipher_suite = suite;
    CHECK_STATUS(sframe_send_stream_new(&c, &s), SFRAME_OK);
    /* NULL stream. */
    uint64_t kid = 0;
    CHECK_STATUS(sframe_send_stream_set_key(NULL, 1, KEY_A, 16), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_send_stream_set_ratcheting_key(NULL, 4, 0, KEY_A, 16, NULL),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_send_stream_ratchet(NULL, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_send_stream_key_id(NULL, &kid), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_send_stream_next_counter(s, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_send_stream_stats(s, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK(sframe_send_stream_max_packets_len(NULL, 10) == 0);
    CHECK(sframe_send_stream_max_packet_count(NULL, 10) == 0);
    CHECK(sframe_send_stream_overhead(NULL) == 0);
    CHECK(sframe_send_stream_max_media_payload_len(NULL) == 0);
    CHECK(sframe_send_stream_overhead(s) == 1 + SFRAME_MAX_HEADER_LEN + 10);
    CHECK(sframe_send_stream_max_media_payload_len(s) == 1000 - (1 + SFRAME_MAX_HEADER_LEN + 10));
    /* No key yet; bad keys. */
    CHECK_STATUS(sframe_send_stream_key_id(s, &kid), SFRAME_ERR_NO_KEY);
    CHECK_STATUS(sframe_send_stream_ratchet(s, &kid), SFRAME_ERR_NO_KEY);
    CHECK_STATUS(sframe_send_stream_set_key(s, 1, KEY_A, 15), SFRAME_ERR_INVALID_KEY);
    CHECK_STATUS(sframe_send_stream_set_key(s, 1, NULL, 16), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_send_stream_set_ratcheting_key(s, 1, 0, KEY_A, 16, &kid),
                 SFRAME_ERR_INVALID_CONFIG);
    uint8_t media[2500], out[4096];
    size_t lens[8];
    memset(media, 7, sizeof media);
    SframeSentFrame sent = {1, 1, 1, 1, 1};
    CHECK_STATUS(sframe_send_stream_send_frame(s, media, sizeof media, 0, true, out, sizeof out,
                                               lens, 8, &sent),
                 SFRAME_ERR_NO_KEY);
    CHECK(sent.len == 0 && sent.packets == 0);
    CHECK_STATUS(sframe_send_stream_set_key(s, 1, KEY_A, 16), SFRAME_OK);
    /* A second stream with the same SSRC, base key and KID would reuse nonces: refused. */
    SframeSendStream *twin = NULL;
    CHECK_STATUS(sframe_send_stream_new(&c, &twin), SFRAME_OK);
    CHECK_STATUS(sframe_send_stream_set_key(twin, 1, KEY_A, 16), SFRAME_ERR_KEY_IN_USE);
    sframe_send_stream_free(twin);
    /* Short buffers: nothing written, no counter or sequence number used. */
    size_t need = sframe_send_stream_max_packets_len(s, sizeof media);
    size_t count = sframe_send_stream_max_packet_count(s, sizeof media);
    CHECK(need <= sizeof out && count == 3);
    out[0] = 0xee;
    CHECK_STATUS(sframe_send_stream_send_frame(s, media, sizeof media, 0, true, out, need - 1,
                                               lens, 8, &sent),
                 SFRAME_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(sframe_send_stream_send_frame(s, media, sizeof media, 0, true, out, need,
                                               lens, count - 1, &sent),
                 SFRAME_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(sframe_send_stream_send_frame(s, media, sizeof media, 0, true, out, need, NULL,
                                               count, &sent),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_send_stream_send_frame(s, media, sizeof media, 0, true, out, need, lens,
                                               count, NULL),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_send_stream_send_frame(s, NULL, 1, 0, true, out, need, lens, count, &sent),
                 SFRAME_ERR_NULL_POINTER);
    CHECK(out[0] == 0xee);
    uint64_t ctr = 9;
    SframeSendStats st;
    CHECK_STATUS(sframe_send_stream_next_counter(s, &ctr), SFRAME_OK);
    CHECK_STATUS(sframe_send_stream_stats(s, &st), SFRAME_OK);
    CHECK(ctr == 0 && st.frames == 0 && st.next_sequence == 0);
    /* Exact sizes work; the packets are back to back. */
    CHECK_STATUS(sframe_send_stream_send_frame(s, media, sizeof media, 0, true, out, need, lens,
                                               count, &sent),
                 SFRAME_OK);
    CHECK(sent.packets == 3 && lens[0] == 12 + 1000 && lens[1] == 12 + 1000 &&
          lens[0] + lens[1] + lens[2] == sent.len && sent.len <= need);
    /* Receive side. */
    SframeReceiveSession *r = (SframeReceiveSession *)&c;
    CHECK_STATUS(sframe_receive_session_new(suite, true, 0, 0, &r), SFRAME_ERR_INVALID_CONFIG);
    CHECK(r == NULL);
    CHECK_STATUS(sframe_receive_session_new(suite, true, SFRAME_SESSION_MAX_STREAMS + 1, 0, &r),
                 SFRAME_ERR_INVALID_CONFIG);
    CHECK_STATUS(sframe_receive_session_new(9, true, 1, 0, &r),
                 SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE);
    CHECK_STATUS(sframe_receive_session_new(suite, true, 1, 0, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receive_session_new(suite, true, 1, SFRAME_SESSION_NO_MAX_WAIT, &r),
                 SFRAME_OK);
    SframeSessionEvent e;
    SframeSessionStats ss;
    SframeStreamStats sst;
    SframeKidStats ks;
    bool found = true;
    CHECK_STATUS(sframe_receive_session_add_key(NULL, 1, KEY_A, 16), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receive_session_add_key(r, 1, KEY_A, 15), SFRAME_ERR_INVALID_KEY);
    CHECK_STATUS(sframe_receive_session_add_ratcheting_key(NULL, 4, 1, KEY_A, 16),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receive_session_remove_key(NULL, 1), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receive_session_remove_key(r, 1), SFRAME_ERR_UNKNOWN_KEY_ID);
    CHECK_STATUS(sframe_receive_session_push_packet(NULL, out, lens[0], 0, NULL),
                 SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receive_session_push_packet(r, NULL, 0, 0, NULL), SFRAME_ERR_MALFORMED_FRAME);
    CHECK_STATUS(sframe_receive_session_push_packet(r, out, 11, 0, NULL), SFRAME_ERR_MALFORMED_FRAME);
    CHECK_STATUS(sframe_receive_session_poll(NULL, out, sizeof out, 0, &e), SFRAME_ERR_NULL_POINTER);
    CHECK(e.kind == SFRAME_SESSION_NONE);
    CHECK_STATUS(sframe_receive_session_poll(r, out, sizeof out, 0, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receive_session_poll(r, NULL, 1, 0, &e), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receive_session_stats(NULL, &ss), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receive_session_stats(r, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receive_session_stream_stats(r, 5, NULL, &found), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receive_session_stream_stats(r, 5, &sst, NULL), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receive_session_stream_stats(NULL, 5, &sst, &found), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receive_session_kid_stats(NULL, 1, &ks, &found), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receive_session_kid_stats(r, 1, NULL, &found), SFRAME_ERR_NULL_POINTER);
    CHECK_STATUS(sframe_receive_session_stream_stats(r, 5, &sst, &found), SFRAME_OK);
    CHECK(!found);
    CHECK_STATUS(sframe_receive_session_stats(r, &ss), SFRAME_OK);
    CHECK(ss.packets_malformed == 2 && ss.streams == 0);
    /* A frame into a too small `out`: a FAILED event (BUFFER_TOO_SMALL), not a status. */
    CHECK_STATUS(sframe_receive_session_add_key(r, 1, KEY_A, 16), SFRAME_OK);
    uint8_t *pk = malloc(sent.len);
    memcpy(pk, out, sent.len);
    SframeRtpPushed pushed = SFRAME_RTP_LATE;
    for (size_t i = 0, at = 0; i < sent.packets; at += lens[i], i++)
        CHECK_STATUS(sframe_receive_session_push_packet(r, pk + at, lens[i], 0, &pushed), SFRAME_OK);
    CHECK(pushed == SFRAME_RTP_FRAME_READY);
    uint8_t small[100];
    CHECK_STATUS(sframe_receive_session_poll(r, small, sizeof small, 0, &e), SFRAME_OK);
    CHECK(e.kind == SFRAME_SESSION_FAILED && e.error == SFRAME_ERR_BUFFER_TOO_SMALL && e.ssrc == 5);
    CHECK_STATUS(sframe_receive_session_poll(r, small, sizeof small, 0, &e), SFRAME_OK);
    CHECK(e.kind == SFRAME_SESSION_NONE);
    /* One slot, taken by an authenticated stream? Not yet (the frame failed): a new SSRC evicts
     * it. Once a stream authenticated, a new SSRC is refused. */
    CHECK_STATUS(sframe_send_stream_send_frame(s, media, 10, 0, true, out, need, lens, count, &sent),
                 SFRAME_OK);
    CHECK_STATUS(sframe_receive_session_push_packet(r, out, lens[0], 0, &pushed), SFRAME_OK);
    uint8_t *big = malloc(SFRAME_SESSION_MAX_FRAME_SIZE);
    CHECK_STATUS(sframe_receive_session_poll(r, big, SFRAME_SESSION_MAX_FRAME_SIZE, 0, &e), SFRAME_OK);
    CHECK(e.kind == SFRAME_SESSION_FRAME && e.len == 10);
    free(big);
    out[8] ^= 0x01; /* another SSRC */
    CHECK_STATUS(sframe_receive_session_push_packet(r, out, lens[0], 0, &pushed), SFRAME_OK);
    CHECK(pushed == SFRAME_RTP_STREAM_REFUSED);
    CHECK_STATUS(sframe_receive_session_stats(r, &ss), SFRAME_OK);
    CHECK(ss.ssrcs_refused == 1 && ss.streams == 1);
    free(pk);
    sframe_receive_session_free(r);
    /* A complete frame without an SFrame header: FAILED, MALFORMED_FRAME, no KID. */
    CHECK_STATUS(sframe_receive_session_new(suite, false, 1, 0, &r), SFRAME_OK);
    const uint8_t junk[14] = {0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0xc0, 0xff};
    CHECK_STATUS(sframe_receive_session_push_packet(r, junk, sizeof junk, 0, &pushed), SFRAME_OK);
    CHECK(pushed == SFRAME_RTP_FRAME_READY);
    CHECK_STATUS(sframe_receive_session_poll(r, small, sizeof small, 0, &e), SFRAME_OK);
    CHECK(e.kind == SFRAME_SESSION_FAILED && e.error == SFRAME_ERR_MALFORMED_FRAME && !e.has_kid &&
          e.ssrc == 9);
    sframe_receive_session_free(r);
    sframe_receive_session_free(NULL);
    sframe_send_stream_free(s);
    sframe_send_stream_free(NULL);
}


#define T(f) {#f, f}
static const TestCase TESTS[] = {
    T(test_status_strings),        T(test_version_and_backend),
    T(test_cipher_suite_info),     T(test_rfc_header_vectors),
    T(test_header_misuse),         T(test_vectors_cover_every_suite),
    T(test_rfc_vectors_unprotect),
    T(test_rfc_vectors_protect),   T(test_hazmat_misuse),         T(test_tampered_frames),
    T(test_round_trip_every_suite), T(test_sender_state),
    T(test_counter_exhausted),     T(test_sender_usage_limit),
    T(test_short_output_buffers),  T(test_aliasing_buffers),
    T(test_key_in_use),
    T(test_receiver_keys),         T(test_receiver_config),       T(test_replay_window),
    T(test_receiver_auth_failure_limit), T(test_in_place_misuse),
    T(test_ratchet),               T(test_mls_epochs),
    T(test_mls_evicted_epoch_cannot_come_back),
    T(test_null_and_zero_length),  T(test_malformed_inputs),
    T(test_rtp_loss_reorder_duplicates), T(test_rtp_sequence_validation),
    T(test_rtp_tamper_and_misuse),
    T(test_rtp_ssrc_keys),         T(test_rtp_ssrc_key_vectors),
    T(test_sdp_browser_fixtures_add_remove_byte_identical),
    T(test_sdp_check_answer_browser_outcomes), T(test_sdp_offer_answer_round),
    T(test_sdp_errors_and_misuse),
    T(test_session_round_trip_loss_reorder), T(test_session_awaiting_key),
    T(test_session_key_rotation_and_removal), T(test_session_ssrc_key_vectors),
    T(test_session_misuse),
};

int main(void) {
    int passed = 0, failed = 0;
    size_t count = sizeof TESTS / sizeof TESTS[0];
    printf("sframe C ABI tests (library %s, backend %s)\n", sframe_version(), sframe_backend());
    for (size_t i = 0; i < count; i++) {
        int before = g_failed_checks;
        TESTS[i].fn();
        if (g_failed_checks == before) {
            passed++;
            printf("ok   %s\n", TESTS[i].name);
        } else {
            failed++;
            printf("FAIL %s\n", TESTS[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
