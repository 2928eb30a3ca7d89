//! A fault-injecting proxy between the page and a real Phoenix, on a loopback port. It
//! answers CORS itself (the page posts from another origin) and forwards OTLP/HTTP exports,
//! unless a test has scripted what the next ones meet: an error status, an answer that never
//! comes, a connection closed unanswered, or a partial success. It can also refuse bodies
//! over a size limit (413) and batches holding chosen span ids (400), and logs every POST.
//! GETs (the page's reachability probe) and preflights are answered, never logged nor faulted.
//! It speaks HTTP/1.1 on raw sockets, as a server framework can neither hang nor drop a
//! connection without answering.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
// tokio's io-util feature comes in with tower-http's `fs`.
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// What the proxy does to one POST instead of forwarding it.
pub enum Fault {
    /// Answer this status with a short text body (e.g. 500, 504, 422), optionally a
    /// `Retry-After` header value (sent verbatim, e.g. "1" or an HTTP-date).
    Status {
        status: u16,
        retry_after: Option<String>,
    },
    /// Read the request, then never answer (the connection stays open until the proxy drops).
    Hang,
    /// Read the request, then close the connection without answering.
    Drop,
    /// Forward all but the last span, then answer 200 with an OTLP partial success that
    /// rejects one span. A gzip body is not edited: it is forwarded whole, answered normally.
    PartialSuccess,
}

/// One POST the proxy saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// Span ids (hex) in the request body (empty if it could not be decoded, e.g. gzip).
    pub span_ids: Vec<String>,
    /// Size of the request body.
    pub bytes: usize,
    /// What the proxy did: "413", "400-poison", "fault-500" / "fault-429"…, "hang", "drop",
    /// "partial", or "forwarded-<status>" (502 when Phoenix could not be reached).
    pub outcome: String,
}

#[derive(Default)]
struct State {
    script: VecDeque<Fault>,
    limit: Option<usize>,
    poison: Vec<String>,
    log: Vec<Seen>,
    dropped: Vec<String>,
}

struct Shared {
    upstream: String,
    agent: ureq::Agent,
    state: Mutex<State>,
}

/// A running proxy; dropping it closes every connection, hanging ones too.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FaultProxy {
    /// Starts on a free loopback port, forwarding to `upstream` (e.g. "http://127.0.0.1:6006").
    pub async fn start(upstream: &str) -> FaultProxy {
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            // Phoenix's 4xx and 5xx are answers to pass on, not errors.
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .new_agent(),
            state: Mutex::default(),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(accept(listener, shared.clone()));
        FaultProxy {
            addr,
            shared,
            server,
        }
    }

    /// The OTLP/HTTP traces endpoint to put in the page.
    pub fn endpoint(&self) -> String {
        format!("http://{}/v1/traces", self.addr)
    }

    /// Faults for the next POSTs, in order, replacing any left; one POST consumes one;
    /// when the script is empty POSTs are forwarded.
    pub fn script(&self, faults: Vec<Fault>) {
        self.shared.state.lock().unwrap().script = faults.into();
    }

    /// POSTs whose body is larger than `bytes` get 413 (before any scripted fault is
    /// consumed), as a proxy with a body limit does. None: no limit.
    pub fn limit_body(&self, bytes: Option<usize>) {
        self.shared.state.lock().unwrap().limit = bytes;
    }

    /// A POST holding a span with one of these ids (16 lowercase hex chars) answers 400 with
    /// "poisoned span <id>", neither forwarded nor consuming a scripted fault: a batch that
    /// will never be taken. Checked after the size limit.
    pub fn poison(&self, span_ids: Vec<String>) {
        self.shared.state.lock().unwrap().poison = span_ids;
    }

    /// Every POST seen, in order, as what happened to it.
    pub fn log(&self) -> Vec<Seen> {
        self.shared.state.lock().unwrap().log.clone()
    }

    /// Span ids (hex) that PartialSuccess dropped.
    pub fn dropped(&self) -> Vec<String> {
        self.shared.state.lock().unwrap().dropped.clone()
    }
}

