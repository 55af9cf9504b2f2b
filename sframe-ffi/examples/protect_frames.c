/*
 * protect_frames.c: a sender protects a stream of media frames with SFrame, a media server
 * reads only the clear header, and a receiver unprotects them, across a key rotation.
 *
 * Build (after `sframe-ffi/install.sh --prefix "$HOME/.local"`):
 *   cc protect_frames.c $(pkg-config --cflags --libs sframe) -o protect_frames
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sframe.h>

static int fail(const char *what, SframeStatus st) {
    fprintf(stderr, "%s: %s (%s)\n", what, sframe_status_str(st), sframe_status_name(st));
    return 1;
}

int main(void) {
    /* In a real call the base keys come from the key exchange (e.g. MLS); at least 16 bytes. */
    static const uint8_t epoch1_key[32] = "epoch 1 base key from MLS.....";
    static const uint8_t epoch2_key[32] = "epoch 2 base key from MLS.....";
    const uint16_t suite = SFRAME_AES_128_GCM_SHA256_128;

    SframeSender *alice = sframe_sender_new(suite);
    SframeReceiver *bob = sframe_receiver_new(suite);
    if (alice == NULL || bob == NULL) return 1;

    SframeStatus st = sframe_sender_set_key(alice, 0x10, epoch1_key, sizeof epoch1_key);
    if (st != SFRAME_OK) return fail("sender key", st);
    st = sframe_receiver_add_key(bob, 0x10, epoch1_key, sizeof epoch1_key);
    if (st != SFRAME_OK) return fail("receiver key", st);

    int rc = 0;
    for (int i = 0; i < 6 && rc == 0; i++) {
        if (i == 3) {
            /* Key rotation: the receiver learns the new key first, then the sender switches. */
            st = sframe_receiver_add_key(bob, 0x11, epoch2_key, sizeof epoch2_key);
            if (st == SFRAME_OK) st = sframe_sender_set_key(alice, 0x11, epoch2_key, sizeof epoch2_key);
            if (st != SFRAME_OK) return fail("rotation", st);
        }
        char frame[64];
        int len = snprintf(frame, sizeof frame, "encoded video frame #%d", i);
        /* Bytes sent in clear next to the frame (e.g. codec descriptor) go in as metadata:
         * authenticated, not encrypted, and the receiver must pass the same bytes. */
        const uint8_t metadata[2] = {0x90, (uint8_t)i};

        size_t cap = sframe_sender_max_output_len(alice, (size_t)len);
        uint8_t *protected_frame = malloc(cap);
        size_t protected_len = 0;
        st = sframe_sender_protect(alice, metadata, sizeof metadata, (const uint8_t *)frame,
                                   (size_t)len, protected_frame, cap, &protected_len);
        if (st != SFRAME_OK) {
            rc = fail("protect", st);
        } else {
            /* What a media server sees, without keys. */
            uint64_t kid = 0, ctr = 0;
            size_t header_len = 0;
            st = sframe_header_parse(protected_frame, protected_len, &kid, &ctr, &header_len);
            if (st != SFRAME_OK) rc = fail("header", st);

            size_t pcap = sframe_receiver_max_output_len(bob, protected_len);
            uint8_t *plain = malloc(pcap > 0 ? pcap : 1);
            size_t plain_len = 0;
            st = sframe_receiver_unprotect(bob, metadata, sizeof metadata, protected_frame,
                                           protected_len, plain, pcap, &plain_len);
            if (st != SFRAME_OK) {
                rc = fail("unprotect", st);
            } else if (plain_len != (size_t)len || memcmp(plain, frame, plain_len) != 0) {
                fprintf(stderr, "frame %d: plaintext mismatch\n", i);
                rc = 1;
            } else {
                printf("frame %d: KID 0x%llx CTR %llu, %d -> %zu bytes (header %zu): \"%.*s\"\n",
                       i, (unsigned long long)kid, (unsigned long long)ctr, len, protected_len,
                       header_len, (int)plain_len, (const char *)plain);
            }
            /* Replaying the same frame is refused. */
            if (rc == 0) {
                st = sframe_receiver_unprotect(bob, metadata, sizeof metadata, protected_frame,
                                               protected_len, plain, pcap, &plain_len);
                if (st != SFRAME_ERR_REPLAY) rc = fail("replay not detected", st);
            }
            free(plain);
        }
        free(protected_frame);
    }

    /* Old epoch done: drop its key. */
    if (rc == 0 && (st = sframe_receiver_remove_key(bob, 0x10)) != SFRAME_OK) rc = fail("remove", st);
    SframeKeyUsage usage;
    if (rc == 0 && sframe_sender_usage(alice, &usage) == SFRAME_OK)
        printf("current sender key protected %llu frames\n", (unsigned long long)usage.frames);

    sframe_sender_free(alice);
    sframe_receiver_free(bob);
    if (rc == 0) printf("protect_frames: ok (backend %s)\n", sframe_backend());
    return rc;
}
