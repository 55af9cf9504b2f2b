/*
 * sframe_webrtc.hpp: header-only adapter from libwebrtc's frame encryption hooks
 * (webrtc::FrameEncryptorInterface / webrtc::FrameDecryptorInterface) to the sframe C API.
 *
 *   auto enc = rtc::make_ref_counted<sframe_webrtc::SframeFrameEncryptor>(SFRAME_AES_128_GCM_SHA256_128);
 *   enc->SetKey(kid, key);                        // any thread
 *   rtp_sender->SetFrameEncryptor(enc);           // WebRTC calls Encrypt on its encoder thread
 *   auto dec = rtc::make_ref_counted<sframe_webrtc::SframeFrameDecryptor>(SFRAME_AES_128_GCM_SHA256_128);
 *   dec->AddKey(kid, key);
 *   rtp_receiver->SetFrameDecryptor(dec);
 *
 * Mapping:
 *   Encrypt(media_type, ssrc, additional_data, frame, encrypted_frame, bytes_written)
 *     -> sframe_sender_protect(metadata = additional_data, plaintext = frame,
 *                              out = encrypted_frame); returns 0 on success, else the
 *        SframeStatus value (non-zero) as WebRTC expects.
 *   GetMaxCiphertextByteSize(media_type, n) -> sframe_sender_max_ciphertext_size(n)
 *   Decrypt(media_type, csrcs, additional_data, encrypted_frame, frame)
 *     -> sframe_receiver_unprotect(...): OK -> kOk; UNKNOWN_KEY_ID (key not arrived yet) and
 *        REPLAY (duplicate) -> kRecoverable; anything else -> kFailedToDecrypt.
 *   GetMaxPlaintextByteSize(media_type, n) -> sframe_receiver_max_plaintext_size(n)
 * `additional_data` (e.g. the generic frame descriptor) is authenticated as SFrame metadata:
 * both ends must see the same bytes. The SFrame KID in each frame selects the key, so one
 * decryptor serves every sender of a call.
 *
 * Threads: WebRTC calls Encrypt/Decrypt on its media threads while the application sets keys
 * from another; the sframe objects allow one thread at a time, so each adapter guards its
 * object with a mutex.
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

// Protects outgoing frames of one RtpSender. Reference-counted by WebRTC: create it with
// rtc::make_ref_counted<SframeFrameEncryptor>(suite).
class SframeFrameEncryptor : public webrtc::FrameEncryptorInterface {
 public:
  explicit SframeFrameEncryptor(uint16_t cipher_suite)
      : sender_(sframe_sender_new(cipher_suite)) {}
  ~SframeFrameEncryptor() override { sframe_sender_free(sender_); }
  SframeFrameEncryptor(const SframeFrameEncryptor&) = delete;
  SframeFrameEncryptor& operator=(const SframeFrameEncryptor&) = delete;

  // False if the cipher suite was unknown (every call then fails).
  bool valid() const { return sender_ != nullptr; }

  // Installs (or rotates to) the key for `kid`; frames protected afterwards use it.
  SframeStatus SetKey(uint64_t kid, ArrayView<const uint8_t> base_key) {
    std::lock_guard<std::mutex> lock(mu_);
    return sframe_sender_set_key(sender_, kid, base_key.data(), base_key.size());
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
    return sframe_sender_max_ciphertext_size(sender_, frame_size);
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
  ~SframeFrameDecryptor() override { sframe_receiver_free(receiver_); }
  SframeFrameDecryptor(const SframeFrameDecryptor&) = delete;
  SframeFrameDecryptor& operator=(const SframeFrameDecryptor&) = delete;

  bool valid() const { return receiver_ != nullptr; }

  SframeStatus AddKey(uint64_t kid, ArrayView<const uint8_t> base_key) {
    std::lock_guard<std::mutex> lock(mu_);
    return sframe_receiver_add_key(receiver_, kid, base_key.data(), base_key.size());
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
    return sframe_receiver_max_plaintext_size(receiver_, encrypted_frame_size);
  }

 private:
  std::mutex mu_;
  SframeReceiver* receiver_;
  SframeStatus last_status_ = SFRAME_OK;
};

}  // namespace sframe_webrtc

#endif  // SFRAME_WEBRTC_HPP
