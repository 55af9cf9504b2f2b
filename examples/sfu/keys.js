// Page side of the DEMO KEY SERVICE (see keyservice.mjs for what it is and is not).
//
// The room secret comes from the URL fragment (#secret=...), which browsers never send to a
// server. The service only tells members the epoch number and a per-epoch random nonce; the
// epoch's SFrame base key is derived here, in WebCrypto, and stays a non-extractable HKDF
// CryptoKey:
//     epoch_secret(e) = HKDF-SHA256(ikm = room secret, salt = nonce(e), info = "sframe-sfu-demo epoch <e>", 16 bytes)
// Every member uses the same epoch secret as base key; RFC 9605 §4.4.2 then derives a distinct
// key and salt for each KID (participant and track), as in §5.2 where the base key is the MLS
// exporter secret of the epoch — that is where a real key exchange plugs in.

const enc = new TextEncoder();
const fromHex = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));

/** The epoch's base key as a non-extractable HKDF CryptoKey (what SFrameTransform takes). */
export async function deriveEpochKey(roomSecret, nonceHex, epoch) {
  const ikm = await crypto.subtle.importKey('raw', enc.encode(roomSecret), 'HKDF', false, ['deriveBits']);
  const bits = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: fromHex(nonceHex), info: enc.encode(`sframe-sfu-demo epoch ${epoch}`) },
      ikm,
      128,
    ),
  );
  try {
    // deriveKey too: the AES-GCM key is then derived inside WebCrypto and never enters JS or
    // wasm memory (the package's WebCrypto path for every frame).
    return await crypto.subtle.importKey('raw', bits, 'HKDF', false, ['deriveBits', 'deriveKey']);
  } finally {
    bits.fill(0);
  }
}

export class DemoKeys {
  /** @param {{ room: string, secret: string, name: string, participant?: number }} opts */
  constructor({ room, secret, name, participant }) {
    this.room = room;
    this.secret = secret;
    this.name = name;
    this.wanted = participant;
    this.participant = null;
    this.token = null;
    this.epoch = 0;
    this.removed = false;
    this.stopped = false;
    /** async ({ epoch, key, members }) => void */
    this.onepoch = null;
    /** () => void: the service no longer counts us as a member. */
    this.onremoved = null;
  }

  async join() {
    const r = await fetch(`/keys/${this.room}/join`, {
      method: 'POST',
      body: JSON.stringify({ name: this.name, participant: this.wanted }),
    });
    const data = await r.json();
    if (!r.ok) throw new Error(`key service: ${data.error}`);
    this.participant = data.participant;
    this.token = data.token;
    this.loop();
    return this.participant;
  }

  async loop() {
    while (!this.stopped) {
      let r;
      let data;
      try {
        const q = new URLSearchParams({ participant: this.participant, token: this.token, since: this.epoch });
        r = await fetch(`/keys/${this.room}/poll?${q}`, { cache: 'no-store' });
        data = await r.json();
      } catch {
        await new Promise((res) => setTimeout(res, 1000));
        continue;
      }
      if (r.status === 403) {
        this.removed = true;
        this.stopped = true;
        this.onremoved?.();
        return;
      }
      if (!r.ok || data.epoch <= this.epoch) continue;
      this.epoch = data.epoch;
      const key = await deriveEpochKey(this.secret, data.nonce, data.epoch);
      await this.onepoch?.({ epoch: data.epoch, key, members: data.members });
    }
  }

  /** Leaves the room's key group (the others rotate). Works during page unload. */
  leave() {
    if (this.stopped || this.participant === null) return;
    this.stopped = true;
    navigator.sendBeacon(
      `/keys/${this.room}/leave`,
      JSON.stringify({ participant: this.participant, token: this.token }),
    );
  }
}

/** Demo moderation: asks the key service to remove a member (the others rotate without it). */
export async function removeMember(room, participant) {
  const r = await fetch(`/keys/${room}/remove`, { method: 'POST', body: JSON.stringify({ participant }) });
  return r.ok;
}
