// opentelemetry-js's side of the `vs opentelemetry-js` lines that `make bench` prints.
// scripts/setup.sh bundles it (esbuild) into .state/tools/otel-js-bench.js, which
// tests/wasm_bench imports, so it runs in the same headless Chromium as the page's wasm,
// on the same workload. Each function is one timed run and returns milliseconds.
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ "service.name": "bench" }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const tracer = provider.getTracer("bench");
const TEXT = "aaaaaaaaaaaaaaaaaaaa";

/** Creates and ends `n` spans with 8 attributes (4 strings, 3 ints, 1 float), as
 * opentelemetry-js's own span benchmark does; the spans stay for the encoders. */
export function createSpans(n) {
  exporter.reset();
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const span = tracer.startSpan("bench");
    span.setAttribute("aaaaaaaaaaaaaaaaaaaa", TEXT);
    span.setAttribute("bbbbbbbbbbbbbbbbbbbb", TEXT);
    span.setAttribute("cccccccccccccccccccc", TEXT);
    span.setAttribute("dddddddddddddddddddd", TEXT);
    span.setAttribute("eeeeeeeeeeeeeeeeeeee", i);
    span.setAttribute("ffffffffffffffffffff", 2 * i);
    span.setAttribute("gggggggggggggggggggg", 3 * i);
    span.setAttribute("hhhhhhhhhhhhhhhhhhhh", i / 7);
    span.end();
  }
  return performance.now() - start;
}

/** Encodes the spans of the last `createSpans` as OTLP protobuf. */
export function encodeProtobuf() {
  const spans = exporter.getFinishedSpans();
  const start = performance.now();
  ProtobufTraceSerializer.serializeRequest(spans);
  return performance.now() - start;
}

/** Encodes the spans of the last `createSpans` as OTLP/JSON. */
export function encodeJson() {
  const spans = exporter.getFinishedSpans();
  const start = performance.now();
  JsonTraceSerializer.serializeRequest(spans);
  return performance.now() - start;
}

/** The OTLP/JSON file of the last `createSpans`, which both sides then decode. */
export function jsonFile() {
  return new TextDecoder().decode(JsonTraceSerializer.serializeRequest(exporter.getFinishedSpans()));
}

/** Reads an OTLP/JSON file as a JavaScript viewer does (opentelemetry-js has no OTLP
 * decoder of its own): JSON.parse, then every span visited. */
export function decodeJson(text) {
  const start = performance.now();
  let spans = 0;
  for (const rs of JSON.parse(text).resourceSpans) {
    for (const ss of rs.scopeSpans) spans += ss.spans.length;
  }
  if (spans === 0) throw new Error("no spans decoded");
  return performance.now() - start;
}
