//! Settings fields: inputs bound to one field of a settings signal (reached through a
//! `get`/`set` pair), each change handed to `saved` so the panel persists it.

use leptos::prelude::*;

/// A labelled text input: `kind` `text`, `number`, or `textarea` for several lines.
#[component]
pub fn TextField<S: Send + Sync + 'static>(
    id: &'static str,
    label: &'static str,
    settings: RwSignal<S>,
    get: fn(&S) -> String,
    set: fn(&mut S, String),
    saved: Callback<()>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "")] placeholder: &'static str,
) -> impl IntoView {
    let value = move || settings.with(get);
    let changed = move |ev: leptos::ev::Event| {
        settings.update(|s| set(s, event_target_value(&ev)));
        saved.run(());
    };
    let field = if kind == "textarea" {
        view! {
            <textarea id=id rows="7" spellcheck="false" prop:value=value on:change=changed />
        }
        .into_any()
    } else {
        view! {
            <input id=id type=kind placeholder=placeholder prop:value=value on:change=changed />
        }
        .into_any()
    };
    view! {
        <label for=id>{label}</label>
        {field}
    }
}

/// A checkbox with its label.
#[component]
pub fn CheckField<S: Send + Sync + 'static>(
    id: &'static str,
    label: &'static str,
    settings: RwSignal<S>,
    get: fn(&S) -> bool,
    set: fn(&mut S, bool),
    saved: Callback<()>,
) -> impl IntoView {
    view! {
        <label class="check" for=id>
            <input
                id=id
                type="checkbox"
                prop:checked=move || settings.with(get)
                on:change=move |ev| {
                    settings.update(|s| set(s, event_target_checked(&ev)));
                    saved.run(());
                }
            />
            {label}
        </label>
    }
}

/// A labelled password input for an API key (kept in its own signal, never in settings).
#[component]
pub fn SecretField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    placeholder: &'static str,
    saved: Callback<()>,
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input
            id=id
            type="password"
            autocomplete="off"
            placeholder=placeholder
            prop:value=move || value.get()
            on:change=move |ev| {
                value.set(event_target_value(&ev));
                saved.run(());
            }
        />
    }
}
