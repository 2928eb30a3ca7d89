//! The spans of the chosen trace: a table over one or every trace (filters, sortable
//! columns), a collapsible waterfall on a shared time axis with keyboard navigation,
//! and the details of the chosen span.

mod details;
mod table;
mod waterfall;
mod waterfall_row;

pub use details::SpanDetails;
pub use table::SpanTable;
pub use waterfall::Waterfall;

use leptos::prelude::*;
use opentelemetry::trace::SpanId;

fn is_selected(selected_span: RwSignal<Option<SpanId>>, id: SpanId) -> impl Fn() -> bool {
    move || selected_span.get() == Some(id)
}
