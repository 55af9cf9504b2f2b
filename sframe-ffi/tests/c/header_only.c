/*
 * header_only.c: includes nothing of the project but <sframe.h> and uses its public API;
 * the stage compiles it with -std=c99 -pedantic -Werror through pkg-config (shared and static)
 * to prove the installed header and library are all a C project needs.
 */
#include <sframe.h>

int main(void) {
    static const uint8_t key[SFRAME_MIN_BASE_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8,
                                                          9, 10, 11, 12, 13, 14, 15, 16};
    static const uint8_t payload[5] = {'h', 'e', 'l', 'l', 'o'};
    uint8_t frame[5 + SFRAME_MAX_HEADER_LEN + 16];
    uint8_t plain[sizeof frame];
    size_t frame_len = 0, plain_len = 0, header_len = 0;
    uint64_t kid = 0, ctr = 0;
    int ok = 1;

    SframeSender *s = sframe_sender_new(SFRAME_AES_256_GCM_SHA512_128);
    SframeReceiver *r = sframe_receiver_new(SFRAME_AES_256_GCM_SHA512_128);
    ok &= s != NULL && r != NULL;
    ok &= sframe_sender_set_key(s, 7, key, sizeof key) == SFRAME_OK;
    ok &= sframe_receiver_add_key(r, 7, key, sizeof key) == SFRAME_OK;
    ok &= sframe_sender_max_output_len(s, sizeof payload) <= sizeof frame;
    ok &= sframe_sender_protect(s, NULL, 0, payload, sizeof payload, frame, sizeof frame,
                                &frame_len) == SFRAME_OK;
    ok &= sframe_header_parse(frame, frame_len, &kid, &ctr, &header_len) == SFRAME_OK;
    ok &= kid == 7 && ctr == 0 && header_len == 1;
    ok &= sframe_receiver_max_output_len(r, frame_len) <= sizeof plain;
    ok &= sframe_receiver_unprotect(r, NULL, 0, frame, frame_len, plain, sizeof plain,
                                    &plain_len) == SFRAME_OK;
    ok &= plain_len == sizeof payload && plain[0] == 'h' && plain[4] == 'o';
    ok &= sframe_receiver_remove_key(r, 7) == SFRAME_OK;
    ok &= sframe_status_str(SFRAME_ERR_REPLAY)[0] != '\0';
    sframe_sender_free(s);
    sframe_receiver_free(r);
    return ok ? 0 : 1;
}
