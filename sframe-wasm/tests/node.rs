//! wasm-bindgen tests of the exported API, run under Node by `wasm-bindgen-test-runner`
//! (`scripts/stages/40-wasm.sh`): RFC 9605 Appendix C vectors (suites 1-5) and
//! draft-barnes-sframe-iana-256's (6-8), tampered-frame rejection, the suite list,
//! called exactly as JavaScript calls them (JsValue in, JsValue errors out).
#![cfg(target_arch = "wasm32")]

use js_sys::{JSON, Reflect, Uint8Array};
use sframe_wasm::{Receiver, Sender, hazmat_protect_frame, parse_header};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

const VECTORS: &str = include_str!("../../test-vectors/rfc9605.json");
/// draft-barnes-sframe-iana-256's vectors for suites 6-8 (AES-256-CTR + HMAC-SHA512).
const IANA_256_VECTORS: &str = include_str!("../../test-vectors/iana-256.json");

fn get(obj: &JsValue, name: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(name)).unwrap()
}

fn hex_field(obj: &JsValue, name: &str) -> JsValue {
    let s = get(obj, name).as_string().unwrap();
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect();
    Uint8Array::from(bytes.as_slice()).into()
}

/// KID / CTR fields are numbers, or decimal strings above 2^53-1: both become bigints.
fn u64_field(obj: &JsValue, name: &str) -> JsValue {
    let v = get(obj, name);
    let n: u64 = match v.as_f64() {
        Some(f) => f as u64,
        None => v.as_string().unwrap().parse().unwrap(),
    };
    JsValue::from(n)
}

fn vectors_of(file: &str) -> Vec<JsValue> {
    let all = JSON::parse(file).unwrap();
    js_sys::Array::from(&get(&all, "sframe")).iter().collect()
}

/// Every suite's protect/unprotect vector: RFC 9605 C.3 (suites 1-5), then iana-256 (6-8).
fn sframe_vectors() -> Vec<JsValue> {
    let mut all = vectors_of(VECTORS);
    all.extend(vectors_of(IANA_256_VECTORS));
    all
}

fn code(err: JsValue) -> String {
    get(&err, "code").as_string().unwrap()
}

