// A small client for Janus's HTTP API (https://janus.conf.meetecho.com/docs/rest.html):
// sessions, plugin handles, requests, and the long poll that delivers events. Enough for the
// videoroom plugin; no dependency on Janus's janus.js.

const tx = () => Math.random().toString(36).slice(2, 14);

export class JanusError extends Error {
  constructor(code, reason) {
    super(`Janus error ${code}: ${reason}`);
    this.code = code;
  }
}

async function post(url, body) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const data = await r.json();
  if (data.janus === 'error') throw new JanusError(data.error?.code, data.error?.reason);
  return data;
}

export class JanusSession {
  /** Creates a session on the Janus at `base` (e.g. "/janus") and starts its event poll. */
  static async create(base = '/janus') {
    const data = await post(base, { janus: 'create', transaction: tx() });
    return new JanusSession(base, data.data.id);
  }

  constructor(base, id) {
    this.base = base;
    this.id = id;
    this.url = `${base}/${id}`;
    /** @type {Map<number, JanusHandle>} */
    this.handles = new Map();
    /** transaction → resolve, for asynchronous plugin replies */
    this.pending = new Map();
    this.closed = false;
    this.poll();
  }

  async poll() {
    while (!this.closed) {
      let events;
      try {
        const r = await fetch(`${this.url}?maxev=10&rid=${Date.now()}`, { cache: 'no-store' });
        events = await r.json();
      } catch (e) {
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      for (const ev of Array.isArray(events) ? events : [events]) this.dispatch(ev);
    }
  }

  dispatch(ev) {
    if (ev.janus === 'keepalive') return;
    if (ev.janus === 'error' && ev.error?.code === 458) {
      // Session gone (timed out or destroyed).
      this.closed = true;
      this.onclosed?.(ev);
      return;
    }
    const waiting = ev.transaction && this.pending.get(ev.transaction);
    if (waiting && ev.janus !== 'ack') {
      this.pending.delete(ev.transaction);
      waiting(ev);
      return;
    }
    const h = this.handles.get(ev.sender);
    h?.onevent?.(ev);
  }

  async attach(plugin = 'janus.plugin.videoroom') {
    const data = await post(this.url, { janus: 'attach', plugin, transaction: tx() });
    const h = new JanusHandle(this, data.data.id);
    this.handles.set(h.id, h);
    return h;
  }

  async destroy() {
    if (this.closed) return;
    this.closed = true;
    try {
      await post(this.url, { janus: 'destroy', transaction: tx() });
    } catch {
      // already gone
    }
  }
}

export class JanusHandle {
  constructor(session, id) {
    this.session = session;
    this.id = id;
    this.url = `${session.url}/${id}`;
    /** Unsolicited events (other publishers, hangup, webrtcup, ...). */
    this.onevent = null;
  }

  /**
   * Sends a plugin request; resolves to { data, jsep } from the plugin's reply (synchronous
   * "success" or the asynchronous "event" with the same transaction). Rejects on errors,
   * including the videoroom's own { error_code, error } replies.
   */
  async request(body, jsep) {
    const transaction = tx();
    const reply = new Promise((resolve) => this.session.pending.set(transaction, resolve));
    const msg = { janus: 'message', transaction, body };
    if (jsep) msg.jsep = jsep;
    let first;
    try {
      first = await post(this.url, msg);
    } catch (e) {
      this.session.pending.delete(transaction);
      throw e;
    }
    const ev = first.janus === 'ack' ? await reply : first;
    if (first.janus !== 'ack') this.session.pending.delete(transaction);
    if (ev.janus === 'error') throw new JanusError(ev.error?.code, ev.error?.reason);
    const data = ev.plugindata?.data ?? {};
    if (data.error_code) throw new JanusError(data.error_code, data.error);
    return { data, jsep: ev.jsep };
  }

  async detach() {
    this.session.handles.delete(this.id);
    try {
      await post(this.url, { janus: 'detach', transaction: tx() });
    } catch {
      // session already gone
    }
  }
}
