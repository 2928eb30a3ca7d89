//! What the explorer's views compute from traces: plain Rust, tested natively, no
//! browser types.
//!
//! - [`store`]: [`store::TraceStore`], finished spans grouped into traces with their
//!   delivery state.
//! - [`rows`]: [`rows::SpanRow`], a trace's span tree flattened for display.
//! - [`tree`]: [`tree::Outline`], the waterfall's collapsed spans and keyboard moves.
//! - [`query`]: [`query::SpanQuery`], the spans table's filters and sort across traces.
//! - [`bench`]: the benchmark table and summary, read back from traces.
//! - [`chart`]: the latency chart's series.
//! - [`genai`]: OpenTelemetry's `gen_ai.*` conventions read as OpenInference views.
//! - [`timing`]: self time and the critical path of a trace.
//! - [`stats`]: statistics per span name over one trace or many.
//! - [`cost`]: what model calls cost, per trace, session or any set of traces.
//! - [`flame`]: flame graphs of one trace, or of many merged by path.
//! - [`compare`]: two traces side by side, spans matched by path, what changed.
//! - [`feedback`]: a person's verdict on an answer, kept with its trace.

pub mod bench;
pub mod chart;
pub mod compare;
pub mod cost;
pub mod feedback;
pub mod flame;
pub mod genai;
pub mod query;
pub mod rows;
pub mod stats;
pub mod store;
pub mod timing;
pub mod tree;