#[wasm_bindgen_test]
fn rfc9605_vectors_unprotect() {
    let vectors = sframe_vectors();
    assert_eq!(vectors.len(), 8);
    let suites: Vec<f64> = vectors
        .iter()
        .map(|v| get(v, "cipher_suite").as_f64().unwrap())
        .collect();
    assert_eq!(suites, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    for v in &vectors {
        let mut rx = Receiver::new(&get(v, "cipher_suite"), &JsValue::UNDEFINED).unwrap();
        rx.add_key(&u64_field(v, "kid"), &hex_field(v, "base_key"))
            .unwrap();
        let pt = rx
            .unprotect(&hex_field(v, "ct"), &hex_field(v, "metadata"))
            .unwrap();
        assert_eq!(pt, Uint8Array::new(&hex_field(v, "pt")).to_vec());
    }
}

/// `hazmatProtectFrame` makes each vector's frame at its counter, as often as asked; a `Sender`
/// (the first of this module instance to use the vector's key) writes the frame it makes at
/// counter 0.
#[wasm_bindgen_test]
fn rfc9605_vectors_protect_at_counter() {
    for v in &sframe_vectors() {
        let suite = get(v, "cipher_suite");
        let (kid, base) = (u64_field(v, "kid"), hex_field(v, "base_key"));
        let (pt, md) = (hex_field(v, "pt"), hex_field(v, "metadata"));
        for _ in 0..2 {
            let ct =
                hazmat_protect_frame(&suite, &kid, &u64_field(v, "ctr"), &base, &pt, &md).unwrap();
            assert_eq!(ct, Uint8Array::new(&hex_field(v, "ct")).to_vec());
        }
        let mut tx = Sender::new(&suite).unwrap();
        tx.set_key(&kid, &base).unwrap();
        let first = tx.protect(&pt, &md).unwrap();
        let at_zero = hazmat_protect_frame(&suite, &kid, &JsValue::from(0u64), &base, &pt, &md);
        assert_eq!(first, at_zero.unwrap());
    }
    let short: JsValue = Uint8Array::new_with_length(15).into();
    let one: JsValue = Uint8Array::new_with_length(1).into();
    let err = hazmat_protect_frame(
        &JsValue::from(4),
        &JsValue::from(1),
        &JsValue::from(0u64),
        &short,
        &one,
        &JsValue::NULL,
    );
    assert_eq!(code(err.unwrap_err()), "invalid_key");
}

#[wasm_bindgen_test]
fn tampered_frames_are_rejected() {
    for v in &sframe_vectors() {
        let mut rx = Receiver::new(&get(v, "cipher_suite"), &JsValue::UNDEFINED).unwrap();
        rx.add_key(&u64_field(v, "kid"), &hex_field(v, "base_key"))
            .unwrap();
        let ct = Uint8Array::new(&hex_field(v, "ct")).to_vec();
        let header_len = ct.len() - Uint8Array::new(&hex_field(v, "pt")).length() as usize;
        for i in header_len..ct.len() {
            let mut bad = ct.clone();
            bad[i] ^= 0x40;
            let bad: JsValue = Uint8Array::from(bad.as_slice()).into();
            let err = rx.unprotect(&bad, &hex_field(v, "metadata")).unwrap_err();
            assert_eq!(code(err), "authentication_failed");
        }
        let err = rx.unprotect(&Uint8Array::from(&ct[..]).into(), &JsValue::UNDEFINED);
        assert_eq!(code(err.unwrap_err()), "authentication_failed");
    }
}

/// `cipherSuites()` is `sframe_core::CipherSuite::ALL` with the core's own sizes and hash name.
#[wasm_bindgen_test]
fn cipher_suites_come_from_the_core() {
    let list = sframe_wasm::cipher_suites().unwrap();
    assert_eq!(list.length() as usize, sframe_core::CipherSuite::ALL.len());
    for (info, s) in list.iter().zip(sframe_core::CipherSuite::ALL) {
        assert_eq!(get(&info, "id"), JsValue::from(s.id()));
        assert_eq!(get(&info, "name"), JsValue::from_str(s.name()));
        assert_eq!(get(&info, "keyLength"), JsValue::from(s.key_len() as u32));
        assert_eq!(
            get(&info, "encKeyLength"),
            JsValue::from(s.enc_key_len() as u32)
        );
        assert_eq!(get(&info, "tagLength"), JsValue::from(s.tag_len() as u32));
        assert_eq!(get(&info, "hash"), JsValue::from_str(s.hash_name()));
        let by_name = sframe_wasm::cipher_suite_info(&JsValue::from_str(s.name())).unwrap();
        assert_eq!(get(&by_name, "id"), JsValue::from(s.id()));
    }
    let six = sframe_wasm::cipher_suite_info(&JsValue::from(6)).unwrap();
    assert_eq!(
        get(&six, "name"),
        JsValue::from_str("AES_256_CTR_HMAC_SHA512_80")
    );
    assert_eq!(get(&six, "keyLength"), JsValue::from(96u32));
    assert_eq!(get(&six, "hash"), JsValue::from_str("SHA-512"));
}

/// `errorCodes()` is `sframe_core::Error::ALL`'s codes in number order, and a thrown
/// `SFrameError` carries the core's code and message.
#[wasm_bindgen_test]
fn error_codes_come_from_the_core() {
    let codes: Vec<String> = sframe_wasm::error_codes()
        .iter()
        .map(|c| c.as_string().unwrap())
        .collect();
    let core: Vec<&str> = sframe_core::Error::ALL.iter().map(|e| e.code()).collect();
    assert_eq!(codes, core);
    let mut rx = Receiver::new(&JsValue::from(4), &JsValue::UNDEFINED).unwrap();
    let short_salt: JsValue = Uint8Array::new_with_length(11).into();
    let err = rx
        .add_derived_key(
            &JsValue::from(1),
            &Uint8Array::new_with_length(16).into(),
            &short_salt,
        )
        .unwrap_err();
    assert_eq!(code(err.clone()), "invalid_length");
    let message = get(&err, "message").as_string().unwrap();
    assert_eq!(message, sframe_core::Error::InvalidLength.message());
}

/// `derivationInfo` is `sframe_core::key::derivation_info`, for every suite and both outputs.
#[wasm_bindgen_test]
fn derivation_info_is_the_cores() {
    use sframe_core::key::{Derived, derivation_info};
    for s in sframe_core::CipherSuite::ALL {
        for kid in [0u64, 0x1234, u64::MAX] {
            for (which, name) in [(Derived::Key, "key"), (Derived::Salt, "salt")] {
                let got = sframe_wasm::derivation_info(
                    &JsValue::from_str(name),
                    &JsValue::from(kid),
                    &JsValue::from(s.id()),
                )
                .unwrap();
                assert_eq!(got, derivation_info(which, kid, s).as_bytes());
            }
        }
    }
    let err = sframe_wasm::derivation_info(
        &JsValue::from_str("iv"),
        &JsValue::from(1),
        &JsValue::from(4),
    );
    assert_eq!(code(err.unwrap_err()), "invalid_argument");
}

#[wasm_bindgen_test]
fn errors_and_bigint_header() {
    let frame: JsValue = Uint8Array::from(&[0x08u8][..]).into();
    assert_eq!(code(parse_header(&frame).unwrap_err()), "malformed_frame");
    let header: JsValue = Uint8Array::from(&[0x99u8, 0x01, 0x23, 0x45, 0x67][..]).into();
    let parsed = parse_header(&header).unwrap();
    assert_eq!(get(&parsed, "keyId"), JsValue::from(0x123u64));
    assert_eq!(get(&parsed, "counter"), JsValue::from(0x4567u64));
    let mut rx = Receiver::new(&JsValue::from(4), &JsValue::UNDEFINED).unwrap();
    let err = rx.add_key(&JsValue::from(-1), &Uint8Array::new_with_length(16).into());
    assert_eq!(code(err.unwrap_err()), "invalid_argument");
    let err = rx.add_key(&JsValue::from(1), &JsValue::from_str("key"));
    assert_eq!(code(err.unwrap_err()), "invalid_argument");
    assert!(Sender::new(&JsValue::from(9)).is_err());
}

/// One key per sender: a second live `Sender` given the key and KID another one used is
/// refused with `key_in_use` (base key or derived key alike) until the first is dropped; then
/// it resumes the first one's counter (the registry of the wasm instance keeps it).
#[wasm_bindgen_test]
fn key_in_use_until_the_other_sender_is_freed() {
    let suite = JsValue::from_str("AES_128_GCM_SHA256_128");
    let kid = JsValue::from(77u64);
    let base: JsValue = Uint8Array::from(&[0x5au8; 16][..]).into();
    let mut first = Sender::new(&suite).unwrap();
    first.set_key(&kid, &base).unwrap();
    first
        .protect(&Uint8Array::from(&b"x"[..]).into(), &JsValue::UNDEFINED)
        .unwrap();
    let mut second = Sender::new(&suite).unwrap();
    assert_eq!(code(second.set_key(&kid, &base).unwrap_err()), "key_in_use");
    let ctr = JsValue::from(5u64);
    let err = second.set_key_with_counter(&kid, &base, &ctr).unwrap_err();
    assert_eq!(code(err), "key_in_use");
    // Another KID is another key.
    second.set_key(&JsValue::from(78u64), &base).unwrap();
    drop(first);
    second.set_key(&kid, &base).unwrap();
    assert_eq!(second.key_id(), Some(77));
    assert_eq!(
        second.next_counter(),
        Some(1),
        "resumed, not restarted at 0"
    );
}
