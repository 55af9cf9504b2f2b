// bench/browser.mjs --real-frames: on the 30th frame of each sending track, µs per call of
// what a transform does with a real RTCEncoded*Frame: getMetadata() (the "auto"
// compatibility mode reads mimeType from it on every frame, on both sides), the data getter
// and setter. Frames pass on unchanged.
const K = 2000;
const results = {};

function time(fn) {
  const t0 = performance.now();
  for (let i = 0; i < K; i++) fn();
  return ((performance.now() - t0) * 1000) / K;
}

self.onrtctransform = ({ transformer }) => {
  const { kind } = transformer.options;
  let n = 0;
  transformer.readable
    .pipeThrough(
      new TransformStream({
        transform(frame, controller) {
          if (++n === 30) {
            const data = frame.data;
            const copy = data.slice(0);
            let sink;
            results[kind] = {
              bytes: data.byteLength,
              getMetadataUs: time(() => (sink = frame.getMetadata())),
              dataGetUs: time(() => (sink = frame.data)),
              dataSetUs: time(() => (frame.data = copy)),
              metadataKeys: Object.keys(frame.getMetadata()),
            };
            if (Object.keys(results).length === 2) self.postMessage(results);
          }
          controller.enqueue(frame);
        },
      }),
    )
    .pipeTo(transformer.writable)
    .catch(() => {});
};
