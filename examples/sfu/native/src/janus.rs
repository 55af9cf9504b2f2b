//! Janus's HTTP API (https://janus.conf.meetecho.com/docs/rest.html): a session, plugin
//! handles, requests, and the long poll that delivers asynchronous events. Every reply is
//! untrusted input: missing or mistyped fields are errors, never panics.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::at::At;

/// How long a plugin request may take to answer (publish/subscribe negotiate).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Janus {
    base: String,
    session: u64,
    agent: ureq::Agent,
    events: Receiver<Value>,
    /// Events that arrived while waiting for a specific reply.
    backlog: VecDeque<Value>,
    stop: Arc<AtomicBool>,
    next_tx: AtomicU64,
}

/// A plugin reply: the plugin's `data` and the JSEP (SDP) if any.
pub struct Reply {
    pub data: Value,
    pub jsep: Option<Value>,
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

fn post(agent: &ureq::Agent, url: &str, body: &Value) -> Result<Value, String> {
    let mut r = agent
        .post(url)
        .send_json(body)
        .map_err(|e| format!("janus {url}: {e}"))?;
    let v: Value = r
        .body_mut()
        .read_json()
        .map_err(|e| format!("janus {url}: {e}"))?;
    if v.at("janus") == "error" {
        return Err(format!("janus error: {}", v.at("error")));
    }
    Ok(v)
}

impl Janus {
    /// Creates a session and starts its event long poll.
    pub fn connect(base: &str) -> Result<Janus, String> {
        let base = base.trim_end_matches('/').to_string();
        let agent = agent(Duration::from_secs(10));
        let v = post(
            &agent,
            &base,
            &json!({ "janus": "create", "transaction": "c" }),
        )?;
        let session = v
            .at("data")
            .at("id")
            .as_u64()
            .ok_or("janus: create without a session id")?;
        let (tx, events) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let url = format!("{base}/{session}");
        let flag = stop.clone();
        thread::Builder::new()
            .name("janus-events".into())
            .spawn(move || long_poll(&url, &tx, &flag))
            .map_err(|e| e.to_string())?;
        Ok(Janus {
            base,
            session,
            agent,
            events,
            backlog: VecDeque::new(),
            stop,
            next_tx: AtomicU64::new(1),
        })
    }

    /// The IP address Janus uses for its ICE candidates (`local-ip` of GET /info).
    pub fn local_ip(&self) -> Option<std::net::IpAddr> {
        let mut r = self.agent.get(&format!("{}/info", self.base)).call().ok()?;
        let v: Value = r.body_mut().read_json().ok()?;
        v.at("local-ip").as_str()?.parse().ok()
    }

    fn url(&self) -> String {
        format!("{}/{}", self.base, self.session)
    }

    fn tx(&self) -> String {
        format!("n{}", self.next_tx.fetch_add(1, Ordering::Relaxed))
    }

    pub fn attach(&self, plugin: &str) -> Result<u64, String> {
        let v = post(
            &self.agent,
            &self.url(),
            &json!({ "janus": "attach", "plugin": plugin, "transaction": self.tx() }),
        )?;
        v.at("data")
            .at("id")
            .as_u64()
            .ok_or_else(|| "janus: attach without a handle id".into())
    }

    pub fn detach(&self, handle: u64) {
        let _ = post(
            &self.agent,
            &format!("{}/{handle}", self.url()),
            &json!({ "janus": "detach", "transaction": self.tx() }),
        );
    }

    /// Sends a plugin message and waits for its reply (synchronous "success" or the
    /// asynchronous "event" with the same transaction). Videoroom errors become `Err`.
    pub fn request(
        &mut self,
        handle: u64,
        body: Value,
        jsep: Option<Value>,
    ) -> Result<Reply, String> {
        let transaction = self.tx();
        let msg = match jsep {
            Some(j) => {
                json!({ "janus": "message", "transaction": transaction, "body": body, "jsep": j })
            }
            None => json!({ "janus": "message", "transaction": transaction, "body": body }),
        };
        let first = post(&self.agent, &format!("{}/{handle}", self.url()), &msg)?;
        let ev = if first.at("janus") == "ack" {
            self.wait_for(&transaction)?
        } else {
            first
        };
        if ev.at("janus") == "error" {
            return Err(format!("janus error: {}", ev.at("error")));
        }
        let data = ev.at("plugindata").at("data").clone();
        if let Some(code) = data.get("error_code") {
            return Err(format!("videoroom error {code}: {}", data.at("error")));
        }
        let jsep = ev.get("jsep").cloned();
        Ok(Reply { data, jsep })
    }

    fn wait_for(&mut self, transaction: &str) -> Result<Value, String> {
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(ev) if ev.at("transaction") == transaction && ev.at("janus") != "ack" => {
                    return Ok(ev);
                }
                Ok(ev) => self.backlog.push_back(ev),
                Err(RecvTimeoutError::Timeout) => return Err("janus: no reply in time".into()),
                Err(RecvTimeoutError::Disconnected) => return Err("janus: event poll ended".into()),
            }
        }
    }

    /// The next unsolicited event, if one arrives within `timeout`.
    pub fn next_event(&mut self, timeout: Duration) -> Option<Value> {
        if let Some(ev) = self.backlog.pop_front() {
            return Some(ev);
        }
        self.events.recv_timeout(timeout).ok()
    }

    pub fn destroy(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = post(
            &self.agent,
            &self.url(),
            &json!({ "janus": "destroy", "transaction": self.tx() }),
        );
    }
}

fn long_poll(url: &str, tx: &Sender<Value>, stop: &AtomicBool) {
    let agent = agent(Duration::from_secs(70));
    let mut failures = 0u32;
    while !stop.load(Ordering::Relaxed) {
        let got = agent
            .get(&format!("{url}?maxev=10"))
            .call()
            .map_err(|e| e.to_string())
            .and_then(|mut r| r.body_mut().read_json::<Value>().map_err(|e| e.to_string()));
        let v = match got {
            Ok(v) => {
                failures = 0;
                v
            }
            Err(e) => {
                failures += 1;
                if failures > 5 {
                    eprintln!("native: janus event poll gave up: {e}");
                    return;
                }
                thread::sleep(Duration::from_millis(500));
                continue;
            }
        };
        let list = match v {
            Value::Array(a) => a,
            other => vec![other],
        };
        for ev in list {
            if ev.at("janus") == "keepalive" {
                continue;
            }
            if ev.at("janus") == "error" && ev.at("error").at("code") == 458 {
                eprintln!("native: janus session gone");
                return;
            }
            if tx.send(ev).is_err() {
                return;
            }
        }
    }
}
