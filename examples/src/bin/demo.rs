//! The smallest honest demo: one sender, one receiver, a few frames, and what a media server
//! sees of each frame without any key.

use sframe_core::{CipherSuite, Error, Header, Receiver, Sender};

fn main() -> Result<(), Error> {
    let suite = CipherSuite::AesGcm128Sha256;
    let base_key = b"demo base key: 16+ random bytes!";
    let mut sender = Sender::new(suite);
    sender.set_key(0x2a, base_key)?;
    let mut receiver = Receiver::new(suite);
    receiver.add_key(0x2a, base_key)?;

    println!("suite {suite} ({} backend)", sframe_core::BACKEND);
    for (i, payload) in [&b"opus frame"[..], b"vp8 key frame ...", b"vp8 delta"].iter().enumerate() {
        let mut buf = vec![0u8; sender.max_protected_len(payload.len())];
        let frame = sender.protect(b"", payload, &mut buf)?;
        let (header, header_len) = Header::parse(frame)?;
        println!(
            "frame {i}: kid={} ctr={} header={header_len} B, {} B -> {} B on the wire",
            header.key_id(),
            header.counter(),
            payload.len(),
            frame.len()
        );
        let plain = receiver.unprotect(b"", frame)?;
        assert_eq!(plain, *payload);
        println!("         decrypted: {:?}", String::from_utf8_lossy(plain));
    }
    Ok(())
}
