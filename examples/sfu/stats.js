// @ts-check
// Error counts of the Janus demo's decrypters, shared by its worker and its main-thread path.

/**
 * The feeds with `errors` (per W3C errorType) summed from the decrypters' counters: a
 * decryptor fires one error event per run of identical failures (W3C issue #307), so events
 * count runs, the counters count frames.
 */
export function errorsFromStats(feedsNow, stats) {
  const out = structuredClone(feedsNow);
  for (const f of Object.values(out)) f.errors = {};
  for (const t of stats) {
    if (t.role !== 'decrypt' || !t.failures) continue;
    const f = (out[t.participant] ??= { frames: 0, decrypted: {}, errors: {}, codes: {}, wire: {} });
    for (const [type, n] of Object.entries(t.failures)) f.errors[type] = (f.errors[type] ?? 0) + n;
  }
  return out;
}
