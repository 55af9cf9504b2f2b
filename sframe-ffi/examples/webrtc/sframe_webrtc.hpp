/*
 * sframe_webrtc.hpp: header-only adapter from libwebrtc's frame encryption hooks
 * (webrtc::FrameEncryptorInterface / webrtc::FrameDecryptorInterface) to the sframe C API.
 *
 * ONE KID PER ENCRYPTOR. Each RtpSender (audio, video, screen share) gets its own
 * SframeFrameEncryptor, and each encryptor its own KID. Every encryptor counts frames from 0:
 * two encryptors with the same key and KID would encrypt different frames under the same
 * nonces (AES-GCM then leaks plaintext XORs and its authentication key). An encryptor given
 * the key material and KID of another live one of the process (on any thread) is refused:
 * SetKey() returns SFRAME_ERR_KEY_IN_USE, the encryptor keeps its previous key (or none, and
 * Encrypt() fails), never silently. Other processes are not compared: the rule itself is the
 * application's.
 *
 *   using sframe_webrtc::TrackKid;                // KID scheme below
 *   auto audio = rtc::make_ref_counted<sframe_webrtc::SframeFrameEncryptor>(SFRAME_AES_128_GCM_SHA256_128);
 *   auto video = rtc::make_ref_counted<sframe_webrtc::SframeFrameEncryptor>(SFRAME_AES_128_GCM_SHA256_128);
 *   if (audio->SetKey(TrackKid(sframe_webrtc::kAudioTrack, me, generation), key) != SFRAME_OK ||
 *       video->SetKey(TrackKid(sframe_webrtc::kVideoTrack, me, generation), key) != SFRAME_OK)
 *     return false;                               // refused: do not send unencrypted media
 *   audio_rtp_sender->SetFrameEncryptor(audio);   // WebRTC calls Encrypt on its encoder thread
 *   video_rtp_sender->SetFrameEncryptor(video);
 *   auto dec = rtc::make_ref_counted<sframe_webrtc::SframeFrameDecryptor>(SFRAME_AES_128_GCM_SHA256_128);
 *   dec->AddKey(TrackKid(sframe_webrtc::kAudioTrack, peer, generation), peer_key);   // one per track
 *   dec->AddKey(TrackKid(sframe_webrtc::kVideoTrack, peer, generation), peer_key);
 *   rtp_receiver->SetFrameDecryptor(dec);         // one decryptor may serve every track
 *
 * KID scheme (sframe-ffi/README.md): the RFC 9605 §5.2 layout with the track as its context,
 *   KID = track << (index_bits + epoch_bits) | participant << epoch_bits | key generation mod 2^epoch_bits
 * - with MLS it is exactly the §5.2 KID: SetMlsKey(MlsLayout(track), ...) (participant = leaf
 *   index, key generation = epoch);
 * - with plain keys, SetKey(TrackKid(track, participant, generation), key): a new base key
 *   gets a new generation, so a KID never carries two base keys;
 * - with the §5.1 ratchet, TrackKid(...) is the ratchet generation and the low R bits carry the
 *   step: SetRatchetingKey(R, TrackKid(track, participant, generation), key).
 *
 * Mapping:
 *   Encrypt(media_type, ssrc, additional_data, frame, encrypted_frame, bytes_written)
 *     -> sframe_sender_protect(metadata = additional_data, plaintext = frame,
 *                              out = encrypted_frame); returns 0 on success, else the
 *        SframeStatus value (non-zero) as WebRTC expects.
 *   GetMaxCiphertextByteSize(media_type, n) -> sframe_sender_max_output_len(n)
 *   Decrypt(media_type, csrcs, additional_data, encrypted_frame, frame)
 *     -> sframe_receiver_unprotect(...): OK -> kOk; UNKNOWN_KEY_ID (key not arrived yet) and
 *        REPLAY (duplicate) -> kRecoverable; anything else -> kFailedToDecrypt.
 *   GetMaxPlaintextByteSize(media_type, n) -> sframe_receiver_max_output_len(n)
 * `additional_data` (e.g. the generic frame descriptor) is authenticated as SFrame metadata:
 * both ends must see the same bytes. The SFrame KID in each frame selects the key, so one
 * decryptor serves every sender of a call.
 *
 * Threads: WebRTC calls Encrypt/Decrypt on its media threads while the application sets keys
 * from another; the sframe objects allow one thread at a time, so each adapter guards its
 * object with a mutex. Key calls are [[nodiscard]]: a refused key must be handled.
 *
 * Build against real libwebrtc by including this header after the webrtc headers are on the
 * include path; define SFRAME_WEBRTC_STANDIN to use examples/webrtc/webrtc_standin.h instead.
 */
#ifndef SFRAME_WEBRTC_HPP
#define SFRAME_WEBRTC_HPP

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include <sframe.h>

