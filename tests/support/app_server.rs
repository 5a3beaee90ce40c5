//! A client of `codex app-server` as an IDE drives it: JSON-RPC, one message a line, over the
//! server's stdio.

use std::io::{BufRead, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

pub struct AppServer {
    pub child: Child,
    lines: Receiver<String>,
    next: u64,
}

impl AppServer {
    /// Start `cmd` (which runs `codex app-server`) and initialize it as an IDE with the
    /// experimental API (needed for `chatgptAuthTokens`).
    pub fn start(mut cmd: Command) -> AppServer {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = AppServer {
            child,
            lines,
            next: 1,
        };
        let init = server.call(
            "initialize",
            serde_json::json!({
                "clientInfo": { "name": "ide", "title": null, "version": "1" },
                "capabilities": { "experimentalApi": true },
            }),
        );
        assert!(init.get("result").is_some(), "{init}");
        server.send(serde_json::json!({ "jsonrpc": "2.0", "method": "initialized" }));
        server
    }

    pub fn send(&mut self, msg: serde_json::Value) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{msg}").unwrap();
        stdin.flush().unwrap();
    }

    /// A request and its answer (notifications in between are skipped).
    pub fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let id = self.next;
        self.next += 1;
        self.send(
            serde_json::json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }),
        );
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|e| panic!("no answer to {method}: {e}"));
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if msg["id"] == id {
                return msg;
            }
        }
    }

    /// `thread/start` with `config` overrides, then a turn: Codex sends its first request.
    pub fn thread_and_turn(&mut self, config: serde_json::Value) -> serde_json::Value {
        let started = self.call("thread/start", serde_json::json!({ "config": config }));
        let id = started["result"]["thread"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{started}"))
            .to_string();
        let turn = self.call(
            "turn/start",
            serde_json::json!({ "threadId": id, "input": [{ "type": "text", "text": "say hi" }] }),
        );
        assert!(turn.get("result").is_some(), "{turn}");
        started
    }
}

impl Drop for AppServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback listener that accepts connections and never answers: a connection made to it
/// stays open (a proxy or router the session is talking to).
pub struct Holder {
    pub port: u16,
    held: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Holder {
    pub fn start() -> Holder {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = held.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().map_while(Result::ok) {
                keep.lock().unwrap().push(conn);
            }
        });
        Holder { port, held }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    pub fn count(&self) -> usize {
        self.held.lock().unwrap().len()
    }
}
