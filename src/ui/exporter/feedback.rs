//! Feedback on answers, sent to Phoenix as span annotations once Phoenix has the root
//! span they annotate (after that trace's export, or at once when it is already there).

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::Exporter;
use crate::explorer::store::TraceStore;
use crate::phoenix;

impl Exporter {
    /// Sends the feedback Phoenix does not have yet, on traces whose root span it has
    /// (the rest goes after their export).
    pub fn send_feedback(self) {
        if self.annotating.get_value().0 {
            self.annotating.set_value((true, true));
            return;
        }
        let Ok(target) = self.target() else { return };
        let due = self.store.with_untracked(TraceStore::feedback_to_send);
        if due.is_empty() {
            return;
        }
        self.annotating.set_value((true, false));
        let client = self.client.get_value();
        spawn_local(async move {
            for (trace_id, root, resource, feedback) in due {
                let target = target.for_resource(resource.as_ref());
                let outcome = phoenix::annotate(&*client, &target, root, &feedback)
                    .await
                    .map_err(|e| e.to_string());
                self.store
                    .update(|s| s.feedback_sent(trace_id, &feedback, outcome));
            }
            let (_, again) = self.annotating.get_value();
            self.annotating.set_value((false, false));
            if again {
                self.send_feedback();
            }
        });
    }
}
