//! The flush when the page is hidden or closed: keepalive requests, which outlive the
//! page, within the browser's 64 KB budget; each span is sent once.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::Exporter;
use crate::explorer::store::{StoreChange, TraceStore};
use crate::http::HttpClient;
use crate::telemetry::delivery;

impl Exporter {
    /// The page is being hidden or closed: with auto-export on, sends what is not yet
    /// delivered with keepalive requests, which outlive the page, as far as the
    /// browser's budget allows. The rest stays pending in storage for the next visit.
    pub(super) fn flush(self) {
        if !self.auto_export() {
            return;
        }
        let Ok(target) = self.target() else { return };
        let spans: Vec<_> = self.flushing.with_value(|flushing| {
            self.store
                .with_untracked(TraceStore::unsent_spans)
                .into_iter()
                .filter(|s| !flushing.contains(&delivery::key(s)))
                .collect()
        });
        if spans.is_empty() {
            return;
        }
        let client = self.client.get_value();
        let groups = self.store.with_untracked(|s| s.by_resource(spans));
        let mut budget = delivery::KEEPALIVE_BUDGET;
        let requests = groups.into_iter().flat_map(|(resource, spans)| {
            let requests = delivery::keepalive_requests(
                &target.for_resource(resource.as_ref()),
                spans,
                budget,
            );
            budget -= requests
                .iter()
                .map(|(r, _)| r.body.len())
                .sum::<usize>()
                .min(budget);
            requests
        });
        for (request, keys) in requests.collect::<Vec<_>>() {
            let client = client.clone();
            self.flushing
                .update_value(|f| f.extend(keys.iter().copied()));
            spawn_local(async move {
                let answer = client.send(request).await;
                self.flushing.update_value(|f| {
                    keys.iter().for_each(|k| {
                        f.remove(k);
                    })
                });
                if answer.is_ok_and(|r| (200..300).contains(&r.status)) {
                    self.store.update(|s| s.mark_delivered(&keys));
                    self.tell_tabs(&StoreChange::delivered(&keys));
                }
            });
        }
    }
}
