//! Header parsing (RFC 9605 §4.3) on arbitrary bytes: never panics, and whatever parses is the
//! one canonical encoding of its (KID, CTR); every (KID, CTR) encodes and parses back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sframe_core::{Error, Header, MAX_HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    match Header::parse(data) {
        Ok((header, len)) => {
            assert!((1..=MAX_HEADER_LEN).contains(&len) && len <= data.len());
            assert_eq!(len, header.encoded_len());
            let mut buf = [0u8; MAX_HEADER_LEN];
            let n = header.encode(&mut buf).expect("encode into 17 bytes");
            assert_eq!(&buf[..n], &data[..len], "parsed header is not canonical");
            assert_eq!(Header::parse(&data[..len]), Ok((header, len)));
        }
        Err(e) => assert_eq!(e, Error::MalformedFrame),
    }

    // Encode → parse round trip for (KID, CTR) taken from the input.
    if let (Some(k), Some(c)) = (data.get(..8), data.get(8..16)) {
        let kid = u64::from_be_bytes(k.try_into().unwrap());
        let ctr = u64::from_be_bytes(c.try_into().unwrap());
        let header = Header::new(kid, ctr);
        let mut buf = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut buf).expect("encode into 17 bytes");
        assert_eq!(Header::parse(&buf[..n]), Ok((header, n)));
        // Too small a buffer is an error, not a panic, and writes nothing.
        let mut short = [0u8; MAX_HEADER_LEN];
        let short_len = usize::from(data.get(16).copied().unwrap_or(0)) % n;
        assert_eq!(
            header.encode(&mut short[..short_len]),
            Err(Error::BufferTooSmall)
        );
        assert_eq!(short, [0u8; MAX_HEADER_LEN]);
    }
});
