//! The end-to-end harness: serves the release `dist/` on a free loopback port, starts
//! ChromeDriver and a fresh headless Chromium profile, and drives the page.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use http::{HeaderName, HeaderValue};
use serde_json::{json, Value};
use tokio::process::{Child, Command};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

const CHROME_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
];

/// Ctrl+A, release, Backspace: empties a field the way a person does (WebDriver's
/// "clear" fires no `input` event, so the page would never hear of it).
const SELECT_ALL_AND_DELETE: &str = "\u{E009}a\u{E000}\u{E003}";

/// The release `dist/` served on a free loopback port.
pub struct Site {
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Site {
    pub async fn start() -> Site {
        let (addr, server) = serve(dist()).await;
        Site { addr, server }
    }

    /// `dist/` without the files `missing` (paths inside it), as a broken deployment.
    pub async fn without(missing: &[&str]) -> Site {
        let copy = std::env::temp_dir().join(format!("ragtrace-dist-{}", free_port()));
        copy_except(&dist(), &copy, &dist(), missing);
        let (addr, server) = serve(copy).await;
        Site { addr, server }
    }

    /// E.g. `http://127.0.0.1:40123`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A page open in headless Chromium. Dropping it stops the browser and its site.
pub struct Page {
    pub client: Client,
    pub site: Site,
    _driver: Child,
    profile: PathBuf,
}

/// A port free on every interface, from below the kernel's ephemeral range: a server
/// that takes seconds to start (Phoenix) cannot lose it to an outgoing connection.
pub fn free_port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let seed = (std::process::id() % 5000) as u16;
    loop {
        let port = 20_000 + (seed + NEXT.fetch_add(7, Ordering::Relaxed)) % 10_000;
        if TcpListener::bind(("::", port)).is_ok() && TcpListener::bind(("127.0.0.1", port)).is_ok()
        {
            return port;
        }
    }
}

fn copy_except(
    from: &std::path::Path,
    to: &std::path::Path,
    root: &std::path::Path,
    missing: &[&str],
) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_except(&path, &target, root, missing);
        } else if !missing.contains(&relative.as_str()) {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn dist() -> PathBuf {
    let dist = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist");
    assert!(
        dist.join("index.html").exists(),
        "dist/ is missing: run `trunk build --release` first (`make test` does)"
    );
    dist
}

async fn serve(dir: PathBuf) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The same cross-origin isolation headers as `trunk serve` (Trunk.toml): they give
    // the page's clock microsecond resolution.
    let header = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    let app = axum::Router::new()
        .fallback_service(ServeDir::new(dir))
        .layer(header("cross-origin-opener-policy", "same-origin"))
        .layer(header("cross-origin-embedder-policy", "credentialless"));
    let handle = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, handle)
}

impl Page {
    /// Opens the release page on a site of its own.
    pub async fn open() -> Page {
        Page::open_at(Site::start().await).await
    }

    /// Opens the release page from `site` and waits until the handbook is indexed.
    pub async fn open_at(site: Site) -> Page {
        let port = free_port();
        let driver =
            Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                // Its own process group, so dropping the page ends Chromium too, even when
                // a failed test never reached `close`.
                .process_group(0)
                .spawn()
                .expect("chromedriver runs (make test installs it)");
        let profile = std::env::temp_dir().join(format!("ragtrace-e2e-{port}"));
        let mut args: Vec<String> = CHROME_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let caps = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": args,
                "prefs": { "download.default_directory": profile.join("downloads"), "download.prompt_for_download": false },
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let caps = caps.as_object().unwrap().clone();
        let mut client = None;
        for _ in 0..100 {
            match ClientBuilder::rustls()
                .expect("tls")
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let client = client.expect("chromedriver accepts a session");
        client.goto(&format!("{}/", site.origin())).await.unwrap();
        let page = Page {
            client,
            site,
            _driver: driver,
            profile,
        };
        page.until_mounted().await;
        page
    }

    /// Reloads the page and waits until the app is mounted again: the load event does
    /// not wait for the module script's top-level `await init(…)`, so the body can
    /// still be empty when WebDriver's refresh returns.
    pub async fn reload(&self) {
        self.client.refresh().await.unwrap();
        self.until_mounted().await;
    }

    async fn until_mounted(&self) {
        self.wait_for(|p| async move { p.text("#ask").await == "Ask" })
            .await;
    }

    /// Polls `cond` for up to 20 s.
    pub async fn wait_for<'a, F, Fut>(&'a self, cond: F)
    where
        F: Fn(&'a Page) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        self.wait_up_to(Duration::from_secs(20), cond).await
    }

