// webrtc_adapter_demo.cpp: drives sframe_webrtc.hpp through the webrtc interfaces exactly as
// libwebrtc would (RtpSender -> FrameEncryptorInterface, RtpReceiver -> FrameDecryptorInterface),
// here against the stand-in declarations in webrtc_standin.h.
//
//   c++ -std=c++17 -DSFRAME_WEBRTC_STANDIN -I. $(pkg-config --cflags sframe)
//       webrtc_adapter_demo.cpp $(pkg-config --libs sframe) -pthread -o webrtc_adapter_demo
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "sframe_webrtc.hpp"

namespace {

int g_failures = 0;

void Expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++g_failures;
  }
}

// What WebRTC does with an encryptor for one outgoing frame.
std::vector<uint8_t> SendFrame(webrtc::FrameEncryptorInterface* enc,
                               const std::vector<uint8_t>& descriptor,
                               const std::string& payload) {
  std::vector<uint8_t> out(enc->GetMaxCiphertextByteSize(cricket::MEDIA_TYPE_VIDEO, payload.size()));
  size_t written = 0;
  rtc::ArrayView<const uint8_t> frame(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  int rc = enc->Encrypt(cricket::MEDIA_TYPE_VIDEO, 0x1234, descriptor, frame, out, &written);
  if (rc != 0) return {};
  out.resize(written);
  return out;
}

}  // namespace

int main() {
  const uint8_t key1[16] = {'w', 'e', 'b', 'r', 't', 'c', ' ', 'k', 'e', 'y', ' ', 'o', 'n', 'e', '!', '!'};
  const uint8_t key2[16] = {'w', 'e', 'b', 'r', 't', 'c', ' ', 'k', 'e', 'y', ' ', 't', 'w', 'o', '!', '!'};
  const std::vector<uint8_t> descriptor = {0x80, 0x01, 0x02};  // e.g. generic frame descriptor

  auto encryptor = rtc::make_ref_counted<sframe_webrtc::SframeFrameEncryptor>(SFRAME_AES_128_GCM_SHA256_128);
  auto decryptor = rtc::make_ref_counted<sframe_webrtc::SframeFrameDecryptor>(SFRAME_AES_128_GCM_SHA256_128);
  Expect(encryptor->valid() && decryptor->valid(), "adapters created");
  Expect(encryptor->SetKey(1, key1) == SFRAME_OK, "encryptor key");

  // WebRTC only sees the interfaces.
  webrtc::FrameEncryptorInterface* enc = encryptor.get();
  webrtc::FrameDecryptorInterface* dec = decryptor.get();

  // Before the receiver has the key: recoverable, nothing written.
  std::vector<uint8_t> first = SendFrame(enc, descriptor, "keyframe");
  Expect(!first.empty(), "encrypt first frame");
  std::vector<uint8_t> plain(dec->GetMaxPlaintextByteSize(cricket::MEDIA_TYPE_VIDEO, first.size()));
  auto r1 = dec->Decrypt(cricket::MEDIA_TYPE_VIDEO, {}, descriptor, first, plain);
  Expect(r1.status == webrtc::FrameDecryptorInterface::Result::Status::kRecoverable && r1.bytes_written == 0,
         "unknown key is recoverable");

  Expect(decryptor->AddKey(1, key1) == SFRAME_OK, "decryptor key 1");
  Expect(decryptor->AddKey(2, key2) == SFRAME_OK, "decryptor key 2");
  auto r2 = dec->Decrypt(cricket::MEDIA_TYPE_VIDEO, {}, descriptor, first, plain);
  Expect(r2.IsOk() && r2.bytes_written == 8 && std::memcmp(plain.data(), "keyframe", 8) == 0, "decrypt first frame");
  auto r3 = dec->Decrypt(cricket::MEDIA_TYPE_VIDEO, {}, descriptor, first, plain);
  Expect(r3.status == webrtc::FrameDecryptorInterface::Result::Status::kRecoverable, "duplicate is recoverable");

  // The encoder thread encrypts while the signaling thread rotates the key.
  std::vector<std::vector<uint8_t>> sent(200);
  std::thread encoder([&] {
    for (size_t i = 0; i < sent.size(); ++i) sent[i] = SendFrame(enc, descriptor, "frame " + std::to_string(i));
  });
  std::thread signaling([&] { Expect(encryptor->SetKey(2, key2) == SFRAME_OK, "rotate to key 2"); });
  encoder.join();
  signaling.join();
  for (size_t i = 0; i < sent.size(); ++i) {
    std::string want = "frame " + std::to_string(i);
    std::vector<uint8_t> out(dec->GetMaxPlaintextByteSize(cricket::MEDIA_TYPE_VIDEO, sent[i].size()));
    auto res = dec->Decrypt(cricket::MEDIA_TYPE_VIDEO, {}, descriptor, sent[i], out);
    Expect(res.IsOk() && res.bytes_written == want.size() && std::memcmp(out.data(), want.data(), want.size()) == 0,
           "decrypt frame sent during rotation");
  }
  // After the rotation, frames carry KID 2 (what an SFU reads from the clear header).
  std::vector<uint8_t> after = SendFrame(enc, descriptor, "after rotation");
  uint64_t kid = 0;
  size_t hl = 0;
  uint64_t ctr = 0;
  Expect(sframe_header_parse(after.data(), after.size(), &kid, &ctr, &hl) == SFRAME_OK && kid == 2,
         "frames after the rotation use key 2");
  plain.resize(256);

  // Tampering and a different descriptor are hard failures.
  std::vector<uint8_t> bad = SendFrame(enc, descriptor, "tamper me");
  bad.back() ^= 1;
  auto r4 = dec->Decrypt(cricket::MEDIA_TYPE_VIDEO, {}, descriptor, bad, plain);
  Expect(r4.status == webrtc::FrameDecryptorInterface::Result::Status::kFailedToDecrypt, "tampered frame fails");
  std::vector<uint8_t> other = SendFrame(enc, descriptor, "descriptor");
  auto r5 = dec->Decrypt(cricket::MEDIA_TYPE_VIDEO, {}, std::vector<uint8_t>{0x80}, other, plain);
  Expect(r5.status == webrtc::FrameDecryptorInterface::Result::Status::kFailedToDecrypt &&
             decryptor->last_status() == SFRAME_ERR_AUTHENTICATION_FAILED,
         "other additional_data fails");

  // A too small encrypted_frame buffer is an error (non-zero), never an overflow.
  std::vector<uint8_t> small(4);
  size_t written = 99;
  int rc = enc->Encrypt(cricket::MEDIA_TYPE_AUDIO, 1, {}, descriptor, small, &written);
  Expect(rc == SFRAME_ERR_BUFFER_TOO_SMALL && written == 0, "short encrypted_frame buffer");

  // Unknown suite: the adapter reports invalid and every call fails cleanly.
  auto broken = rtc::make_ref_counted<sframe_webrtc::SframeFrameEncryptor>(static_cast<uint16_t>(99));
  Expect(!broken->valid(), "unknown suite");
  Expect(broken->Encrypt(cricket::MEDIA_TYPE_VIDEO, 1, {}, descriptor, small, &written) == SFRAME_ERR_NULL_POINTER,
         "invalid encryptor fails");

  std::printf("webrtc adapter demo: %s (%d failures)\n", g_failures == 0 ? "ok" : "FAILED", g_failures);
  return g_failures == 0 ? 0 : 1;
}
