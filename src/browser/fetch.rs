//! [`BrowserHttp`]: HTTP through the browser's fetch (gloo-net), and gzip through
//! `CompressionStream`.

use gloo_net::http::Request;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ReadableStream, ReadableWritablePair, RequestMode, Response, WritableStream};

use super::js_error;
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