/// Accepts until aborted, when dropping the JoinSet ends every connection.
async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        while connections.try_join_next().is_some() {}
        connections.spawn(serve(stream, shared.clone()));
    }
}

struct Request {
    method: String,
    path: String,
    /// Names lower-cased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
        let headers = vec![("content-type", content_type.to_string())];
        Reply {
            status,
            headers,
            body,
        }
    }

    fn text(status: u16, body: String) -> Reply {
        Reply::new(status, "text/plain; charset=utf-8", body.into_bytes())
    }
}

const ALLOWED_HEADERS: &str = "*, content-type, x-project-name, authorization, content-encoding";

/// Answers the requests of one keep-alive connection until it closes.
async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buf = Vec::new();
    while let Some(request) = read_request(&mut stream, &mut buf).await {
        let reply = match request.method.as_str() {
            "OPTIONS" => Reply {
                headers: vec![
                    ("access-control-allow-methods", "POST, GET, OPTIONS".into()),
                    // `*` does not cover Authorization, so the page's headers are named too.
                    ("access-control-allow-headers", ALLOWED_HEADERS.into()),
                    ("access-control-max-age", "600".into()),
                ],
                ..Reply::text(204, String::new())
            },
            "GET" => Reply::text(200, String::new()),
            "POST" => match export(&shared, &request).await {
                Some(reply) => reply,
                None => return,
            },
            method => Reply::text(405, format!("{method} is not proxied")),
        };
        if write_reply(&mut stream, &reply).await.is_none() {
            return;
        }
    }
}

/// One export: refused, faulted or forwarded. None closes the connection unanswered.
async fn export(shared: &Arc<Shared>, request: &Request) -> Option<Reply> {
    let gzip = request
        .headers
        .iter()
        .any(|(name, value)| name == "content-encoding" && value.contains("gzip"));
    let decoded = if gzip {
        None
    } else {
        ExportTraceServiceRequest::decode(request.body.as_slice()).ok()
    };
    let span_ids = decoded.as_ref().map(ids_of).unwrap_or_default();
    let bytes = request.body.len();
    let (index, fault) = {
        let mut state = shared.state.lock().unwrap();
        let poisoned = span_ids.iter().find(|id| state.poison.contains(*id));
        // Err: refused before the script is read.
        let fault = match (state.limit, poisoned) {
            (Some(max), _) if bytes > max => Err(Reply::text(413, format!("over {max} bytes"))),
            (_, Some(id)) => Err(Reply::text(400, format!("poisoned span {id}"))),
            _ => Ok(state.script.pop_front()),
        };
        let outcome: String = match &fault {
            Err(refusal) if refusal.status == 413 => "413".into(),
            Err(_) => "400-poison".into(),
            Ok(Some(Fault::Status { status, .. })) => format!("fault-{status}"),
            Ok(Some(Fault::Hang)) => "hang".into(),
            Ok(Some(Fault::Drop)) => "drop".into(),
            // Settled once Phoenix has answered.
            Ok(Some(Fault::PartialSuccess) | None) => "forwarding".into(),
        };
        state.log.push(Seen {
            span_ids,
            bytes,
            outcome,
        });
        (state.log.len() - 1, fault)
    };
    let partial = match fault {
        Err(refusal) => return Some(refusal),
        Ok(Some(Fault::Status {
            status,
            retry_after,
        })) => {
            let mut reply = Reply::text(status, format!("fault {status} from the test proxy"));
            reply
                .headers
                .extend(retry_after.map(|value| ("retry-after", value)));
            return Some(reply);
        }
        Ok(Some(Fault::Hang)) => std::future::pending().await,
        Ok(Some(Fault::Drop)) => return None,
        Ok(Some(Fault::PartialSuccess)) => decoded.and_then(drop_last),
        Ok(None) => None,
    };
    let Some((kept, id)) = partial else {
        return Some(forward(shared, index, request, request.body.clone()).await);
    };
    let reply = forward(shared, index, request, kept.encode_to_vec()).await;
    if !(200..300).contains(&reply.status) {
        return Some(reply);
    }
    let mut state = shared.state.lock().unwrap();
    state.log[index].outcome = "partial".into();
    state.dropped.push(id);
    let response = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 1,
            error_message: "the test proxy dropped one span".into(),
        }),
    };
    let body = response.encode_to_vec();
    Some(Reply::new(200, "application/x-protobuf", body))
}

