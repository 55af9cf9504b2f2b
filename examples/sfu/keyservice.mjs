// DEMO KEY SERVICE — membership and epochs for examples/sfu, NOT a real key exchange.
//
// What it does: per room, a list of members (participant numbers 1..63, the "participant"
// field of the KID scheme) and an epoch counter that goes up on every join, leave and
// removal. Each epoch has a fresh random 16-byte "epoch nonce" that only the members of
// that epoch get (long-poll GET). Participants derive the epoch's SFrame base key as
//     epoch_secret(e) = HKDF-SHA256(ikm = room secret, salt = nonce(e), info = "sframe-sfu-demo epoch <e>", 16 bytes)
// where the room secret comes from the page's URL #fragment (never sent to any server).
// So: this service (and Janus) never see a key — they lack the room secret; a member removed
// from the room keeps the room secret but never gets the next epoch's nonce, so it cannot
// derive the new keys — as long as this service does not hand the nonce to it (it is
// trusted for membership, and joining needs no credential: anyone who can reach it can
// join, and anyone can remove anyone). Real applications use MLS (RFC 9420) — the epoch
// secret is then MLS-Exporter("SFrame 1.0 Base Key", "", 16) of the group's epoch, and
// removal is enforced by the group's key schedule — or their own authenticated key
// exchange. See README.md ("Keys").
import { randomBytes } from 'node:crypto';

/** Participant numbers fit the KID scheme's S = 6 participant bits. */
export const MAX_PARTICIPANT = 63;
const POLL_TIMEOUT_MS = 20000;
/** A member that has not polled for this long is dropped (closed tab, crashed process). */
const STALE_MS = 45000;

export class KeyDirectory {
  constructor() {
    /** room → { epoch, nonces: Map<epoch, hex>, members: Map<participant, member>, waiters } */
    this.rooms = new Map();
    this.log = [];
    this.timer = setInterval(() => this.dropStale(), 5000);
    this.timer.unref?.();
  }

  close() {
    clearInterval(this.timer);
    for (const r of this.rooms.values()) for (const w of r.waiters) w();
  }

  room(id) {
    let r = this.rooms.get(id);
    if (!r) {
      r = { epoch: 0, nonces: new Map(), members: new Map(), waiters: new Set(), history: [] };
      this.rooms.set(id, r);
    }
    return r;
  }

  /** New epoch for the room's current members (join, leave, removal). */
  rotate(r, why) {
    r.epoch += 1;
    r.nonces.set(r.epoch, randomBytes(16).toString('hex'));
    r.history.push({ epoch: r.epoch, why, members: [...r.members.keys()], at: Date.now() });
    this.log.push(`epoch ${r.epoch}: ${why}`);
    for (const w of r.waiters) w();
    r.waiters.clear();
  }

  join(roomId, { name = '', participant } = {}) {
    const r = this.room(roomId);
    let p = participant === undefined || participant === null ? undefined : Number(participant);
    if (p === undefined) {
      for (let i = 1; i <= MAX_PARTICIPANT; i++) {
        if (!r.members.has(i)) {
          p = i;
          break;
        }
      }
    }
    if (!Number.isInteger(p) || p < 1 || p > MAX_PARTICIPANT) return { status: 400, body: { error: 'no participant number free' } };
    if (r.members.has(p)) return { status: 409, body: { error: `participant ${p} is taken` } };
    const token = randomBytes(12).toString('hex');
    r.members.set(p, { participant: p, name: String(name).slice(0, 40), token, seen: Date.now() });
    this.rotate(r, `participant ${p} (${name}) joined`);
    return { status: 200, body: { participant: p, token } };
  }

  member(roomId, p, token) {
    const m = this.rooms.get(roomId)?.members.get(Number(p));
    return m && m.token === token ? m : null;
  }

  state(r, p) {
    return {
      epoch: r.epoch,
      nonce: r.nonces.get(r.epoch),
      members: [...r.members.values()].map(({ participant, name }) => ({ participant, name })),
      you: p,
    };
  }

  /** Long-poll: resolves once the room's epoch is above `since`, or after a timeout. */
  async poll(roomId, { participant, token, since = 0 }) {
    const r = this.rooms.get(roomId);
    let m = this.member(roomId, participant, token);
    if (!r || !m) return { status: 403, body: { removed: true } };
    m.seen = Date.now();
    if (r.epoch <= Number(since)) {
      await new Promise((resolve) => {
        const done = () => {
          clearTimeout(t);
          r.waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, POLL_TIMEOUT_MS);
        r.waiters.add(done);
      });
      m = this.member(roomId, participant, token);
      if (!m) return { status: 403, body: { removed: true } };
      m.seen = Date.now();
    }
    return { status: 200, body: this.state(r, Number(participant)) };
  }

  leave(roomId, { participant, token }) {
    const r = this.rooms.get(roomId);
    if (!r || !this.member(roomId, participant, token)) return { status: 403, body: { error: 'not a member' } };
    r.members.delete(Number(participant));
    this.rotate(r, `participant ${participant} left`);
    return { status: 200, body: { ok: true } };
  }

  /** Demo moderation: anyone may remove anyone (a real app authenticates this). */
  remove(roomId, { participant }) {
    const r = this.rooms.get(roomId);
    const p = Number(participant);
    if (!r || !r.members.has(p)) return { status: 404, body: { error: 'no such member' } };
    r.members.delete(p);
    this.rotate(r, `participant ${p} removed`);
    return { status: 200, body: { ok: true } };
  }

  dropStale() {
    const now = Date.now();
    for (const r of this.rooms.values()) {
      for (const [p, m] of r.members) {
        if (now - m.seen > STALE_MS) {
          r.members.delete(p);
          this.rotate(r, `participant ${p} timed out`);
        }
      }
    }
  }

  /** Epoch secrets' public inputs (nonces) and history, for the e2e test's own checks. */
  snapshot(roomId) {
    const r = this.rooms.get(roomId);
    if (!r) return null;
    return { epoch: r.epoch, nonces: Object.fromEntries(r.nonces), history: r.history };
  }

  /** HTTP routes under /keys/. Returns false if the path is not ours. */
  async handle(req, res, url) {
    const m = url.pathname.match(/^\/keys\/(\d{1,12})\/(join|poll|leave|remove)$/);
    if (!m) return false;
    const [, roomId, action] = m;
    let body = {};
    if (req.method === 'POST') {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        body = null;
      }
    } else {
      body = Object.fromEntries(url.searchParams);
    }
    let out;
    if (body === null || typeof body !== 'object') out = { status: 400, body: { error: 'bad JSON' } };
    else if (action === 'join' && req.method === 'POST') out = this.join(roomId, body);
    else if (action === 'poll' && req.method === 'GET') out = await this.poll(roomId, body);
    else if (action === 'leave' && req.method === 'POST') out = this.leave(roomId, body);
    else if (action === 'remove' && req.method === 'POST') out = this.remove(roomId, body);
    else out = { status: 405, body: { error: 'method not allowed' } };
    res.writeHead(out.status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(out.body));
    return true;
  }
}
