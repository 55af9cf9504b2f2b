//! The registry's bound (`sframe_core::registry`, with `std`): a process remembers the counters
//! of at most `RELEASED_KEYS` keys released by dropped senders, in the heap the docs state, and
//! fails closed beyond them. Its own test binary (its own process): once the registry forgot a
//! key, every key it does not know needs an explicit counter in the whole process, which would
//! break any test running next to it.

#![cfg(feature = "std")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use sframe_core::registry::RELEASED_KEYS;
use sframe_core::{CipherSuite, Counter, Error, RustCrypto, Sender, ratchet};

/// Net heap bytes (allocated minus freed) by the current thread while armed.
struct NetBytes;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static NET: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            let _ = NET.try_with(|n| n.set(n.get() + delta));
        }
    });
}

unsafe impl GlobalAlloc for NetBytes {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: NetBytes = NetBytes;

/// The heap `f` leaves allocated (on this thread).
fn net_heap_bytes(f: impl FnOnce()) -> isize {
    NET.with(|n| n.set(0));
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    NET.with(Cell::get)
}

/// The heap bound of the `RELEASED_KEYS` docs for a full record (16384 entries; measured
/// 2,209,048 bytes).
const DOCUMENTED_BYTES: isize = 2_300_000;

const SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;

fn key(i: usize) -> Vec<u8> {
    format!("registry capacity key #{i}").into_bytes()
}

fn sender() -> Sender<RustCrypto> {
    Sender::with_backend(RustCrypto, SUITE)
}

#[test]
fn registry_forgets_the_oldest_release_and_then_fails_closed() {
    // Fill the record: RELEASED_KEYS senders, one key and one frame each, dropped (key 0 is
    // the oldest release). What stays on the heap is the registry's record.
    let bytes = net_heap_bytes(|| {
        for i in 0..RELEASED_KEYS {
            let mut tx = sender();
            tx.set_key(1, &key(i)).unwrap();
            tx.protect_vec(b"", b"x").unwrap();
        }
    });
    println!("registry with {RELEASED_KEYS} released keys: {bytes} bytes of heap");
    assert!(
        bytes > DOCUMENTED_BYTES * 9 / 10 && bytes <= DOCUMENTED_BYTES,
        "{bytes} bytes: update the RELEASED_KEYS docs"
    );

    // Full, nothing forgotten: a new key starts at 0, a released one resumes.
    let mut a = sender();
    a.set_key(1, b"a key the registry never saw").unwrap();
    assert_eq!(a.next_counter(), Some(0));
    a.protect_vec(b"", b"x").unwrap();
    let mut b = sender();
    b.set_key(1, &key(RELEASED_KEYS - 1)).unwrap();
    assert_eq!(b.next_counter(), Some(1));
    drop(b); // back into the record, as the newest

    // One release too many: the oldest (key 0) is forgotten.
    drop(a);
    let mut tx = sender();
    assert_eq!(tx.set_key(1, &key(0)), Err(Error::CounterUnknown));
    // From now on a key the registry does not know may be a forgotten one: fail closed, for
    // keys never seen too, also ratchet chains (which take no counter).
    assert_eq!(
        tx.set_key(1, b"another key never seen"),
        Err(Error::CounterUnknown)
    );
    let layout = ratchet::RatchetLayout::default();
    assert_eq!(
        tx.set_ratcheting_key(layout, ratchet::Generation(1), b"a chain never seen"),
        Err(Error::CounterUnknown)
    );
    let mls = sframe_core::mls::MlsKidLayout::new(4, 4).unwrap();
    let secret = b"an MLS epoch's exported secret";
    assert_eq!(
        tx.set_mls_key(&mls, secret, 3, 5),
        Err(Error::CounterUnknown)
    );
    assert_eq!(tx.key_id(), None, "nothing installed");
    // The MLS member key is the exported secret as base key under the member's KID (§5.2).
    let mut member = sender();
    let kid = mls.kid(3, 5).unwrap();
    member
        .set_key_with_counter(kid, secret, Counter(0))
        .unwrap();
    assert_eq!(member.set_mls_key(&mls, secret, 3, 5), Ok(kid));
    assert_eq!(
        member.next_counter(),
        Some(0),
        "the same key: nothing changed"
    );
    // An explicit counter works: 0 for a key the application knows is new, the persisted one
    // for the forgotten key.
    tx.set_key_with_counter(1, b"another key never seen", Counter(0))
        .unwrap();
    assert_eq!(tx.next_counter(), Some(0));
    let mut forgotten = sender();
    forgotten
        .set_key_with_counter(1, &key(0), Counter(1))
        .unwrap();
    assert_eq!(forgotten.next_counter(), Some(1));
    // Keys still in the record resume as before.
    let mut kept = sender();
    kept.set_key(1, &key(1)).unwrap();
    assert_eq!(kept.next_counter(), Some(1));
    // And a sender's own history is its own: going back to a key it used needs no counter.
    tx.set_key_with_counter(2, b"another key never seen", Counter(0))
        .unwrap();
    tx.protect_vec(b"", b"x").unwrap();
    tx.set_key(1, b"another key never seen").unwrap();
    tx.set_key(2, b"another key never seen").unwrap();
    assert_eq!(tx.next_counter(), Some(1));
}