#ifdef SFRAME_WEBRTC_STANDIN
#include "webrtc_standin.h"
#else
#include "api/array_view.h"
#include "api/crypto/frame_decryptor_interface.h"
#include "api/crypto/frame_encryptor_interface.h"
#include "api/media_types.h"
#endif

namespace sframe_webrtc {

using MediaType = cricket::MediaType;
template <typename T>
using ArrayView = rtc::ArrayView<T>;

// Track numbers of the KID scheme (the §5.2 "context" field); use more for more tracks.
constexpr uint64_t kAudioTrack = 0;
constexpr uint64_t kVideoTrack = 1;
constexpr uint64_t kScreenTrack = 2;
// Field widths of the KID scheme: 2^kIndexBits participants, key generations told apart
// modulo 2^kEpochBits (RFC 9605 Figure 6 uses these values).
constexpr uint8_t kIndexBits = 6;
constexpr uint8_t kEpochBits = 4;

// The KID of one sending track: track << (kIndexBits + kEpochBits) | participant << kEpochBits
// | generation mod 2^kEpochBits. `participant` must be below 2^kIndexBits.
constexpr uint64_t TrackKid(uint64_t track, uint64_t participant, uint64_t generation) {
  return (track << (kIndexBits + kEpochBits)) | (participant << kEpochBits) |
         (generation & ((uint64_t{1} << kEpochBits) - 1));
}

// The same scheme as an MLS KID layout (RFC 9605 §5.2), for SetMlsKey and
// MlsReceiverConfig: the MLS context field carries the track.
constexpr SframeMlsKidLayout MlsLayout(uint64_t track) {
  return SframeMlsKidLayout{kEpochBits, kIndexBits, track};
}

// A receiver configuration with MLS epochs (the group's layout: any track's MlsLayout, the
// receiver reads the track from each KID) and the defaults otherwise.
inline SframeReceiverConfig MlsReceiverConfig(uint16_t cipher_suite) {
  SframeReceiverConfig config{};
  if (sframe_receiver_config_init(&config, cipher_suite) == SFRAME_OK) {
    config.mls = true;
    config.mls_layout = MlsLayout(0);
  }
  return config;
}

// Protects outgoing frames of ONE RtpSender, under its own KID (one KID per encryptor).
// Reference-counted by WebRTC: create it with rtc::make_ref_counted<SframeFrameEncryptor>(suite).
class SframeFrameEncryptor : public webrtc::FrameEncryptorInterface {
 public:
  explicit SframeFrameEncryptor(uint16_t cipher_suite)
      : sender_(sframe_sender_new(cipher_suite)) {}
  ~SframeFrameEncryptor() override { sframe_sender_free(sender_); }
  SframeFrameEncryptor(const SframeFrameEncryptor&) = delete;
  SframeFrameEncryptor& operator=(const SframeFrameEncryptor&) = delete;

  // False if the cipher suite was unknown (every call then fails).
  bool valid() const { return sender_ != nullptr; }

  // Installs (or rotates to) the key for `kid`; frames protected afterwards use it. Returns
  // SFRAME_OK, or why the key was refused and NOT installed: SFRAME_ERR_KEY_IN_USE if another
  // live encryptor of the process already uses this key and KID (give this track its own KID),
  // SFRAME_ERR_INVALID_KEY for a base key under 16 bytes. Going back to a key this encryptor
  // used before continues its counter.
  [[nodiscard]] SframeStatus SetKey(uint64_t kid, ArrayView<const uint8_t> base_key) {
    std::lock_guard<std::mutex> lock(mu_);
    return sframe_sender_set_key(sender_, kid, base_key.data(), base_key.size());
  }

  // Like SetKey for a sender restored after a restart: `next_counter` comes from persisted
  // state (persist it before sending frames with it).
  [[nodiscard]] SframeStatus SetKeyWithCounter(uint64_t kid, ArrayView<const uint8_t> base_key,
                                               uint64_t next_counter) {
    std::lock_guard<std::mutex> lock(mu_);
    return sframe_sender_set_key_with_counter(sender_, kid, base_key.data(), base_key.size(),
                                              next_counter);
  }

  // MLS (RFC 9605 §5.2): this member's key for `epoch`, with layout = MlsLayout(track) so
  // each track has its own KID. Writes the KID to *kid if not null. Errors as SetKey.
  [[nodiscard]] SframeStatus SetMlsKey(const SframeMlsKidLayout& layout,
                                       ArrayView<const uint8_t> exported_secret, uint64_t epoch,
                                       uint32_t leaf_index, uint64_t* kid = nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    return sframe_sender_set_mls_key(sender_, &layout, exported_secret.data(),
                                     exported_secret.size(), epoch, leaf_index, kid);
  }