    /// Polls `cond` for up to `limit`.
    pub async fn wait_up_to<'a, F, Fut>(&'a self, limit: Duration, cond: F)
    where
        F: Fn(&'a Page) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        for _ in 0..(limit.as_millis() / 100) {
            if cond(self).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "timed out waiting on the page; it shows:\n{}",
            self.text("body").await
        );
    }

    /// Runs JavaScript and returns its JSON result.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// The text of the first element matching `css` ("" when there is none).
    pub async fn text(&self, css: &str) -> String {
        let q = serde_json::to_string(css).unwrap();
        self.js(&format!(
            "const e = document.querySelector({q}); return e ? e.textContent : '';"
        ))
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Waits (up to 20 s) until the element `css` holds the text `needle`.
    pub async fn wait_text(&self, css: &str, needle: &str) {
        self.wait_for(|p| async move { p.text(css).await.contains(needle) })
            .await
    }

    /// The chosen span's attributes as the details panel lists them, as (key, value).
    pub async fn detail_attributes(&self) -> Vec<(String, String)> {
        let rows = self
            .js("return [...document.querySelectorAll('#details tr')]\
                 .map(r => [...r.querySelectorAll('td')].map(td => td.textContent))\
                 .filter(cells => cells.length === 2)")
            .await;
        serde_json::from_value(rows).unwrap()
    }

    /// Types `question`, chooses `mode` ("rag" or "agent") and submits: with Enter when
    /// `enter`, else with the Ask button. Waits for the answer or error.
    pub async fn ask(&self, question: &str, mode: &str, enter: bool) {
        let input = self.client.find(Locator::Css("#question")).await.unwrap();
        input.send_keys(SELECT_ALL_AND_DELETE).await.unwrap();
        self.client
            .find(Locator::Css("#mode"))
            .await
            .unwrap()
            .select_by_value(mode)
            .await
            .unwrap();
        let before = self
            .js("return document.querySelectorAll('#trace-list li').length")
            .await;
        if enter {
            input
                .send_keys(&format!("{question}\u{E007}"))
                .await
                .unwrap();
        } else {
            input.send_keys(question).await.unwrap();
            self.client
                .find(Locator::Css("#ask"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        }
        self.wait_for(|p| {
            let before = before.clone();
            async move {
                let now = p
                    .js("return document.querySelectorAll('#trace-list li').length")
                    .await;
                now != before && p.text("#ask").await == "Ask"
            }
        })
        .await;
    }

    /// Types `value` into the field `css` and leaves it (so its change event fires).
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.send_keys(SELECT_ALL_AND_DELETE).await.unwrap();
        field.send_keys(&format!("{value}\u{E004}")).await.unwrap();
    }

    /// How many elements match `css`.
    pub async fn count(&self, css: &str) -> u64 {
        let q = serde_json::to_string(css).unwrap();
        self.js(&format!("return document.querySelectorAll({q}).length"))
            .await
            .as_u64()
            .unwrap()
    }

    /// Chooses `value` in the select `css`.
    pub async fn select_by_value(&self, css: &str, value: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .select_by_value(value)
            .await
            .unwrap();
    }

    /// Clicks the element `css`.
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// The trace ids in the trace list, newest first.
    pub async fn trace_ids(&self) -> Vec<String> {
        let ids = self.js("return [...document.querySelectorAll('#trace-list li')].map(li => li.dataset.traceId)").await;
        ids.as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }

    /// Shows the trace `id` and returns its span rows as (name, kind, depth).
    pub async fn trace_tree(&self, id: &str) -> Vec<(String, String, usize)> {
        self.click(&format!("#trace-list li[data-trace-id='{id}']"))
            .await;
        // The table shows the trace once every row is one of its spans (an imported
        // trace comes from storage a moment after the click).
        let shown = format!(
            "const rows = [...document.querySelectorAll('#spans tr.span-row')]; \
             return rows.length > 0 && rows.every(r => r.dataset.traceId === '{id}')"
        );
        self.wait_for(|p| {
            let shown = shown.clone();
            async move { p.js(&shown).await == true }
        })
        .await;
        let rows = self
            .js("return [...document.querySelectorAll('#spans tr.span-row')].map(r => [r.cells[0].textContent, r.cells[1].textContent, Number(r.dataset.depth)])")
            .await;
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r[0].as_str().unwrap().into(),
                    r[1].as_str().unwrap().into(),
                    r[2].as_u64().unwrap() as usize,
                )
            })
            .collect()
    }

    /// The span table: (name, kind, status, duration) per row, in tree order.
    pub async fn span_rows(&self) -> Vec<(String, String, String, String)> {
        let rows = self
            .js("return [...document.querySelectorAll('#spans tr.span-row')].map(r => [...r.cells].map(c => c.textContent))")
            .await;
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let c: Vec<String> = r
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect();
                (c[0].clone(), c[1].clone(), c[2].clone(), c[3].clone())
            })
            .collect()
    }

    /// Clicks the span-table row of the first span named `name`.
    pub async fn select_span(&self, name: &str) {
        let rows = self
            .client
            .find_all(Locator::Css("#spans tr.span-row"))
            .await
            .unwrap();
        for row in rows {
            if row
                .find(Locator::Css("td.name"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
                == name
            {
                row.click().await.unwrap();
                return;
            }
        }
        panic!("no span named {name}");
    }

    /// The browser console since the last call (ChromeDriver's log endpoint).
    pub async fn console(&self) -> Vec<String> {
        let log = self
            .client
            .issue_cmd(Post {
                path: "se/log",
                body: serde_json::json!({"type": "browser"}),
            })
            .await
            .expect("chromedriver returns the browser log");
        log.as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| format!("{} {}", e["level"], e["message"]))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Grants the page a permission (e.g. `clipboard-read`), as a person clicking
    /// "Allow" would (W3C Permissions: Set Permission).
    pub async fn grant(&self, permission: &'static str) {
        self.client
            .issue_cmd(Post {
                path: "permissions",
                body: serde_json::json!({"descriptor": {"name": permission}, "state": "granted"}),
            })
            .await
            .expect("chromedriver sets the permission");
    }

    /// Fails on any console error or panic message of the page's own.
    pub async fn assert_clean_console(&self) {
        let bad: Vec<String> = self
            .console()
            .await
            .into_iter()
            // Chromium logs every HTTP error answer as SEVERE; those are the failures the
            // tests provoke, not the page's.
            .filter(|l| !l.contains("Failed to load resource"))
            .filter(|l| {
                l.contains("SEVERE") || l.contains("panicked") || l.contains("RuntimeError")
            })
            .collect();
        assert!(bad.is_empty(), "console errors: {bad:#?}");
    }

    /// Waits for the file `name` in the browser's download folder and returns its text.
    pub async fn downloaded(&self, name: &str) -> String {
        let path = self.profile.join("downloads").join(name);
        for _ in 0..100 {
            if let Ok(text) = std::fs::read_to_string(&path) {
                if !text.is_empty() {
                    return text;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{name} was not downloaded");
    }

    /// The waterfall's rows as (name, depth), top to bottom.
    pub async fn waterfall(&self) -> Vec<(String, u64)> {
        let names = self
            .js("return [...document.querySelectorAll('#waterfall .wf-row .wf-name')].map(e => e.textContent)")
            .await;
        names
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .zip(self.depths("#waterfall .wf-row").await)
            .collect()
    }

    /// The tree depth of each element matching `css` (`data-depth`, or `aria-level` - 1).
    pub async fn depths(&self, css: &str) -> Vec<u64> {
        let q = serde_json::to_string(css).unwrap();
        let depths = self
            .js(&format!(
                "return [...document.querySelectorAll({q})].map(e => e.dataset.depth !== undefined ? Number(e.dataset.depth) : Number(e.getAttribute('aria-level')) - 1)"
            ))
            .await;
        depths
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap())
            .collect()
    }

    /// Presses `key` on the element `css` (focusing it first, as a click or Tab would).
    pub async fn press(&self, css: &str, key: fantoccini::key::Key) {
        let element = self.client.find(Locator::Css(css)).await.unwrap();
        element
            .send_keys(&char::from(key).to_string())
            .await
            .unwrap();
    }

    /// Saves a whole-page screenshot as `target/<name>`, for people reviewing the look
    /// of the page.
    pub async fn screenshot(&self, name: &str) {
        self.client.set_window_size(1400, 2600).await.unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target")
                .join(name),
            png,
        )
        .unwrap();
    }

    /// Chooses `path` in the file input `css` (as a person picking a file would).
    pub async fn upload(&self, css: &str, path: &std::path::Path) {
        let input = self.client.find(Locator::Css(css)).await.unwrap();
        input.send_keys(&path.display().to_string()).await.unwrap();
    }

    /// Ends the session politely (dropping the page also ends the browser).
    pub async fn close(self) {
        self.client.clone().close().await.ok();
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        if let Some(pid) = self._driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// `POST /session/{id}/<path>` with a JSON body: the WebDriver commands fantoccini has
/// no method for (ChromeDriver's console log, W3C Set Permission).
#[derive(Debug)]
struct Post {
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for Post {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// A file under the test's own temporary folder.
pub fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ragtrace-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}
