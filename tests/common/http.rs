//! [`Script`]: a scripted [`HttpClient`] — answers chosen per request by a closure (or
//! taken in order), every request and every wait recorded, time standing still.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use ragtrace::http::{HttpClient, HttpError, Request, Response};

/// What the fake server does with one request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// An HTTP answer: status, headers, body chunks.
    Http(u16, Vec<(String, String)>, Vec<Vec<u8>>),
    /// No answer.
    Fail(HttpError),
    /// A 200 whose body breaks off with `HttpError` after the given chunks.
    Cut(Vec<Vec<u8>>, HttpError),
}

impl Answer {
    /// `status` with `body` in one chunk.
    pub fn status(status: u16, body: &str) -> Answer {
        Answer::Http(status, Vec::new(), vec![body.as_bytes().to_vec()])
    }

    /// `status` with the body in the given chunks.
    pub fn chunks(status: u16, chunks: &[&str]) -> Answer {
        let chunks = chunks.iter().map(|c| c.as_bytes().to_vec()).collect();
        Answer::Http(status, Vec::new(), chunks)
    }

    /// The same answer with one more header.
    pub fn with_header(self, name: &str, value: &str) -> Answer {
        match self {
            Answer::Http(s, mut h, b) => {
                h.push((name.into(), value.into()));
                Answer::Http(s, h, b)
            }
            other => other,
        }
    }
}

/// The wall clock of every [`Script`].
pub const NOW: Duration = Duration::from_secs(1_700_000_000);

type Responder = Box<dyn FnMut(&Request) -> Answer>;

pub struct Script {
    respond: RefCell<Responder>,
    pub requests: RefCell<Vec<Request>>,
    pub slept: RefCell<Vec<Duration>>,
}

impl Script {
    /// Answers each request with `respond`.
    pub fn new(respond: impl FnMut(&Request) -> Answer + 'static) -> Script {
        Script {
            respond: RefCell::new(Box::new(respond)),
            requests: RefCell::default(),
            slept: RefCell::default(),
        }
    }

    /// Gives `answers` in order; a request past the last one fails the test.
    pub fn answers(answers: Vec<Answer>) -> Script {
        let mut queue = VecDeque::from(answers);
        Script::new(move |_| queue.pop_front().expect("a scripted answer is left"))
    }
}

impl HttpClient for Script {
    async fn send(&self, request: Request) -> Result<Response, HttpError> {
        let answer = (self.respond.borrow_mut())(&request);
        self.requests.borrow_mut().push(request);
        match answer {
            Answer::Fail(e) => Err(e),
            Answer::Http(status, headers, chunks) => Ok(Response {
                status,
                headers,
                body: futures_util::stream::iter(chunks.into_iter().map(Ok)).boxed_local(),
            }),
            Answer::Cut(chunks, error) => Ok(Response {
                status: 200,
                headers: Vec::new(),
                body: futures_util::stream::iter(chunks.into_iter().map(Ok).chain([Err(error)]))
                    .boxed_local(),
            }),
        }
    }

    async fn sleep(&self, duration: Duration) {
        self.slept.borrow_mut().push(duration);
    }

    fn now(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + NOW
    }
}
