//! HTTP through the browser's fetch (gloo-net):
//! - [`BrowserHttp`]: the exporter's transport (and gzip through `CompressionStream`);
//! - [`BrowserModelHttp`]: the model client's, streaming, with timeout and Stop.

use gloo_net::http::Request;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ReadableStream, ReadableWritablePair, RequestMode, Response, WritableStream};

use std::cell::RefCell;
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use web_sys::AbortController;

use super::js_error;
use crate::model::openai::{Body, HttpHead, ModelTransport};
use crate::model::ModelError;
use crate::telemetry::export::{HttpResponse, Transport};

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

/// The page's HTTP client.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserHttp;

impl Transport for BrowserHttp {
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
    ) -> Result<HttpResponse, String> {
        let mut request = Request::post(url).mode(RequestMode::Cors);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request
            .body(Uint8Array::from(body.as_slice()))
            .map_err(|e| e.to_string())?
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body = response.text().await.unwrap_or_default();
        Ok(HttpResponse {
            status: response.status(),
            body,
        })
    }

    async fn reachable(&self, url: &str) -> bool {
        // An opaque no-cors answer proves a server is there, whatever its CORS policy.
        Request::get(url)
            .mode(RequestMode::NoCors)
            .send()
            .await
            .is_ok()
    }

    async fn gzip(&self, body: Vec<u8>) -> Result<Vec<u8>, String> {
        let parts = Array::of1(&Uint8Array::from(body.as_slice()));
        let blob = Blob::new_with_u8_array_sequence(&parts).map_err(js_error)?;
        let gzip = CompressionStream::new("gzip").map_err(js_error)?;
        let pair = ReadableWritablePair::new(&gzip.readable(), &gzip.writable());
        let compressed = blob.stream().pipe_through(&pair);
        let response =
            Response::new_with_opt_readable_stream(Some(&compressed)).map_err(js_error)?;
        let buffer = JsFuture::from(response.array_buffer().map_err(js_error)?)
            .await
            .map_err(js_error)?;
        Ok(Uint8Array::new(&buffer.unchecked_into()).to_vec())
    }
}

/// The model client's HTTP: fetch with a timeout for the answer to start, a Stop that
/// aborts the request in flight, and the body as a stream of chunks.
pub struct BrowserModelHttp {
    abort: RefCell<AbortController>,
    timeout: Duration,
}

impl BrowserModelHttp {
    pub fn new(timeout: Duration) -> Result<Self, String> {
        Ok(BrowserModelHttp {
            abort: RefCell::new(AbortController::new().map_err(js_error)?),
            timeout,
        })
    }

    /// Aborts the request in flight (the Stop button).
    pub fn stop(&self) {
        self.abort.borrow().abort();
    }

    /// A fresh abort signal for the next question (an aborted one stays aborted).
    pub fn rearm(&self) -> Result<(), String> {
        *self.abort.borrow_mut() = AbortController::new().map_err(js_error)?;
        Ok(())
    }

    fn aborted(&self) -> bool {
        self.abort.borrow().signal().aborted()
    }
}

impl ModelTransport for BrowserModelHttp {
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: String,
    ) -> Result<(HttpHead, Body), ModelError> {
        let signal = self.abort.borrow().signal();
        let mut request = Request::post(url)
            .mode(RequestMode::Cors)
            .abort_signal(Some(&signal));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let request = request
            .body(body)
            .map_err(|e| ModelError::Malformed(e.to_string()))?;
        let send = std::pin::pin!(request.send());
        let timer = std::pin::pin!(gloo_timers::future::sleep(self.timeout));
        let response = match select(send, timer).await {
            Either::Left((Ok(response), _)) => response,
            Either::Left((Err(_), _)) if self.aborted() => return Err(ModelError::Aborted),
            Either::Left((Err(_), _)) => {
                return Err(ModelError::Network {
                    url: url.to_string(),
                })
            }
            Either::Right(_) => {
                self.stop();
                return Err(ModelError::Timeout(self.timeout.as_secs() as u32));
            }
        };
        let head = HttpHead {
            status: response.status(),
            retry_after: response
                .headers()
                .get("retry-after")
                .and_then(|v| v.trim().parse().ok()),
        };
        let raw = response
            .body()
            .ok_or_else(|| ModelError::Malformed("the answer has no body".into()))?;
        let aborted = self.abort.borrow().signal();
        let chunks = wasm_streams::ReadableStream::from_raw(raw)
            .into_stream()
            .map(move |chunk| match chunk {
                Ok(bytes) => Ok(Uint8Array::new(&bytes).to_vec()),
                Err(_) if aborted.aborted() => Err(ModelError::Aborted),
                Err(e) => Err(ModelError::Malformed(format!(
                    "the connection broke mid-answer: {}",
                    js_error(e)
                ))),
            });
        Ok((head, chunks.boxed_local()))
    }

    async fn sleep(&self, duration: Duration) {
        gloo_timers::future::sleep(duration).await;
    }
}