/// The page's headers that Phoenix reads.
const FORWARDED_HEADERS: [&str; 4] = [
    "content-type",
    "content-encoding",
    "x-project-name",
    "authorization",
];

/// Posts `body` to Phoenix with the page's headers and logs its status as the outcome.
async fn forward(shared: &Arc<Shared>, index: usize, request: &Request, body: Vec<u8>) -> Reply {
    let headers = request.headers.clone();
    let url = format!("{}{}", shared.upstream, request.path);
    let agent = shared.agent.clone();
    let reply = tokio::task::spawn_blocking(move || {
        let mut post = agent.post(url.as_str());
        for name in FORWARDED_HEADERS {
            if let Some((_, value)) = headers.iter().find(|(n, _)| n == name) {
                post = post.header(name, value.as_str());
            }
        }
        let mut response = match post.send(body) {
            Ok(response) => response,
            Err(e) => return Reply::text(502, format!("Phoenix could not be reached: {e}")),
        };
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        let body = response.body_mut().read_to_vec().unwrap_or_default();
        Reply::new(response.status().as_u16(), &content_type, body)
    })
    .await
    .unwrap();
    shared.state.lock().unwrap().log[index].outcome = format!("forwarded-{}", reply.status);
    reply
}

fn ids_of(request: &ExportTraceServiceRequest) -> Vec<String> {
    request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| hex(&s.span_id))
        .collect()
}

/// Takes the last span out of `request`: what is left, and the dropped span's id.
fn drop_last(
    mut request: ExportTraceServiceRequest,
) -> Option<(ExportTraceServiceRequest, String)> {
    let span = request
        .resource_spans
        .iter_mut()
        .rev()
        .flat_map(|r| r.scope_spans.iter_mut().rev())
        .find_map(|s| s.spans.pop())?;
    Some((request, hex(&span.span_id)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The next request on the connection (a head, then a Content-Length body); None at its
/// end or when the head does not parse, which closes the connection.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if stream.read_buf(buf).await.ok()? == 0 {
            return None;
        }
    };
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let mut lines = head.split("\r\n").filter(|l| !l.is_empty());
    let mut start = lines.next()?.split(' ');
    let (method, path) = (start.next()?.to_string(), start.next()?.to_string());
    let headers = lines
        .map(|l| {
            let (name, value) = l.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_string()))
        })
        .collect::<Option<Vec<_>>>()?;
    let length = match headers.iter().find(|(name, _)| name == "content-length") {
        Some((_, value)) => value.parse().ok()?,
        None => 0,
    };
    while buf.len() < head_end + length {
        if stream.read_buf(buf).await.ok()? == 0 {
            return None;
        }
    }
    let body = buf[head_end..head_end + length].to_vec();
    buf.drain(..head_end + length);
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

/// Writes the reply with the CORS headers every answer carries.
async fn write_reply(stream: &mut TcpStream, reply: &Reply) -> Option<()> {
    let reason = http::StatusCode::from_u16(reply.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let headers: String = reply
        .headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let mut bytes = format!(
        "HTTP/1.1 {} {reason}\r\naccess-control-allow-origin: *\r\n\
         access-control-expose-headers: retry-after\r\ncontent-length: {}\r\n{headers}\r\n",
        reply.status,
        reply.body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(&reply.body);
    stream.write_all(&bytes).await.ok()
}
