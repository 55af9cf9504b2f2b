/*
 * webrtc_standin.h: a minimal STAND-IN for the parts of libwebrtc that the SFrame adapter
 * uses, so sframe_webrtc.hpp can be compiled and tested without libwebrtc.
 *
 * It mirrors the real declarations (signatures and semantics) of
 *   api/array_view.h                       rtc::ArrayView<T>
 *   api/media_types.h                      cricket::MediaType
 *   api/ref_count.h, api/make_ref_counted.h rtc::RefCountInterface, rtc::make_ref_counted
 *   api/scoped_refptr.h                    rtc::scoped_refptr<T>
 *   api/crypto/frame_encryptor_interface.h webrtc::FrameEncryptorInterface
 *   api/crypto/frame_decryptor_interface.h webrtc::FrameDecryptorInterface
 * In a real build, include those headers instead (sframe_webrtc.hpp does unless
 * SFRAME_WEBRTC_STANDIN is defined). Recent libwebrtc moved MediaType to webrtc::MediaType
 * and rtc:: names into webrtc::; adjust the two aliases in sframe_webrtc.hpp if needed.
 */
#ifndef SFRAME_WEBRTC_STANDIN_H
#define SFRAME_WEBRTC_STANDIN_H

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace rtc {

// api/array_view.h: a non-owning (pointer, size) view.
template <typename T>
class ArrayView {
 public:
  ArrayView() : data_(nullptr), size_(0) {}
  ArrayView(T* data, size_t size) : data_(size == 0 ? nullptr : data), size_(size) {}
  template <typename U>
  ArrayView(std::vector<U>& v) : ArrayView(v.data(), v.size()) {}  // NOLINT: implicit, as upstream
  template <typename U>
  ArrayView(const std::vector<U>& v) : ArrayView(v.data(), v.size()) {}  // NOLINT
  template <typename U, size_t N>
  ArrayView(U (&a)[N]) : ArrayView(a, N) {}  // NOLINT
  T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) const { return data_[i]; }
  T* begin() const { return data_; }
  T* end() const { return data_ + size_; }
  ArrayView subview(size_t offset, size_t size) const {
    return offset >= size_ ? ArrayView() : ArrayView(data_ + offset, size < size_ - offset ? size : size_ - offset);
  }

 private:
  T* data_;
  size_t size_;
};

// api/ref_count.h
enum class RefCountReleaseStatus { kDroppedLastRef, kOtherRefsRemained };

class RefCountInterface {
 public:
  virtual void AddRef() const = 0;
  virtual RefCountReleaseStatus Release() const = 0;

 protected:
  virtual ~RefCountInterface() = default;
};

// rtc_base/ref_counted_object.h (what make_ref_counted instantiates).
template <class T>
class RefCountedObject final : public T {
 public:
  template <class... Args>
  explicit RefCountedObject(Args&&... args) : T(std::forward<Args>(args)...) {}
  void AddRef() const override { count_.fetch_add(1, std::memory_order_relaxed); }
  RefCountReleaseStatus Release() const override {
    if (count_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      delete this;
      return RefCountReleaseStatus::kDroppedLastRef;
    }
    return RefCountReleaseStatus::kOtherRefsRemained;
  }

 private:
  ~RefCountedObject() override = default;
  mutable std::atomic<int> count_{0};
};

// api/scoped_refptr.h (the parts used here).
template <class T>
class scoped_refptr {
 public:
  scoped_refptr() : ptr_(nullptr) {}
  explicit scoped_refptr(T* p) : ptr_(p) { if (ptr_) ptr_->AddRef(); }
  scoped_refptr(const scoped_refptr& o) : scoped_refptr(o.ptr_) {}
  scoped_refptr& operator=(const scoped_refptr& o) {
    scoped_refptr tmp(o);
    std::swap(ptr_, tmp.ptr_);
    return *this;
  }
  ~scoped_refptr() { if (ptr_) ptr_->Release(); }
  T* get() const { return ptr_; }
  T* operator->() const { return ptr_; }
  T& operator*() const { return *ptr_; }

 private:
  T* ptr_;
};

// api/make_ref_counted.h
template <class T, class... Args>
scoped_refptr<T> make_ref_counted(Args&&... args) {
  return scoped_refptr<T>(new RefCountedObject<T>(std::forward<Args>(args)...));
}

}  // namespace rtc

namespace cricket {
// api/media_types.h
enum MediaType { MEDIA_TYPE_AUDIO, MEDIA_TYPE_VIDEO, MEDIA_TYPE_DATA, MEDIA_TYPE_UNSUPPORTED };
}  // namespace cricket

namespace webrtc {

// api/crypto/frame_encryptor_interface.h
class FrameEncryptorInterface : public rtc::RefCountInterface {
 public:
  ~FrameEncryptorInterface() override {}

  // Attempts to encrypt the provided frame. You may assume the encrypted_frame will match the
  // size returned by GetMaxCiphertextByteSize for a give frame. You are expected to return 0
  // on success and any other value on failure.
  virtual int Encrypt(cricket::MediaType media_type,
                      uint32_t ssrc,
                      rtc::ArrayView<const uint8_t> additional_data,
                      rtc::ArrayView<const uint8_t> frame,
                      rtc::ArrayView<uint8_t> encrypted_frame,
                      size_t* bytes_written) = 0;

  // Returns the total required length in bytes for the output of the encryption.
  virtual size_t GetMaxCiphertextByteSize(cricket::MediaType media_type, size_t frame_size) = 0;
};

// api/crypto/frame_decryptor_interface.h
class FrameDecryptorInterface : public rtc::RefCountInterface {
 public:
  // The Status enum represents common failure cases that the decryptor can report.
  struct Result {
    enum class Status { kOk, kRecoverable, kFailedToDecrypt, kUnknown };

    Result(Status status, size_t bytes_written) : status(status), bytes_written(bytes_written) {}

    bool IsOk() const { return status == Status::kOk; }

    const Status status;
    const size_t bytes_written;
  };

  ~FrameDecryptorInterface() override {}

  // Attempts to decrypt the encrypted frame. The frame buffer is at least
  // GetMaxPlaintextByteSize(encrypted_frame.size()) bytes.
  virtual Result Decrypt(cricket::MediaType media_type,
                         const std::vector<uint32_t>& csrcs,
                         rtc::ArrayView<const uint8_t> additional_data,
                         rtc::ArrayView<const uint8_t> encrypted_frame,
                         rtc::ArrayView<uint8_t> frame) = 0;

  // Returns the total required length in bytes for the output of the decryption.
  virtual size_t GetMaxPlaintextByteSize(cricket::MediaType media_type,
                                         size_t encrypted_frame_size) = 0;
};

}  // namespace webrtc

#endif  // SFRAME_WEBRTC_STANDIN_H
