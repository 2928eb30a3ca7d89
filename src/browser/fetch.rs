//! [`BrowserHttp`]: the page's [`HttpClient`] over the browser's fetch — timeouts and
//! Stop through an `AbortController` per request, the response headers the server
//! exposes, the body as a stream with an idle timeout, gzip through
//! `CompressionStream`, and `keepalive` for requests that outlive the page.

use std::cell::RefCell;
use std::time::{Duration, SystemTime};

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Blob, Headers, ReadableStream, ReadableWritablePair, RequestInit, RequestMode,
    Response as JsResponse, WritableStream,
};

use super::js_error;
use crate::http::{Body, HttpClient, HttpError, Request, Response};

// web-sys keeps CompressionStream behind `web_sys_unstable_apis`; every current browser
// has it, so bind the three members used here directly.
#[wasm_bindgen]
extern "C" {
    type CompressionStream;
    #[wasm_bindgen(constructor, catch)]
    fn new(format: &str) -> Result<CompressionStream, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn readable(this: &CompressionStream) -> ReadableStream;
    #[wasm_bindgen(method, getter)]
    fn writable(this: &CompressionStream) -> WritableStream;
}

/// How long the no-cors probe that tells "down" from "dropped or CORS" may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The page's HTTP client. Each client's [`BrowserHttp::stop`] aborts its request in
/// flight (the model client's Stop button).
#[derive(Default)]
pub struct BrowserHttp {
    current: RefCell<Option<AbortController>>,
}

impl BrowserHttp {
    /// Aborts the request in flight, and the body it is streaming.
    pub fn stop(&self) {
        if let Some(c) = self.current.borrow().as_ref() {
            c.abort();
        }
    }

    async fn fetch(&self, request: &Request, body: Vec<u8>) -> Result<Response, HttpError> {
        let invalid = |e: JsValue| HttpError::InvalidRequest(js_error(e));
        let controller = AbortController::new().map_err(invalid)?;
        *self.current.borrow_mut() = Some(controller.clone());
        let headers = Headers::new().map_err(invalid)?;
        for (name, value) in &request.headers {
            headers.append(name, value).map_err(invalid)?;
        }
        let init = RequestInit::new();
        init.set_method(request.method.as_str());
        init.set_mode(RequestMode::Cors);
        init.set_headers(&headers);
        init.set_signal(Some(&controller.signal()));
        if request.keepalive {
            // web-sys has no setter for it; RequestInit is a plain JS object.
            js_sys::Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE).map_err(invalid)?;
        }
        if !body.is_empty() {
            init.set_body(&Uint8Array::from(body.as_slice()));
        }
        let window = web_sys::window().ok_or(HttpError::InvalidRequest("no window".into()))?;
        let sent = JsFuture::from(window.fetch_with_str_and_init(&request.url, &init));
        let timer = gloo_timers::future::sleep(request.timeout);
        let answer = match select(std::pin::pin!(sent), std::pin::pin!(timer)).await {
            Either::Left((answer, _)) => answer,
            Either::Right(_) => {
                controller.abort();
                return Err(HttpError::Timeout {
                    url: request.url.clone(),
                    after: request.timeout,
                });
            }
        };
        let response: JsResponse = match answer {
            Ok(r) => r.unchecked_into(),
            Err(_) if controller.signal().aborted() => return Err(HttpError::Aborted),
            Err(_) => {
                return Err(HttpError::Network {
                    url: request.url.clone(),
                    server_answers: answers(&request.url).await,
                })
            }
        };
        let headers = header_pairs(&response.headers());
        let body = match response.body() {
            Some(raw) => stream(raw, controller, request),
            None => futures_util::stream::empty().boxed_local(),
        };
        Ok(Response {
            status: response.status(),
            headers,
            body,
        })
    }
}

impl HttpClient for BrowserHttp {
    async fn send(&self, mut request: Request) -> Result<Response, HttpError> {
        let body = std::mem::take(&mut request.body);
        let body = if request.gzip {
            request.headers.push(("content-encoding", "gzip".into()));
            gzip(body).await.map_err(HttpError::Gzip)?
        } else {
            body
        };
        self.fetch(&request, body).await
    }

    async fn sleep(&self, duration: Duration) {
        gloo_timers::future::sleep(duration).await;
    }

    fn now(&self) -> SystemTime {
        crate::telemetry::clock::now()
    }
}

/// The body chunk by chunk; a silence longer than the request's idle timeout aborts it.
fn stream(raw: ReadableStream, controller: AbortController, request: &Request) -> Body {
    let chunks = wasm_streams::ReadableStream::from_raw(raw).into_stream();
    let (url, idle) = (request.url.clone(), request.idle_timeout);
    futures_util::stream::unfold(Some(chunks), move |chunks| {
        let (controller, url) = (controller.clone(), url.clone());
        async move {
            let mut chunks = chunks?;
            let next = chunks.next();
            let chunk = match idle {
                None => next.await,
                Some(after) => {
                    let timer = gloo_timers::future::sleep(after);
                    match select(next, std::pin::pin!(timer)).await {
                        Either::Left((chunk, _)) => chunk,
                        Either::Right(_) => {
                            controller.abort();
                            return Some((Err(HttpError::Stalled { url, after }), None));
                        }
                    }
                }
            };
            match chunk? {
                Ok(bytes) => Some((Ok(Uint8Array::new(&bytes).to_vec()), Some(chunks))),
                Err(_) if controller.signal().aborted() => Some((Err(HttpError::Aborted), None)),
                Err(e) => Some((Err(HttpError::Broken(js_error(e))), None)),
            }
        }
    })
    .boxed_local()
}

/// The response headers readable from this origin, names in lower case.
fn header_pairs(headers: &Headers) -> Vec<(String, String)> {
    let Ok(Some(entries)) = js_sys::try_iter(headers) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|pair| {
            let pair: Array = pair.dyn_into().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

/// Whether anything answers at `url`, CORS aside: an opaque no-cors answer proves a
/// server is there, whatever its CORS policy.
async fn answers(url: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let init = RequestInit::new();
    init.set_mode(RequestMode::NoCors);
    let probe = JsFuture::from(window.fetch_with_str_and_init(url, &init));
    let timer = gloo_timers::future::sleep(PROBE_TIMEOUT);
    matches!(
        select(std::pin::pin!(probe), std::pin::pin!(timer)).await,
        Either::Left((Ok(_), _))
    )
}

async fn gzip(body: Vec<u8>) -> Result<Vec<u8>, String> {
    let parts = Array::of1(&Uint8Array::from(body.as_slice()));
    let blob = Blob::new_with_u8_array_sequence(&parts).map_err(js_error)?;
    let gzip = CompressionStream::new("gzip").map_err(js_error)?;
    let pair = ReadableWritablePair::new(&gzip.readable(), &gzip.writable());
    let compressed = blob.stream().pipe_through(&pair);
    let response = JsResponse::new_with_opt_readable_stream(Some(&compressed)).map_err(js_error)?;
    let buffer = JsFuture::from(response.array_buffer().map_err(js_error)?)
        .await
        .map_err(js_error)?;
    Ok(Uint8Array::new(&buffer.unchecked_into()).to_vec())
}
