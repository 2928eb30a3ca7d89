//! A real Arize Phoenix for the tests: started on its own ports and working directory,
//! read back over its REST API, killed (with its working directory removed) on drop.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::harness::free_port;

pub struct Phoenix {
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

/// The project's one way to start Phoenix (it installs Phoenix first if needed).
fn script() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/phoenix.sh")
}

fn get(url: &str) -> Result<Value, String> {
    ureq::get(url)
        .call()
        .map_err(|e| e.to_string())?
        .body_mut()
        .read_json::<Value>()
        .map_err(|e| e.to_string())
}

impl Phoenix {
    /// Starts Phoenix on a free port, accepting requests from `allowed_origins`.
    pub async fn start(allowed_origins: &str) -> Phoenix {
        Phoenix::start_on(free_port(), allowed_origins).await
    }

    /// Starts Phoenix on `port` and waits until it answers (about 15 s).
    pub async fn start_on(port: u16, allowed_origins: &str) -> Phoenix {
        let dir = std::env::temp_dir().join(format!("ragtrace-phoenix-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let log = std::fs::File::create(dir.join("phoenix.log")).unwrap();
        let child = Command::new(script())
            .arg("serve")
            .env("PHOENIX_HOST", "127.0.0.1")
            .env("PHOENIX_PORT", port.to_string())
            .env("PHOENIX_GRPC_PORT", free_port().to_string())
            .env("PHOENIX_WORKING_DIR", &dir)
            .env("PHOENIX_ALLOWED_ORIGINS", allowed_origins)
            .env("PHOENIX_TELEMETRY_ENABLED", "false")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .process_group(0)
            .spawn()
            .expect("phoenix starts");
        let mut phoenix = Phoenix { port, child, dir };
        for _ in 0..900 {
            if ureq::get(&format!("http://127.0.0.1:{port}/healthz"))
                .call()
                .is_ok()
            {
                return phoenix;
            }
            if let Ok(Some(status)) = phoenix.child.try_wait() {
                panic!("phoenix exited with {status}: {}", phoenix.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("phoenix did not answer within 90 s: {}", phoenix.log());
    }

    /// The end of Phoenix's log, for failure messages.
    fn log(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("phoenix.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// The OTLP/HTTP traces endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/v1/traces", self.port)
    }

    /// The spans Phoenix holds for `trace_id` in `project` (REST API JSON).
    pub async fn spans(&self, project: &str, trace_id: &str) -> Vec<Value> {
        let url = format!(
            "http://127.0.0.1:{}/v1/projects/{project}/spans?trace_id={trace_id}&limit=1000",
            self.port
        );
        let body = tokio::task::spawn_blocking(move || get(&url))
            .await
            .unwrap();
        match body {
            Ok(v) => v["data"].as_array().cloned().unwrap_or_default(),
            Err(_) => Vec::new(), // the project does not exist until its first span arrives
        }
    }

    /// The ids of every span Phoenix holds in `project` (REST API, page by page).
    pub async fn span_ids(&self, project: &str) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!(
                "http://127.0.0.1:{}/v1/projects/{project}/spans?limit=1000",
                self.port
            );
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page = tokio::task::spawn_blocking(move || get(&url))
                .await
                .unwrap()
                .unwrap_or_default();
            ids.extend(
                page["data"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s["context"]["span_id"].as_str().map(str::to_string)),
            );
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return ids,
            }
        }
    }

    /// Polls until Phoenix holds `count` spans in `project`, then returns their ids.
    pub async fn wait_for_project(&self, project: &str, count: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for _ in 0..150 {
            ids = self.span_ids(project).await;
            if ids.len() >= count {
                return ids;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("Phoenix holds {} of {count} spans in {project}", ids.len());
    }

    /// The annotations Phoenix holds on `span_id` in `project` (REST API JSON).
    pub async fn span_annotations(&self, project: &str, span_id: &str) -> Vec<Value> {
        let url = format!(
            "http://127.0.0.1:{}/v1/projects/{project}/span_annotations?span_ids={span_id}",
            self.port
        );
        let body = tokio::task::spawn_blocking(move || get(&url))
            .await
            .unwrap()
            .unwrap_or_default();
        body["data"].as_array().cloned().unwrap_or_default()
    }

    /// The Phoenix base URL, e.g. `http://127.0.0.1:6006`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls until Phoenix holds `count` spans of the trace (ingestion is asynchronous).
    pub async fn wait_for_spans(&self, project: &str, trace_id: &str, count: usize) -> Vec<Value> {
        let mut spans = Vec::new();
        for _ in 0..100 {
            spans = self.spans(project, trace_id).await;
            if spans.len() >= count {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "Phoenix holds {} of {count} spans of trace {trace_id}",
            spans.len()
        );
    }
}

impl Drop for Phoenix {
    fn drop(&mut self) {
        // The whole process group: phoenix may run workers of its own.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
