// webrtc_adapter_demo.cpp: drives sframe_webrtc.hpp through the webrtc interfaces exactly as
// libwebrtc would (RtpSender -> FrameEncryptorInterface, RtpReceiver -> FrameDecryptorInterface),
// here against the stand-in declarations in webrtc_standin.h. One participant sends audio and
// video: one encryptor per track, one KID per encryptor (a second encryptor given a track's key
// and KID is refused), and no (KID, CTR) pair appears twice on the wire.
//
//   c++ -std=c++17 -DSFRAME_WEBRTC_STANDIN -I. $(pkg-config --cflags sframe)
//       webrtc_adapter_demo.cpp $(pkg-config --libs sframe) -pthread -o webrtc_adapter_demo
#include <cstdio>
#include <cstring>
#include <set>
#include <utility>
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
  using sframe_webrtc::kAudioTrack;
  using sframe_webrtc::kVideoTrack;
  using sframe_webrtc::MlsLayout;
  using sframe_webrtc::SframeFrameDecryptor;
  using sframe_webrtc::SframeFrameEncryptor;
  using sframe_webrtc::TrackKid;
  const uint16_t suite = SFRAME_AES_128_GCM_SHA256_128;
  const uint8_t key1[16] = {'w', 'e', 'b', 'r', 't', 'c', ' ', 'k', 'e', 'y', ' ', 'o', 'n', 'e', '!', '!'};
  const uint8_t key2[16] = {'w', 'e', 'b', 'r', 't', 'c', ' ', 'k', 'e', 'y', ' ', 't', 'w', 'o', '!', '!'};
  const std::vector<uint8_t> descriptor = {0x80, 0x01, 0x02};  // e.g. generic frame descriptor

  // One participant (number 3) sends audio and video: one encryptor per RtpSender, each with
  // its own KID (same base key, different KIDs: different keys and nonces).
  const uint64_t me = 3;
  const uint64_t audio_kid = TrackKid(kAudioTrack, me, 0);  // 0x030
  const uint64_t video_kid = TrackKid(kVideoTrack, me, 0);  // 0x430
  const uint64_t video_kid_next = TrackKid(kVideoTrack, me, 1);  // after a key rotation
  Expect(audio_kid == 0x30 && video_kid == 0x430 && video_kid_next == 0x431, "KID scheme");
  auto audio = rtc::make_ref_counted<SframeFrameEncryptor>(suite);
  auto encryptor = rtc::make_ref_counted<SframeFrameEncryptor>(suite);  // the video track's
  auto decryptor = rtc::make_ref_counted<SframeFrameDecryptor>(suite);
  Expect(audio->valid() && encryptor->valid() && decryptor->valid(), "adapters created");
  Expect(audio->SetKey(audio_kid, key1) == SFRAME_OK, "audio encryptor key");
  Expect(encryptor->SetKey(video_kid, key1) == SFRAME_OK, "video encryptor key, its own KID");

  // One KID per encryptor: a second encryptor given the video track's key and KID is refused
  // (it would reuse every nonce of the video track) and encrypts nothing.
  auto copy = rtc::make_ref_counted<SframeFrameEncryptor>(suite);
  Expect(copy->SetKey(video_kid, key1) == SFRAME_ERR_KEY_IN_USE, "same key and KID refused");
  Expect(copy->SetMlsKey(MlsLayout(kVideoTrack), key1, 0, me) == SFRAME_ERR_KEY_IN_USE,
         "same key material through the MLS layout refused");
  Expect(SendFrame(copy.get(), descriptor, "must not be sent").empty(), "refused encryptor sends nothing");

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

  // One decryptor serves both tracks (and every peer): one key per sending track.
  Expect(decryptor->AddKey(audio_kid, key1) == SFRAME_OK, "decryptor audio key");
  Expect(decryptor->AddKey(video_kid, key1) == SFRAME_OK, "decryptor video key");
  Expect(decryptor->AddKey(video_kid_next, key2) == SFRAME_OK, "decryptor next video key");
  auto r2 = dec->Decrypt(cricket::MEDIA_TYPE_VIDEO, {}, descriptor, first, plain);
  Expect(r2.IsOk() && r2.bytes_written == 8 && std::memcmp(plain.data(), "keyframe", 8) == 0, "decrypt first frame");
  auto r3 = dec->Decrypt(cricket::MEDIA_TYPE_VIDEO, {}, descriptor, first, plain);
  Expect(r3.status == webrtc::FrameDecryptorInterface::Result::Status::kRecoverable, "duplicate is recoverable");

  // The audio and video encoder threads encrypt while the signaling thread rotates the video
  // key (new key generation: new KID).
  std::vector<std::vector<uint8_t>> sent(200), sent_audio(200);
  std::thread video_encoder([&] {
    for (size_t i = 0; i < sent.size(); ++i) sent[i] = SendFrame(enc, descriptor, "frame " + std::to_string(i));
  });
  std::thread audio_encoder([&] {
    for (size_t i = 0; i < sent_audio.size(); ++i)
      sent_audio[i] = SendFrame(audio.get(), descriptor, "audio " + std::to_string(i));
  });
  std::thread signaling([&] { Expect(encryptor->SetKey(video_kid_next, key2) == SFRAME_OK, "rotate video key"); });
  video_encoder.join();
  audio_encoder.join();
  signaling.join();
  // What an SFU sees on the wire: no (KID, CTR) pair twice across both tracks.
  std::set<std::pair<uint64_t, uint64_t>> wire;
  size_t on_wire = 0;
  for (const auto* track : {&sent, &sent_audio}) {
    for (const auto& f : *track) {
      uint64_t fk = 0, fc = 0;
      size_t fh = 0;
      Expect(sframe_header_parse(f.data(), f.size(), &fk, &fc, &fh) == SFRAME_OK, "header of a sent frame");
      Expect(fk == audio_kid || fk == video_kid || fk == video_kid_next, "frames carry their track's KID");
      wire.insert({fk, fc});
      ++on_wire;
    }
  }
  Expect(wire.size() == on_wire, "no (KID, CTR) pair appears twice on the wire");
  for (size_t i = 0; i < sent.size(); ++i) {
    std::string want = "frame " + std::to_string(i);
    std::vector<uint8_t> out(dec->GetMaxPlaintextByteSize(cricket::MEDIA_TYPE_VIDEO, sent[i].size()));
    auto res = dec->Decrypt(cricket::MEDIA_TYPE_VIDEO, {}, descriptor, sent[i], out);
    Expect(res.IsOk() && res.bytes_written == want.size() && std::memcmp(out.data(), want.data(), want.size()) == 0,
           "decrypt frame sent during rotation");
  }
  for (size_t i = 0; i < sent_audio.size(); ++i) {
    std::string want = "audio " + std::to_string(i);
    std::vector<uint8_t> out(dec->GetMaxPlaintextByteSize(cricket::MEDIA_TYPE_AUDIO, sent_audio[i].size()));
    auto res = dec->Decrypt(cricket::MEDIA_TYPE_AUDIO, {}, descriptor, sent_audio[i], out);
    Expect(res.IsOk() && res.bytes_written == want.size() && std::memcmp(out.data(), want.data(), want.size()) == 0,
           "decrypt audio frame");
  }
  // After the rotation, video frames carry the new KID (what an SFU reads from the clear header).
  std::vector<uint8_t> after = SendFrame(enc, descriptor, "after rotation");
  uint64_t kid = 0;
  size_t hl = 0;
  uint64_t ctr = 0;
  Expect(sframe_header_parse(after.data(), after.size(), &kid, &ctr, &hl) == SFRAME_OK && kid == video_kid_next,
         "frames after the rotation use the new video KID");
  plain.resize(256);

  // MLS (RFC 9605 §5.2): the KID layout's context field carries the track.
  {
    const uint8_t epoch_secret[16] = {'M', 'L', 'S', ' ', 'e', 'p', 'o', 'c', 'h', ' ', '7', ' ', 's', 'e', 'c', '!'};
    auto mls_audio = rtc::make_ref_counted<SframeFrameEncryptor>(suite);
    auto mls_video = rtc::make_ref_counted<SframeFrameEncryptor>(suite);
    auto mls_dec = rtc::make_ref_counted<SframeFrameDecryptor>(sframe_webrtc::MlsReceiverConfig(suite));
    uint64_t ka = 0, kv = 0;
    Expect(mls_audio->SetMlsKey(MlsLayout(kAudioTrack), epoch_secret, 7, me, &ka) == SFRAME_OK &&
               ka == TrackKid(kAudioTrack, me, 7),
           "MLS audio key");
    Expect(mls_video->SetMlsKey(MlsLayout(kVideoTrack), epoch_secret, 7, me, &kv) == SFRAME_OK &&
               kv == TrackKid(kVideoTrack, me, 7),
           "MLS video key, its own KID");
    Expect(copy->SetMlsKey(MlsLayout(kVideoTrack), epoch_secret, 7, me) == SFRAME_ERR_KEY_IN_USE,
           "MLS: a second encryptor for the video track refused");
    Expect(mls_dec->valid() && mls_dec->AddMlsEpoch(7, epoch_secret) == SFRAME_OK,
           "MLS decryptor");
    for (auto* e : {mls_audio.get(), mls_video.get()}) {
      std::vector<uint8_t> f = SendFrame(e, descriptor, "mls frame");
      std::vector<uint8_t> out(64);
      auto res = mls_dec->Decrypt(cricket::MEDIA_TYPE_VIDEO, {}, descriptor, f, out);
      Expect(res.IsOk() && res.bytes_written == 9 && std::memcmp(out.data(), "mls frame", 9) == 0,
             "MLS frame of each track decrypts");
    }
  }

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

  // Every cipher suite of sframe.h (RFC 9605 1-5, draft-barnes-sframe-iana-256 6-8) works
  // through the adapter; WebRTC's buffer size is the payload plus the suite's overhead.
  {
    const uint16_t suites[] = {
        SFRAME_AES_128_CTR_HMAC_SHA256_80, SFRAME_AES_128_CTR_HMAC_SHA256_64,
        SFRAME_AES_128_CTR_HMAC_SHA256_32, SFRAME_AES_128_GCM_SHA256_128,
        SFRAME_AES_256_GCM_SHA512_128,     SFRAME_AES_256_CTR_HMAC_SHA512_80,
        SFRAME_AES_256_CTR_HMAC_SHA512_64, SFRAME_AES_256_CTR_HMAC_SHA512_32,
    };
    const std::string payload = "every suite";
    for (uint16_t id : suites) {
      SframeSuiteInfo info;
      Expect(sframe_cipher_suite_info(id, &info) == SFRAME_OK, "suite info");
      auto e = rtc::make_ref_counted<SframeFrameEncryptor>(id);
      auto d = rtc::make_ref_counted<SframeFrameDecryptor>(id);
      Expect(e->valid() && d->valid(), "adapters for every suite");
      const uint64_t kid = 0x7000 + id;  // a KID no other encryptor of this thread uses
      Expect(e->SetKey(kid, key1) == SFRAME_OK && d->AddKey(kid, key1) == SFRAME_OK,
             "keys for every suite");
      Expect(e->GetMaxCiphertextByteSize(cricket::MEDIA_TYPE_AUDIO, payload.size()) ==
                 payload.size() + info.max_overhead,
             "max ciphertext size = payload + suite overhead");
      std::vector<uint8_t> f = SendFrame(e.get(), descriptor, payload);
      uint64_t fk = 0, fc = 0;
      size_t fh = 0;
      Expect(sframe_header_parse(f.data(), f.size(), &fk, &fc, &fh) == SFRAME_OK && fk == kid &&
                 f.size() == fh + payload.size() + info.tag_len,
             "frame = header + payload + the suite's tag");
      std::vector<uint8_t> out(d->GetMaxPlaintextByteSize(cricket::MEDIA_TYPE_AUDIO, f.size()));
      auto res = d->Decrypt(cricket::MEDIA_TYPE_AUDIO, {}, descriptor, f, out);
      Expect(res.IsOk() && res.bytes_written == payload.size() &&
                 std::memcmp(out.data(), payload.data(), payload.size()) == 0,
             "every suite round-trips through the adapter");
    }
    SframeSuiteInfo info;
    Expect(sframe_cipher_suite_info(9, &info) == SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE,
           "no suite 9");
  }

  // Unknown suite: the adapter reports invalid and every call fails cleanly.
  auto broken = rtc::make_ref_counted<sframe_webrtc::SframeFrameEncryptor>(static_cast<uint16_t>(99));
  Expect(!broken->valid(), "unknown suite");
  Expect(broken->Encrypt(cricket::MEDIA_TYPE_VIDEO, 1, {}, descriptor, small, &written) == SFRAME_ERR_NULL_POINTER,
         "invalid encryptor fails");

  std::printf("webrtc adapter demo: %s (%d failures)\n", g_failures == 0 ? "ok" : "FAILED", g_failures);
  return g_failures == 0 ? 0 : 1;
}