  // Sender-key ratchet (RFC 9605 §5.1): generation = TrackKid(track, participant, n) gives
  // each track its own chain; Ratchet() moves one step forward. Errors as SetKey.
  [[nodiscard]] SframeStatus SetRatchetingKey(uint8_t ratchet_bits, uint64_t generation,
                                              ArrayView<const uint8_t> base_key,
                                              uint64_t* kid = nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    return sframe_sender_set_ratcheting_key(sender_, ratchet_bits, generation, base_key.data(),
                                            base_key.size(), kid);
  }
  [[nodiscard]] SframeStatus Ratchet(uint64_t* kid = nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    return sframe_sender_ratchet(sender_, kid);
  }

  int Encrypt(MediaType /*media_type*/,
              uint32_t /*ssrc*/,
              ArrayView<const uint8_t> additional_data,
              ArrayView<const uint8_t> frame,
              ArrayView<uint8_t> encrypted_frame,
              size_t* bytes_written) override {
    std::lock_guard<std::mutex> lock(mu_);
    SframeStatus st = sframe_sender_protect(sender_, additional_data.data(), additional_data.size(),
                                            frame.data(), frame.size(), encrypted_frame.data(),
                                            encrypted_frame.size(), bytes_written);
    return static_cast<int>(st);  // SFRAME_OK == 0 is WebRTC's success value
  }

  size_t GetMaxCiphertextByteSize(MediaType /*media_type*/, size_t frame_size) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sframe_sender_max_output_len(sender_, frame_size);
  }

 private:
  std::mutex mu_;
  SframeSender* sender_;
};

// Unprotects incoming frames of one or more RtpReceivers; keys are found by KID.
class SframeFrameDecryptor : public webrtc::FrameDecryptorInterface {
 public:
  explicit SframeFrameDecryptor(uint16_t cipher_suite)
      : receiver_(sframe_receiver_new(cipher_suite)) {}
  // With settings fixed at creation (replay window, limits, MLS...): valid() is false if the
  // configuration is out of range.
  explicit SframeFrameDecryptor(const SframeReceiverConfig& config) : receiver_(nullptr) {
    (void)sframe_receiver_new_with_config(&config, &receiver_);
  }
  ~SframeFrameDecryptor() override { sframe_receiver_free(receiver_); }
  SframeFrameDecryptor(const SframeFrameDecryptor&) = delete;
  SframeFrameDecryptor& operator=(const SframeFrameDecryptor&) = delete;

  bool valid() const { return receiver_ != nullptr; }

  // One key per sending track of every peer (see the KID scheme). The same key again is a
  // no-op (its replay window stays).
  [[nodiscard]] SframeStatus AddKey(uint64_t kid, ArrayView<const uint8_t> base_key) {
    std::lock_guard<std::mutex> lock(mu_);
    return sframe_receiver_add_key(receiver_, kid, base_key.data(), base_key.size());
  }

  // MLS (a decryptor made with MlsReceiverConfig): every epoch's exported secret; members'
  // keys are derived per KID. The same epoch again is a no-op; an epoch already dropped (or
  // older than the kept ones) is SFRAME_ERR_STALE_EPOCH and changes nothing.
  [[nodiscard]] SframeStatus AddMlsEpoch(uint64_t epoch, ArrayView<const uint8_t> exported_secret) {
    std::lock_guard<std::mutex> lock(mu_);
    return sframe_receiver_add_mls_epoch(receiver_, epoch, exported_secret.data(),
                                         exported_secret.size());
  }

  SframeStatus RemoveKey(uint64_t kid) {
    std::lock_guard<std::mutex> lock(mu_);
    return sframe_receiver_remove_key(receiver_, kid);
  }

  // The sframe status of the last Decrypt, for diagnostics.
  SframeStatus last_status() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_status_;
  }

  Result Decrypt(MediaType /*media_type*/,
                 const std::vector<uint32_t>& /*csrcs*/,
                 ArrayView<const uint8_t> additional_data,
                 ArrayView<const uint8_t> encrypted_frame,
                 ArrayView<uint8_t> frame) override {
    std::lock_guard<std::mutex> lock(mu_);
    size_t written = 0;
    last_status_ = sframe_receiver_unprotect(receiver_, additional_data.data(),
                                             additional_data.size(), encrypted_frame.data(),
                                             encrypted_frame.size(), frame.data(), frame.size(),
                                             &written);
    switch (last_status_) {
      case SFRAME_OK:
        return Result(Result::Status::kOk, written);
      case SFRAME_ERR_UNKNOWN_KEY_ID:  // the key may arrive later
      case SFRAME_ERR_REPLAY:          // a duplicate: drop it, the stream is fine
        return Result(Result::Status::kRecoverable, 0);
      default:
        return Result(Result::Status::kFailedToDecrypt, 0);
    }
  }

  size_t GetMaxPlaintextByteSize(MediaType /*media_type*/, size_t encrypted_frame_size) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sframe_receiver_max_output_len(receiver_, encrypted_frame_size);
  }

 private:
  std::mutex mu_;
  SframeReceiver* receiver_;
  SframeStatus last_status_ = SFRAME_OK;
};

}  // namespace sframe_webrtc

#endif  // SFRAME_WEBRTC_HPP
