//! The fleet benchmark: the real agent on scratch machines of every shape, each figure beside the
//! floor measured in the same run and its ratio to it (issue 17; docs/performance.md). Exits 1
//! when a target is missed.
//!
//! ```sh
//! cargo bench --bench fleet                      # everything, every shape (~10 min on 2 cores)
//! cargo bench --bench fleet -- --only latency --shapes 1,1000/each --rounds 100
//! ```
//!
//! Options (after `--`): `--only A,B` (latency, scan, check, storm, sessions, hostile), `--shapes`
//! (`1`, `N/one` = N homes with one owner, `N/each` = N homes with an owner each; default
//! `1,1000/one,1000/each,10000/each,100000/each`), `--rounds N` (violations per shape, default 200),
//! `--budget S` (seconds of violations per shape at most, default 60: a slow agent gets fewer
//! rounds, never a different measurement), `--bin PATH` (the agent binary; default the one cargo
//! built: point it at an older build to compare), `--observer realtime|sleep|spin` (how a round
//! sees the credential gone; default `realtime`, see `Observer`), `--make-machine SHAPE` (build one machine, print
//! its root and keep it, for profiling: the agent's environment is in `Machine::cmd`).
//!
//! A machine is a temp dir: homes under it, a passwd file naming their owners (the agent's
//! `--passwd-file` seam, so no real accounts are made), every home holding a compliant ChatGPT
//! auth.json. "One owner" homes come from a `[scope] homes` glob, all owned by one account; "an
//! owner each" homes are `~/.codex` of as many accounts. Run as root, each home is chowned to its
//! owner.
//!
//! Output: a table on stdout, `target/bench/results.json`, and `target/bench/latency.svg` (the
//! distribution of violation → out of reach and → durable per shape).

use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

const FIRST_UID: u32 = 200_000;

/// The hostile FUSE file system of the tests (issue 25): a user's own mount whose `open` never
/// returns.
#[cfg(target_os = "linux")]
#[path = "../tests/support/fuse.rs"]
#[allow(dead_code)]
mod fuse;
/// Elsewhere than Linux there is no `/dev/fuse` to speak to: never available.
#[cfg(not(target_os = "linux"))]
mod fuse {
    pub struct HostileFuse;
    impl Drop for HostileFuse {
        fn drop(&mut self) {}
    }
    impl HostileFuse {
        pub fn mount(_at: &std::path::Path, _uid: u32) -> HostileFuse {
            unreachable!("only where available()")
        }
    }
    pub fn available() -> bool {
        false
    }
}

fn main() {
    let opts = Opts::parse();
    if let Some(shape) = opts.make_machine {
        // For profiling: build a machine, print its root and the environment to point
        // `codex-warden` at it, and keep it.
        let m = machine(shape, 0);
        println!("{}", m.root.display());
        std::mem::forget(m);
        return;
    }
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut results = Results::default();
    eprintln!(
        "fleet bench: agent {}, load average {}",
        opts.bin.display(),
        loadavg()
    );
    let run = |what: &str| opts.only.is_empty() || opts.only.iter().any(|o| o == what);
    if run("latency") {
        disk_floor(&mut results);
    }
    for shape in &opts.shapes {
        if run("latency") || run("scan") {
            per_shape(&opts, *shape, &mut results);
        }
        if run("check") && shape.homes >= 1000 {
            check(&opts, *shape, &mut results);
        }
    }
    if run("storm") {
        storm(&opts, &mut results);
    }
    if run("sessions") {
        sessions(&opts, &mut results);
    }
    if run("hostile") {
        hostile(&opts, &mut results);
    }
    growth(&mut results);
    results.print();
    results.save(&out_dir, &opts);
    plot(&out_dir.join("latency.svg"), &results.series);
    eprintln!(
        "wrote {} and {}",
        out_dir.join("results.json").display(),
        out_dir.join("latency.svg").display()
    );
    let missed: Vec<String> = results
        .rows
        .iter()
        .filter(|r| r["met"] == false)
        .map(|r| {
            format!(
                "{} [{}]",
                r["metric"].as_str().unwrap_or(""),
                r["shape"].as_str().unwrap_or("")
            )
        })
        .collect();
    if !missed.is_empty() {
        eprintln!("targets missed: {}", missed.join("; "));
        std::process::exit(1);
    }
}

/// Growth with machine size, from the figures of this run: the first scan per home and the
/// out-of-reach p50 at 10,000 and 100,000 homes (an owner each) over those at 1,000. Linear or
/// better is a per-home scan ratio ≤ 1.5 (a margin for this shared machine's noise); flat is an
/// out-of-reach ratio (each over its own floor) ≤ 1.5.
fn growth(results: &mut Results) {
    let find = |metric: &str, shape: &str| {
        results
            .rows
            .iter()
            .find(|r| r["metric"] == metric && r["shape"] == shape)
            .and_then(|r| r["value"].as_f64())
    };
    let base = Shape {
        homes: 1000,
        each: true,
    };
    let mut rows = Vec::new();
    for n in [10_000, 100_000] {
        let big = Shape {
            homes: n,
            each: true,
        };
        if let (Some(a), Some(b)) = (
            find("first full scan (start → status written)", &base.name()),
            find("first full scan (start → status written)", &big.name()),
        ) {
            let per_home = (b / n as f64) / (a / 1000.0);
            rows.push((format!("growth: first scan per home, {n} / 1000"), per_home));
        }
        if let (Some(a), Some(b)) = (
            find("out of reach p50 / floor p50", &base.name()),
            find("out of reach p50 / floor p50", &big.name()),
        ) {
            rows.push((format!("growth: out of reach p50 ratio, {n} / 1000"), b / a));
        }
    }
    for (metric, v) in rows {
        results.add(&metric, "owner each", v, "×", Some(1.5));
    }
}

// ---- options --------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct Shape {
    homes: usize,
    /// One owner per home (else one owner for all).
    each: bool,
}

impl Shape {
    fn name(&self) -> String {
        match (self.homes, self.each) {
            (1, _) => "1 home".into(),
            (n, true) => format!("{n} homes, owner each"),
            (n, false) => format!("{n} homes, one owner"),
        }
    }
}

struct Opts {
    only: Vec<String>,
    shapes: Vec<Shape>,
    rounds: usize,
    budget: Duration,
    bin: PathBuf,
    make_machine: Option<Shape>,
    /// How a round sees the credential gone (`--observer realtime|sleep|spin`, see [`Gone`]).
    observer: Observer,
}

impl Opts {
    fn parse() -> Opts {
        let mut opts = Opts {
            only: Vec::new(),
            shapes: parse_shapes("1,1000/one,1000/each,10000/each,100000/each"),
            rounds: 200,
            budget: Duration::from_secs(60),
            bin: PathBuf::from(env!("CARGO_BIN_EXE_codex-warden")),
            make_machine: None,
            observer: Observer::RealTime,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().expect("option value");
            match arg.as_str() {
                "--only" => opts.only = value().split(',').map(str::to_string).collect(),
                "--shapes" => opts.shapes = parse_shapes(&value()),
                "--rounds" => opts.rounds = value().parse().expect("--rounds N"),
                "--budget" => opts.budget = Duration::from_secs(value().parse().expect("secs")),
                "--bin" => opts.bin = PathBuf::from(value()),
                "--make-machine" => opts.make_machine = parse_shapes(&value()).pop(),
                "--observer" => {
                    opts.observer = match value().as_str() {
                        "realtime" => Observer::RealTime,
                        "sleep" => Observer::Sleep,
                        "spin" => Observer::Spin,
                        other => panic!("--observer realtime|sleep|spin, not {other}"),
                    }
                }
                _ => {} // cargo passes --bench
            }
        }
        opts
    }
}

fn parse_shapes(s: &str) -> Vec<Shape> {
    s.split(',')
        .map(|p| {
            let (n, owner) = p.split_once('/').unwrap_or((p, "each"));
            Shape {
                homes: n.parse().expect("shape: N, N/one or N/each"),
                each: owner != "one",
            }
        })
        .collect()
}

// ---- results --------------------------------------------------------------------------------

#[derive(Default)]
struct Results {
    rows: Vec<Value>,
    /// (shape, moment) → sorted samples in ms, for the plot.
    series: BTreeMap<(String, String), Vec<f64>>,
}

impl Results {
    /// One figure beside its target (`None`: reported, no target).
    fn add(&mut self, metric: &str, shape: &str, value: f64, unit: &str, target: Option<f64>) {
        let met = target.map(|t| value <= t);
        self.rows.push(json!({
            "metric": metric, "shape": shape, "value": value, "unit": unit,
            "target": target, "met": met,
        }));
        eprintln!(
            "  {metric} [{shape}]: {value:.3} {unit}{}",
            target.map_or(String::new(), |t| format!(" (target ≤ {t})"))
        );
    }

    fn add_note(&mut self, metric: &str, shape: &str, note: String) {
        eprintln!("  {metric} [{shape}]: {note}");
        self.rows
            .push(json!({"metric": metric, "shape": shape, "note": note}));
    }

    /// Report p50, p99, max and n of `samples`; returns (p50, p99) in ms.
    fn distribution(
        &mut self,
        moment: &str,
        shape: &str,
        samples: &mut [Duration],
    ) -> Option<(f64, f64)> {
        if samples.is_empty() {
            self.add_note(moment, shape, "no samples".into());
            return None;
        }
        samples.sort();
        let ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        let (p50, p99) = (pct(&ms, 0.5), pct(&ms, 0.99));
        self.add(&format!("{moment} p50"), shape, p50, "ms", None);
        self.add(&format!("{moment} p99"), shape, p99, "ms", None);
        self.add(
            &format!("{moment} max"),
            shape,
            ms[ms.len() - 1],
            "ms",
            None,
        );
        self.add(
            &format!("{moment} n"),
            shape,
            ms.len() as f64,
            "rounds",
            None,
        );
        self.series
            .insert((shape.to_string(), moment.to_string()), ms);
        Some((p50, p99))
    }

    fn print(&self) {
        println!();
        println!(
            "{:<42} {:<26} {:>14} {:>13}  ok",
            "metric", "shape", "value", "target"
        );
        println!("{}", "-".repeat(102));
        for r in &self.rows {
            let unit = r["unit"].as_str().unwrap_or("");
            let value = match r["value"].as_f64() {
                Some(v) => format!("{} {unit}", fmt(v)),
                None => r["note"].as_str().unwrap_or("").to_string(),
            };
            let target = r["target"]
                .as_f64()
                .map_or(String::new(), |t| format!("≤ {} {unit}", fmt(t)));
            let ok = match r["met"].as_bool() {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "",
            };
            println!(
                "{:<42} {:<26} {:>14} {:>13}  {ok}",
                r["metric"].as_str().unwrap_or(""),
                r["shape"].as_str().unwrap_or(""),
                value,
                target
            );
        }
    }

    fn save(&self, dir: &Path, opts: &Opts) {
        let doc = json!({
            "machine": {
                "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
                "load_average_at_end": loadavg(),
                "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
                "time": jiff::Timestamp::now().to_string(),
            },
            "agent": opts.bin,
            "results": self.rows,
            "samples_ms": self.series.iter().map(|((s, m), v)| json!({"shape": s, "moment": m, "ms": v})).collect::<Vec<_>>(),
        });
        std::fs::write(
            dir.join("results.json"),
            serde_json::to_vec_pretty(&doc).unwrap(),
        )
        .unwrap();
    }
}

fn fmt(v: f64) -> String {
    if v >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

// ---- scratch machines -----------------------------------------------------------------------

struct Machine {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    homes: Vec<PathBuf>,
    uids: Vec<u32>,
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

/// A compliant ChatGPT auth.json, as Codex writes it.
fn good_auth() -> Vec<u8> {
    let claims = json!({
        "email": "dev@example.com", "exp": 4_102_444_800u64,
        "https://api.openai.com/auth": {
            "chatgpt_account_id": "ws-bench", "chatgpt_plan_type": "business",
            "chatgpt_user_id": "user-1",
        }
    });
    let token = format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(&claims.to_string())
    );
    serde_json::to_vec_pretty(&json!({
        "auth_mode": "chatgpt", "OPENAI_API_KEY": null,
        "tokens": {"id_token": token, "access_token": token, "refresh_token": "rt_bench", "account_id": "ws-bench"},
        "last_refresh": "2026-11-25T00:00:00Z",
    }))
    .unwrap()
}

const BAD_AUTH: &[u8] =
    b"{\n  \"auth_mode\": \"apikey\",\n  \"OPENAI_API_KEY\": \"sk-proj-bench\"\n}";

fn chown(path: &Path, uid: u32) {
    if rustix::process::geteuid().is_root() {
        std::os::unix::fs::lchown(path, Some(uid), Some(uid)).unwrap();
    }
}

fn owner_uid(i: usize) -> u32 {
    if rustix::process::geteuid().is_root() {
        FIRST_UID + i as u32
    } else {
        rustix::process::geteuid().as_raw()
    }
}

/// Write auth.json the way Codex does: create/truncate, write, close.
fn write_auth(home: &Path, body: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(home.join("auth.json"))
        .unwrap();
    f.write_all(body).unwrap();
}

/// `homes` Codex homes (plus `absent` accounts whose `~/.codex` does not exist yet).
fn machine(shape: Shape, absent: usize) -> Machine {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    std::fs::set_permissions(&root, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(root.join("policy.d")).unwrap();
    let mut policy = String::from(
        "[policy]\nname = \"bench\"\nrevision = \"b1\"\nmode = \"enforce\"\n\
         [login]\nallowed_methods = [\"chatgpt\"]\nallowed_workspaces = [\"ws-bench\"]\n\
         [scope]\nmin_uid = 1000\n",
    );
    let good = good_auth();
    let mut passwd = String::new();
    let mut homes = Vec::new();
    let mut uids = Vec::new();
    if shape.each || shape.homes == 1 {
        for i in 0..shape.homes + absent {
            let uid = owner_uid(i);
            let user_home = root.join(format!("home/u{i}"));
            std::fs::create_dir_all(&user_home).unwrap();
            chown(&user_home, uid);
            passwd.push_str(&format!(
                "u{i}:x:{uid}:{uid}::{}:/bin/sh\n",
                user_home.display()
            ));
            let home = user_home.join(".codex");
            if i < shape.homes {
                std::fs::create_dir(&home).unwrap();
                chown(&home, uid);
                write_auth(&home, &good);
                chown(&home.join("auth.json"), uid);
            }
            homes.push(home);
            uids.push(uid);
        }
    } else {
        let uid = owner_uid(0);
        let user_home = root.join("home/ci");
        std::fs::create_dir_all(&user_home).unwrap();
        chown(&user_home, uid);
        passwd.push_str(&format!(
            "ci:x:{uid}:{uid}::{}:/bin/sh\n",
            user_home.display()
        ));
        policy.push_str(&format!("homes = [\"{}/ci/*/.codex\"]\n", root.display()));
        for i in 0..shape.homes {
            let job = root.join(format!("ci/j{i}"));
            let home = job.join(".codex");
            std::fs::create_dir_all(&home).unwrap();
            chown(&job, uid);
            chown(&home, uid);
            write_auth(&home, &good);
            chown(&home.join("auth.json"), uid);
            homes.push(home);
            uids.push(uid);
        }
    }
    std::fs::write(root.join("policy.d/10-bench.toml"), policy).unwrap();
    std::fs::write(root.join("passwd"), passwd).unwrap();
    Machine {
        _tmp: tmp,
        root,
        homes,
        uids,
    }
}

impl Machine {
    fn cmd(&self, bin: &Path) -> Command {
        let mut c = Command::new(bin);
        c.env("CODEX_WARDEN_POLICY_DIR", self.root.join("policy.d"))
            .env("CODEX_WARDEN_STATE_DIR", self.root.join("state"))
            .env("CODEX_WARDEN_AUDIT_LOG", self.root.join("audit.jsonl"))
            .env("CODEX_WARDEN_PASSWD_FILE", self.root.join("passwd"))
            .env("CODEX_WARDEN_MANAGED_PREFS", self.root.join("none.plist"))
            // Codex's own requirements go to the scratch machine, never to this one's /etc/codex.
            .env(
                "CODEX_WARDEN_CODEX_REQUIREMENTS",
                self.root.join("etc-codex/requirements.toml"),
            )
            .env("CODEX_WARDEN_LOG", "warn")
            .env_remove("CODEX_HOME");
        c
    }

    /// Start the agent; returns it and the time until its first status snapshot (the first full
    /// scan, judged and written).
    fn start(&self, bin: &Path) -> (Agent, Duration) {
        let log = std::fs::File::create(self.root.join("agent.log")).unwrap();
        let t0 = Instant::now();
        let child = self
            .cmd(bin)
            .arg("run")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let status = self.root.join("state/status.json");
        wait(Duration::from_secs(120), Duration::from_micros(500), || {
            status.exists()
        });
        (Agent(child), t0.elapsed())
    }
}

struct Agent(Child);

impl Agent {
    fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Resident memory (VmRSS) in MB.
    fn rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0.0);
        kb / 1024.0
    }

    /// Context switches (every time a thread of the agent slept and was woken) and CPU ticks.
    /// The process connector's thread (`exec-events`) is left out of the switches: it wakes for
    /// every program started anywhere on the machine, which is the machine's activity, not the
    /// agent's ([`Agent::connector_wakeups`] counts it).
    fn wakeups_and_ticks(&self) -> (u64, u64) {
        let switches = self.switches(|comm| comm != "exec-events");
        let mut ticks = 0;
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", self.pid())) {
            for t in tasks.flatten() {
                let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
                let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else {
                    continue;
                };
                if comm.trim() == "exec-events" {
                    continue;
                }
                let after = &stat[stat.rfind(')').unwrap() + 2..];
                let f: Vec<&str> = after.split_whitespace().collect();
                ticks += f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0);
            }
        }
        (switches, ticks)
    }

    /// Context switches of the process connector's thread.
    fn connector_wakeups(&self) -> u64 {
        self.switches(|comm| comm == "exec-events")
    }

    fn switches(&self, thread: impl Fn(&str) -> bool) -> u64 {
        let mut switches = 0;
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", self.pid())) {
            for t in tasks.flatten() {
                let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
                if !thread(comm.trim()) {
                    continue;
                }
                let s = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
                for l in s.lines() {
                    if let Some(v) = l
                        .strip_prefix("voluntary_ctxt_switches:")
                        .or_else(|| l.strip_prefix("nonvoluntary_ctxt_switches:"))
                    {
                        switches += v.trim().parse::<u64>().unwrap_or(0);
                    }
                }
            }
        }
        switches
    }

    /// Wait until the agent used no CPU for a second (at most 120 s); the time since the call.
    fn until_quiet(&self) -> Duration {
        let t = Instant::now();
        let mut last = self.wakeups_and_ticks().1;
        let mut still = 0;
        while still < 4 && t.elapsed() < Duration::from_secs(120) {
            std::thread::sleep(Duration::from_millis(250));
            let now = self.wakeups_and_ticks().1;
            still = if now == last { still + 1 } else { 0 };
            last = now;
        }
        t.elapsed()
    }

    fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.signal("-TERM");
        // An agent still working through a backlog is not waited for.
        let stopped = wait(Duration::from_secs(5), Duration::from_millis(10), || {
            matches!(self.0.try_wait(), Ok(Some(_)))
        });
        if !stopped {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn wait(limit: Duration, every: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while !cond() {
        if t.elapsed() > limit {
            return false;
        }
        std::thread::sleep(every);
    }
    true
}

/// New complete lines of the audit log since the last call.
struct Tail {
    path: PathBuf,
    offset: u64,
}

impl Tail {
    fn new(path: PathBuf) -> Tail {
        let offset = std::fs::metadata(&path).map_or(0, |m| m.len());
        Tail { path, offset }
    }

    fn count(&mut self, needle: &str) -> usize {
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return 0;
        };
        f.seek(std::io::SeekFrom::Start(self.offset)).unwrap();
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).unwrap();
        let Some(end) = buf.iter().rposition(|b| *b == b'\n') else {
            return 0;
        };
        self.offset += end as u64 + 1;
        String::from_utf8_lossy(&buf[..=end])
            .matches(needle)
            .count()
    }
}

const QUARANTINED: &str = "\"event\":\"quarantined\"";

// ---- per shape: first scan, memory, idle, violations ------------------------------------------

fn per_shape(opts: &Opts, shape: Shape, results: &mut Results) {
    let name = shape.name();
    eprintln!("{name}: building the machine");
    let m = machine(shape, 0);
    eprintln!("{name}: starting the agent (load {})", loadavg());
    let (agent, first) = m.start(&opts.bin);
    results.add(
        "first full scan (start → status written)",
        &name,
        first.as_secs_f64(),
        "s",
        (shape.homes == 10_000).then_some(1.0),
    );
    // The agent may still be writing status (every user's file, the first time): wait until it
    // used no CPU for a second, and say how long that took.
    let quiet = agent.until_quiet();
    results.add(
        "start → quiet (all status written)",
        &name,
        quiet.as_secs_f64(),
        "s",
        None,
    );
    let rss_target = match shape.homes {
        10_000 => Some(32.0),
        _ => None,
    };
    results.add(
        "RSS, homes watched",
        &name,
        agent.rss_mb(),
        "MB",
        rss_target,
    );
    let status_len = std::fs::metadata(m.root.join("state/status.json")).map_or(0, |m| m.len());
    results.add(
        "status.json size",
        &name,
        status_len as f64 / 1e6,
        "MB",
        None,
    );
    // At rest the agent wakes only for its own timers: the status writer looks at the state dir
    // every 5 s (`status::writer::PROBE`: a full disk is said without waiting for a scan), and
    // the loop checks Codex's requirements files and backs up the process connector with a scan
    // of `/proc` every 10 s (`REQUIREMENTS_CHECK`, `CONNECTOR_BACKSTOP`, made to fall together by
    // `timers::SLACK` when they are due within a second of each other; a full scan the process
    // connector asks for moves the backstop, and the two apart). Over 20 s that is 4 + 2 (or 4)
    // wake-ups, and the two scans of `/proc` may reach a clock tick (10 ms) of CPU each;
    // anything more grows with something else.
    let idle = Duration::from_secs(20);
    let (w0, t0) = agent.wakeups_and_ticks();
    let c0 = agent.connector_wakeups();
    std::thread::sleep(idle);
    let (w1, t1) = agent.wakeups_and_ticks();
    let c1 = agent.connector_wakeups();
    results.add(
        "idle: process connector wakeups in 20 s (programs started on the machine)",
        &name,
        (c1 - c0) as f64,
        "wakeups",
        None,
    );
    results.add(
        "idle wakeups in 20 s (timers: 4 + 2 to 4)",
        &name,
        (w1 - w0) as f64,
        "wakeups",
        Some(8.0),
    );
    results.add(
        "idle CPU in 20 s (two /proc scans)",
        &name,
        (t1 - t0) as f64,
        "ticks",
        Some(2.0),
    );

    if opts.only.is_empty() || opts.only.iter().any(|o| o == "latency") {
        let (mut gone, mut durable, mut floor) = violations(opts, &m);
        half_spread(results, &name, &gone, &floor);
        let gone_p = results.distribution("violation → out of reach", &name, &mut gone);
        let durable_p = results.distribution("violation → durable", &name, &mut durable);
        let floor_p = results.distribution(
            "floor: notification + fdatasync'd append + rename",
            &name,
            &mut floor,
        );
        if let (Some(g), Some(d), Some(f)) = (gone_p, durable_p, floor_p) {
            results.add(
                "out of reach p50 / floor p50",
                &name,
                g.0 / f.0,
                "×",
                Some(1.5),
            );
            results.add(
                "out of reach p99 / floor p99",
                &name,
                g.1 / f.1,
                "×",
                Some(3.0),
            );
            results.add("durable p50 / floor p50", &name, d.0 / f.0, "×", Some(3.0));
            results.add("durable p99 / floor p99", &name, d.1 / f.1, "×", None);
        }
        status_staleness(&m, &name, results);
        std::thread::sleep(Duration::from_millis(1500));
        let len = std::fs::metadata(m.root.join("state/status.json")).map_or(0, |m| m.len());
        let fresh = std::fs::read_to_string(m.root.join("state/status.json"))
            .map(|s| s.matches("\"vault_id\"").count() > 0)
            .unwrap_or(false);
        results.add(
            "RSS after violations",
            &name,
            agent.rss_mb(),
            "MB",
            rss_target,
        );
        results.add_note(
            "status after violations",
            &name,
            format!("{:.2} MB, shows a quarantine: {fresh}", len as f64 / 1e6),
        );
    }
    drop(agent);
}

/// A bare fdatasync'd 300-byte append on this disk, for reference.
fn disk_floor(results: &mut Results) {
    let tmp = tempfile::tempdir().unwrap();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(tmp.path().join("log"))
        .unwrap();
    let mut fsyncs = Vec::new();
    for _ in 0..200 {
        f.write_all(&[b'x'; 300]).unwrap();
        let t = Instant::now();
        f.sync_data().unwrap();
        fsyncs.push(t.elapsed());
    }
    results.distribution(
        "one fdatasync'd 300-byte append",
        "floor (disk)",
        &mut fsyncs,
    );
}

/// The floor under the agent's out-of-reach and durable figures, measured beside it in the same
/// run on the same disk (rounds alternate with the agent's): a bare notify watcher on a home of
/// its own (outside the agent's scope) that, on the write's notification, appends 300 bytes and
/// fdatasyncs them, then renames auth.json out of the home: the least any agent that records its
/// decision before the move can do.
struct FloorWatcher {
    home: PathBuf,
    _watcher: notify::RecommendedWatcher,
}

impl FloorWatcher {
    fn new(root: &Path) -> FloorWatcher {
        use notify::Watcher as _;
        let home = root.join("floor/.codex");
        std::fs::create_dir_all(&home).unwrap();
        let watched = home.clone();
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join("floor/decisions.log"))
            .unwrap();
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let Ok(event) = res else { return };
            if !matches!(
                event.kind,
                notify::EventKind::Access(notify::event::AccessKind::Close(_))
            ) || !watched.join("auth.json").exists()
            {
                return;
            }
            log.write_all(&[b'x'; 300]).unwrap();
            log.sync_data().unwrap();
            let _ = std::fs::rename(watched.join("auth.json"), watched.join(".aside"));
        })
        .unwrap();
        watcher
            .watch(&home, notify::RecursiveMode::NonRecursive)
            .unwrap();
        FloorWatcher {
            home,
            _watcher: watcher,
        }
    }

    /// One violation: the time from the close of the write until auth.json is gone.
    fn round(&self, gone: &Gone) -> Duration {
        gone.time(&self.home.join("auth.json"), || {
            write_auth(&self.home, BAD_AUTH)
        })
    }
}

/// How stale status is: one more violation, in a home not touched yet, and the time until the
/// admin's status.json and the owner's users/<uid>.json show its quarantine (each home is one
/// line of either file).
fn status_staleness(m: &Machine, name: &str, results: &mut Results) {
    let i = m.homes.len() - 1 - (m.homes.len() / 3);
    let home = &m.homes[i];
    let needle = format!("\"codex_home\":\"{}\"", home.display());
    let shows = |file: &Path| {
        std::fs::read_to_string(file).is_ok_and(|text| {
            text.lines()
                .any(|l| l.contains(&needle) && l.contains("\"vault_id\""))
        })
    };
    let admin = m.root.join("state/status.json");
    let user = m.root.join(format!("state/users/{}.json", m.uids[i]));
    if shows(&admin) {
        return; // this home was already in the violations
    }
    write_auth(home, BAD_AUTH);
    let t0 = Instant::now();
    let limit = Duration::from_secs(10);
    let every = Duration::from_millis(1);
    let admin_ok = wait(limit, every, || shows(&admin));
    let admin_t = t0.elapsed();
    let user_ok = wait(limit, every, || shows(&user));
    let user_t = t0.elapsed();
    for (what, ok, t) in [
        ("status.json", admin_ok, admin_t),
        ("users/<uid>.json", user_ok, user_t),
    ] {
        let metric = format!("violation → shown in {what}");
        if ok {
            results.add(&metric, name, t.as_secs_f64(), "s", Some(1.0));
        } else {
            results.add_note(&metric, name, "not within 10 s".into());
        }
    }
}

/// Violating writes in homes spread over the machine; one at a time, each meeting an idle agent.
fn violations(opts: &Opts, m: &Machine) -> (Vec<Duration>, Vec<Duration>, Vec<Duration>) {
    let floor = FloorWatcher::new(&m.root);
    let waiter = Gone::new(opts.observer);
    let mut floors = Vec::new();
    let vault = m.root.join("state/vault");
    let mut tail = Tail::new(m.root.join("audit.jsonl"));
    let mut gone = Vec::new();
    let mut durable = Vec::new();
    // Each violation meets an idle agent on an idle disk: what the first scan left dirty (a status
    // file per user) is written out first, not into the first round's fdatasync.
    rustix::fs::sync();
    let start = Instant::now();
    for round in 0..opts.rounds {
        if round >= 5 && start.elapsed() > opts.budget {
            break;
        }
        let home = &m.homes[(round * 7919) % m.homes.len()];
        let auth = home.join("auth.json");
        let before = entries(&vault);
        let out_of_reach = waiter.time(&auth, || write_auth(home, BAD_AUTH));
        let t0 = Instant::now();
        gone.push(out_of_reach);
        let ok = wait(Duration::from_secs(60), Duration::from_micros(20), || {
            tail.count(QUARANTINED) > 0
        });
        assert!(ok, "no quarantined record");
        let ok = wait(Duration::from_secs(10), Duration::from_micros(20), || {
            entries(&vault)
                .iter()
                .any(|e| !before.contains(e) && vault.join(e).join("meta.json").exists())
        });
        assert!(ok, "no vault entry");
        durable.push(out_of_reach + t0.elapsed());
        // A developer does not sign in twice within milliseconds.
        std::thread::sleep(Duration::from_millis(20));
        floors.push(floor.round(&waiter));
        std::thread::sleep(Duration::from_millis(20));
    }
    (gone, durable, floors)
}

/// How a round learns that a credential is out of reach.
#[derive(Clone, Copy, PartialEq)]
enum Observer {
    /// Asleep on inotify (`IN_MOVED_FROM`, `IN_DELETE` of its directory), at real-time priority
    /// while it waits (the default): it takes no CPU from the agent or the floor it measures, and
    /// runs the moment the rename wakes it.
    RealTime,
    /// The same at normal priority. Woken by the rename on the CPU of the thread that renamed, it
    /// waits there until that thread blocks, so the agent's own work after the rename (the vault
    /// entry, the records) counts as the rename's, which the floor (nothing after) does not have.
    Sleep,
    /// Polling `lstat` in a loop: the harness before issue 24's last round. It keeps one of a
    /// 2-core machine's CPUs busy: a thread the write wakes that is placed on that CPU waits for
    /// the spinner's slice to end at a scheduler tick, so both distributions came in steps of the
    /// tick (4 ms here) and their ratio measured the tick's phase more than the work.
    Spin,
}

/// Times rounds the same way on both sides (the agent's and the floor's); the measuring thread's
/// own wake-up is in both. (Elsewhere than Linux, where the bench is only built, it polls.)
struct Gone {
    observer: Observer,
    #[cfg(target_os = "linux")]
    fd: std::os::fd::OwnedFd,
}

impl Gone {
    fn new(observer: Observer) -> Gone {
        #[cfg(target_os = "linux")]
        {
            use rustix::fs::inotify;
            let fd = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)
                .unwrap();
            Gone { observer, fd }
        }
        #[cfg(not(target_os = "linux"))]
        Gone { observer }
    }

    /// `write`, then the time from its end until `file` is gone from its path.
    #[cfg(target_os = "linux")]
    fn time(&self, file: &Path, write: impl FnOnce()) -> Duration {
        use rustix::event::{PollFd, PollFlags, poll};
        use rustix::fs::inotify;
        let limit = Duration::from_secs(60);
        let gone = || std::fs::symlink_metadata(file).is_err();
        let wd = inotify::add_watch(
            &self.fd,
            file.parent().unwrap(),
            inotify::WatchFlags::MOVED_FROM | inotify::WatchFlags::DELETE,
        )
        .unwrap();
        let _rt = (self.observer == Observer::RealTime).then(RealTime::enter);
        write();
        let t0 = Instant::now();
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 4096];
        while !gone() {
            assert!(t0.elapsed() < limit, "{} never went", file.display());
            if self.observer == Observer::Spin {
                continue;
            }
            let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
            let timeout = rustix::event::Timespec {
                tv_sec: 1,
                tv_nsec: 0,
            };
            poll(&mut fds, Some(&timeout)).unwrap();
            let mut events = inotify::Reader::new(&self.fd, &mut buf);
            while events.next().is_ok() {}
        }
        let took = t0.elapsed();
        let _ = inotify::remove_watch(&self.fd, wd);
        took
    }

    #[cfg(not(target_os = "linux"))]
    fn time(&self, file: &Path, write: impl FnOnce()) -> Duration {
        let _ = self.observer;
        write();
        let t0 = Instant::now();
        while std::fs::symlink_metadata(file).is_ok() {
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "{} never went",
                file.display()
            );
        }
        t0.elapsed()
    }
}

/// The calling thread at `SCHED_FIFO` priority 1 until dropped (a no-op without the privilege,
/// and elsewhere than Linux).
struct RealTime(#[cfg_attr(not(target_os = "linux"), allow(dead_code))] bool);

impl RealTime {
    #[cfg(target_os = "linux")]
    fn enter() -> RealTime {
        let param = libc::sched_param { sched_priority: 1 };
        // SAFETY: plain system call on the calling thread with a valid parameter block.
        RealTime(unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) } == 0)
    }

    #[cfg(not(target_os = "linux"))]
    fn enter() -> RealTime {
        RealTime(false)
    }
}

impl Drop for RealTime {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if self.0 {
            let param = libc::sched_param { sched_priority: 0 };
            // SAFETY: as in `enter`.
            unsafe { libc::sched_setscheduler(0, libc::SCHED_OTHER, &param) };
        }
    }
}

/// Until `child` (`pid`) has exited, or 5 s: asleep on its pidfd, real-time (Linux); elsewhere
/// polling `try_wait`.
fn wait_for_exit(pid: u32, child: &mut Child) {
    #[cfg(target_os = "linux")]
    {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let _ = &child;
        let pidfd = rustix::process::pidfd_open(
            rustix::process::Pid::from_raw(pid as i32).unwrap(),
            rustix::process::PidfdFlags::empty(),
        )
        .unwrap();
        let _rt = RealTime::enter();
        let mut fds = [PollFd::new(&pidfd, PollFlags::IN)];
        let limit = Timespec {
            tv_sec: 5,
            tv_nsec: 0,
        };
        let _ = poll(&mut fds, Some(&limit));
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(5) && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
}

fn entries(dir: &Path) -> Vec<std::ffi::OsString> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default()
}

// ---- a hostile home beside ------------------------------------------------------------------

/// Issue 25: violation → out of reach at 1,000 homes (an owner each) with hostile homes beside
/// them, against the floor measured in the same rounds: u0 rewrites a 60 MiB config.toml every
/// 0.3 s for the whole run, and (as root) u1's config.toml is a link into u1's own FUSE mount
/// whose `open` never returns. The violations land in the other 998 homes. Compared with the
/// plain 1,000-home row of the same run (`--only latency,hostile --shapes 1000/each`): the
/// difference of the two out-of-reach/floor ratios beside the difference of the two floors (the
/// bench's own noise between two runs of the same thing).
fn hostile(opts: &Opts, results: &mut Results) {
    let shape = Shape {
        homes: 1000,
        each: true,
    };
    let name = "1000 homes, owner each, hostile home beside".to_string();
    eprintln!("{name}: building the machine");
    let mut m = machine(shape, 0);
    let bad: Vec<PathBuf> = m.homes.drain(..2).collect();
    m.uids.drain(..2);
    let fused = fuse::available().then(|| {
        let mnt = m.root.join("home/u1/fuse");
        std::fs::create_dir_all(&mnt).unwrap();
        chown(&mnt, owner_uid(1));
        let f = fuse::HostileFuse::mount(&mnt, owner_uid(1));
        let link = bad[1].join("config.toml");
        std::os::unix::fs::symlink("../fuse/config.toml", &link).unwrap();
        let _ = std::process::Command::new("chown")
            .arg("-h")
            .arg(format!("{0}:{0}", owner_uid(1)))
            .arg(&link)
            .status();
        f
    });
    let (agent, _) = m.start(&opts.bin);
    agent.until_quiet();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, config) = (stop.clone(), bad[0].join("config.toml"));
        std::thread::spawn(move || {
            let mut body = format!("# {}\n", "x".repeat(60 << 20)).into_bytes();
            let mut rounds = 0u64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                rounds += 1;
                body.extend_from_slice(format!("model = \"o{}\"\n", rounds % 4).as_bytes());
                std::fs::write(&config, &body).unwrap();
                chown(&config, owner_uid(0));
                body.truncate(body.len() - 12);
                std::thread::sleep(Duration::from_millis(300));
            }
            rounds
        })
    };
    let (_, ticks0) = agent.wakeups_and_ticks();
    let started = Instant::now();
    let (mut gone, _durable, mut floor) = violations(opts, &m);
    let (_, ticks1) = agent.wakeups_and_ticks();
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let rewrites = writer.join().unwrap();
    half_spread(results, &name, &gone, &floor);
    let gone_p = results.distribution("violation → out of reach", &name, &mut gone);
    let floor_p = results.distribution(
        "floor: notification + fdatasync'd append + rename",
        &name,
        &mut floor,
    );
    let mut ratio = None;
    if let (Some(g), Some(f)) = (gone_p, floor_p) {
        ratio = Some(g.0 / f.0);
        // Targets of their own are the plain row's; this row is judged against that row below.
        results.add("out of reach p50 / floor p50", &name, g.0 / f.0, "×", None);
        results.add("out of reach p99 / floor p99", &name, g.1 / f.1, "×", None);
    }
    results.add(
        "RSS after violations",
        &name,
        agent.rss_mb(),
        "MB",
        Some(32.0),
    );
    results.add(
        "agent CPU per second of the run (60 MiB rewrites beside)",
        &name,
        (ticks1 - ticks0) as f64 / seconds,
        "ticks/s",
        None,
    );
    results.add_note(
        "hostile homes",
        &name,
        format!(
            "{rewrites} rewrites of a 60 MiB config.toml; a config.toml linked into a FUSE \
             mount that never answers: {}",
            if fused.is_some() {
                "yes"
            } else {
                "no (not root)"
            }
        ),
    );
    // Beside the plain row of the same run: how far the hostile homes moved the others'
    // quarantine (its ratio to its own floor: the hostile writes load the disk under both), and
    // the bench's own noise: how far that ratio moves between the two halves of one run.
    let plain = shape.name();
    let find = |metric: &str, shape: &str| {
        results
            .rows
            .iter()
            .find(|r| r["metric"] == metric && r["shape"] == shape)
            .and_then(|r| r["value"].as_f64())
    };
    let spread = "out of reach p50 / floor p50, first half against second (noise)";
    if let (Some(r), Some(r0), Some(n0), Some(n)) = (
        ratio,
        find("out of reach p50 / floor p50", &plain),
        find(spread, &plain),
        find(spread, &name),
    ) {
        let moved = (r - r0) / r0;
        let noise = n0.max(n);
        results.add(
            "hostile beside: out of reach ratio moved (hostile / plain − 1)",
            &name,
            moved,
            "×",
            None,
        );
        results.add(
            "hostile beside: moved − noise (≤ 0: within the noise)",
            &name,
            moved - noise,
            "×",
            Some(0.0),
        );
    }
    // Stopped first: nothing of the agent waits on it, but nothing must be left waiting.
    drop(fused);
    drop(agent);
}

/// The bench's own noise on the out-of-reach ratio: the ratio of the first half of the rounds
/// against that of the second half, |a − b| / mean (rounds in the order they ran).
fn half_spread(results: &mut Results, name: &str, gone: &[Duration], floor: &[Duration]) {
    let n = gone.len().min(floor.len());
    if n < 10 {
        return;
    }
    let p50 = |d: &[Duration]| {
        let mut ms: Vec<f64> = d.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        pct(&ms, 0.5)
    };
    let a = p50(&gone[..n / 2]) / p50(&floor[..n / 2]);
    let b = p50(&gone[n / 2..n]) / p50(&floor[n / 2..n]);
    results.add(
        "out of reach p50 / floor p50, first half against second (noise)",
        name,
        (a - b).abs() / ((a + b) / 2.0),
        "×",
        None,
    );
}

// ---- check ----------------------------------------------------------------------------------

fn check(opts: &Opts, shape: Shape, results: &mut Results) {
    let name = shape.name();
    let m = machine(shape, 0);
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let out = m
            .cmd(&opts.bin)
            .arg("check")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        times.push(t.elapsed().as_secs_f64());
        assert_eq!(
            out.code(),
            Some(0),
            "check found violations on a compliant machine"
        );
    }
    times.sort_by(f64::total_cmp);
    let target = (shape.homes >= 10_000).then_some(0.5);
    results.add("check (median of 3)", &name, times[1], "s", target);
}

// ---- storm ----------------------------------------------------------------------------------

/// 10,000 rewrites in about a second over 1,000 homes, then one that overflows the kernel queue.
fn storm(opts: &Opts, results: &mut Results) {
    let shape = Shape {
        homes: 1000,
        each: true,
    };
    let name = "1000 homes, owner each".to_string();
    let m = machine(shape, 0);
    let (agent, _) = m.start(&opts.bin);
    agent.until_quiet();
    let good = good_auth();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    // ~30 % of writes violate; the last write of each home decides its final state.
    let mut last_bad = vec![false; m.homes.len()];
    let writes = 10_000;
    let t0 = Instant::now();
    for k in 0..writes {
        let due = t0 + Duration::from_micros(100 * k as u64);
        while Instant::now() < due {
            std::hint::spin_loop();
        }
        let r = next();
        let i = (r % m.homes.len() as u64) as usize;
        let bad = (r >> 32) % 10 < 3;
        write_auth(&m.homes[i], if bad { BAD_AUTH } else { &good });
        last_bad[i] = bad;
    }
    let written = t0.elapsed();
    results.add(
        "storm: 10,000 rewrites took",
        &name,
        written.as_secs_f64(),
        "s",
        None,
    );
    let (settled, wrong) = settle(&m, &last_bad, &good);
    match settled {
        Some(t) => results.add(
            "storm: end of writes → all settled",
            &name,
            t.as_secs_f64(),
            "s",
            None,
        ),
        None => results.add_note(
            "storm: end of writes → all settled",
            &name,
            "not settled within 60 s".into(),
        ),
    }
    results.add(
        "storm: homes in the wrong final state",
        &name,
        wrong as f64,
        "homes",
        Some(0.0),
    );

    // Overflow: stop the agent, write far more events than the kernel queues (16,384 by default),
    // let it run again: it must see the overflow and rescan.
    let mut tail = Tail::new(m.root.join("audit.jsonl"));
    agent.signal("-STOP");
    let queue: usize = std::fs::read_to_string("/proc/sys/fs/inotify/max_queued_events")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(16_384);
    for k in 0..queue * 2 / 3 + 1000 {
        let r = next();
        let i = (r % m.homes.len() as u64) as usize;
        let bad = (r >> 32) % 10 < 3;
        let _ = k;
        write_auth(&m.homes[i], if bad { BAD_AUTH } else { &good });
        last_bad[i] = bad;
    }
    agent.signal("-CONT");
    let (settled, wrong) = settle(&m, &last_bad, &good);
    let rescanned = tail.count("queue overflow") > 0;
    match settled {
        Some(t) => results.add(
            "overflow storm: resume → all settled",
            &name,
            t.as_secs_f64(),
            "s",
            None,
        ),
        None => results.add_note(
            "overflow storm: resume → all settled",
            &name,
            "not settled within 60 s".into(),
        ),
    }
    results.add(
        "overflow storm: homes in the wrong state",
        &name,
        wrong as f64,
        "homes",
        Some(0.0),
    );
    results.add_note(
        "overflow storm: recovered by rescan",
        &name,
        format!("watch_degraded (queue overflow) recorded: {rescanned}"),
    );
}

/// Wait until every home that ended violating has no auth.json and every other one still has
/// its compliant one; then check it stays so. Returns the time it took and how many are wrong.
fn settle(m: &Machine, last_bad: &[bool], good: &[u8]) -> (Option<Duration>, usize) {
    let t = Instant::now();
    let wrong = || {
        m.homes
            .iter()
            .zip(last_bad)
            .filter(|(home, bad)| {
                let now = std::fs::read(home.join("auth.json")).ok();
                if **bad {
                    now.is_some()
                } else {
                    now.as_deref() != Some(good)
                }
            })
            .count()
    };
    let settled = wait(Duration::from_secs(60), Duration::from_millis(5), || {
        wrong() == 0
    });
    let took = settled.then(|| t.elapsed());
    std::thread::sleep(Duration::from_secs(1));
    (took, wrong())
}

// ---- sessions -------------------------------------------------------------------------------

/// Sessions: a violating Codex session (a Codex-shaped executable with `CODEX_API_KEY` in its
/// environment) started while 100 or 5,000 other processes run; from the spawn until it is
/// killed by the agent's SIGTERM, beside the same spawn's exec notification to a bare process-
/// connector listener in this process (the floor: what any listener learns, and when). Then the
/// process-table scan and a home appearing, at 5,000 processes.
fn sessions(opts: &Opts, results: &mut Results) {
    recognition(results);
    use codex_warden::platform::proc_events::{self, ExecEvent};
    let Ok(fd) = proc_events::open() else {
        results.add_note(
            "sessions",
            "",
            "the process connector needs root (CAP_NET_ADMIN): not measured".into(),
        );
        return;
    };
    let (tx, rx) = std::sync::mpsc::channel::<(u32, Instant)>();
    std::thread::spawn(move || {
        // Real-time like the thread that waits for the session's end (below): each side's clock
        // stops the moment its thread is woken.
        let _rt = RealTime::enter();
        proc_events::listen(fd, |e| {
            if let ExecEvent::Exec(pid) = e {
                let _ = tx.send((pid, Instant::now()));
            }
        })
    });
    let shape = Shape {
        homes: 1,
        each: true,
    };
    let m = machine(shape, 0);
    // Recognised as Codex by its name (`codex-<target triple>`, as Codex's release binaries are).
    let bin_dir = m.root.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let codex = bin_dir.join("codex-x86_64-unknown-linux-musl");
    std::fs::copy("/bin/sleep", &codex).unwrap();
    let (agent, _) = m.start(&opts.bin);
    agent.until_quiet();
    let mut others: Vec<Child> = Vec::new();
    for n in [100usize, 5000] {
        while others.len() < n {
            others.push(
                Command::new("sleep")
                    .arg("3600")
                    .stdin(Stdio::null())
                    .spawn()
                    .expect("spawning sleep"),
            );
        }
        std::thread::sleep(Duration::from_secs(2));
        while rx.try_recv().is_ok() {}
        let name = format!("1 home + {n} other processes");
        let mut stopped = Vec::new();
        let mut notified = Vec::new();
        for round in 0..opts.rounds.min(50) {
            use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
            let t0 = Instant::now();
            let mut child = Command::new(&codex)
                .arg("3600")
                .env_clear()
                .env("CODEX_HOME", &m.homes[0])
                .env(
                    "CODEX_API_KEY",
                    format!("sk-proj-bench-session-{round:04}-abcdefgh"),
                )
                .uid(m.uids[0])
                .gid(m.uids[0])
                .stdin(Stdio::null())
                .spawn()
                .unwrap();
            let pid = child.id();
            // Asleep on the child's pidfd, real-time while it waits (as in `Gone`): until issue
            // 24's last round this polled `try_wait` every 50 µs, a near-spinner on one of two
            // CPUs, while the floor's clock was read by a thread woken by the kernel.
            wait_for_exit(pid, &mut child);
            let died = t0.elapsed();
            let status = match child.try_wait().unwrap() {
                Some(s) => s,
                None => {
                    let _ = child.kill();
                    child.wait().unwrap()
                }
            };
            let seen = loop {
                match rx.recv_timeout(Duration::from_secs(5)) {
                    Ok((p, at)) if p == pid => break Some(at.duration_since(t0)),
                    Ok(_) => {}
                    Err(_) => break None,
                }
            };
            if status.signal() == Some(15) {
                stopped.push(died);
            }
            if let Some(seen) = seen {
                notified.push(seen);
            }
            std::thread::sleep(Duration::from_millis(50));
            while rx.try_recv().is_ok() {}
        }
        let n_stopped = stopped.len();
        let agent_p = results.distribution("session exec → SIGTERM", &name, &mut stopped);
        let floor_p = results.distribution(
            "floor: bare listener exec → notification",
            &name,
            &mut notified,
        );
        if n_stopped == 0 {
            results.add_note(
                "session exec → SIGTERM",
                &name,
                "no session was stopped".into(),
            );
        }
        if let (Some(a), Some(f)) = (agent_p, floor_p) {
            results.add(
                "session exec → SIGTERM p50 / floor p50",
                &name,
                a.0 / f.0,
                "×",
                Some(3.0),
            );
        }
    }
    drop(agent);

    let name = format!("{} extra processes", others.len());
    use codex_warden::platform::processes::{Processes, SystemProcesses};
    let procs = SystemProcesses::default();
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let _ = procs.codex_homes();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    results.add("process scan (median of 5)", &name, times[2], "ms", None);
    for c in &mut others {
        let _ = c.kill();
    }
    for c in &mut others {
        let _ = c.wait();
    }
}

/// What telling a Codex build by its content costs (platform/codex_binary.rs): per exec, the
/// connector's check before (a `readlink` of /proc/PID/exe and a look at the name) and after (that,
/// and a `statx` answered from the cache of files already read), on a running `sleep`; and the
/// one-time read of a file never seen (the pinned 0.169 binary, and `sleep`).
fn recognition(results: &mut Results) {
    use codex_warden::platform::{codex_binary, proc_events};
    let mut child = Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("spawning sleep");
    let pid = child.id();
    let exe = PathBuf::from(format!("/proc/{pid}/exe"));
    let rounds = 100_000u32;
    let per_call_ns = |f: &dyn Fn() -> bool| {
        let t = Instant::now();
        let mut hits = 0u32;
        for _ in 0..rounds {
            hits += u32::from(f());
        }
        assert_eq!(hits, 0, "sleep was taken for Codex");
        t.elapsed().as_nanos() as f64 / f64::from(rounds)
    };
    let before = per_call_ns(&|| {
        std::fs::read_link(&exe).is_ok_and(|e| {
            let name = e.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name == "codex" || name.starts_with("codex-") || name.starts_with("node")
        })
    });
    let after = per_call_ns(&|| proc_events::maybe_codex(pid));
    results.add(
        "exec check, name only (before)",
        "per exec",
        before,
        "ns",
        None,
    );
    results.add(
        "exec check, name + content (after)",
        "per exec",
        after,
        "ns",
        None,
    );
    let codex = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "target/codex-cli/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex",
    );
    let sleep = std::fs::read_link(&exe).expect("sleep's executable");
    for (what, path) in [("codex 0.169.0", codex), ("sleep", sleep)] {
        let t = Instant::now();
        let build = codex_binary::of_path(&path);
        let ms = t.elapsed().as_secs_f64() * 1e3;
        results.add(
            &format!("first read of a new executable ({what}: {build:?})"),
            "once per file",
            ms,
            "ms",
            None,
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}

// ---- plot -----------------------------------------------------------------------------------

/// Cumulative distribution of each moment per shape, log-scale latency.
fn plot(path: &Path, series: &BTreeMap<(String, String), Vec<f64>>) {
    use plotters::prelude::*;
    let moments: Vec<&String> = {
        let mut m: Vec<&String> = series.keys().map(|(_, m)| m).collect();
        m.sort();
        m.dedup();
        m
    };
    if moments.is_empty() {
        return;
    }
    let root = SVGBackend::new(path, (900, 420 * moments.len() as u32)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    let areas = root.split_evenly((moments.len(), 1));
    let colors = [&RED, &BLUE, &GREEN, &MAGENTA, &BLACK, &CYAN];
    for (area, moment) in areas.iter().zip(&moments) {
        let max = series
            .iter()
            .filter(|((_, m), _)| m == *moment)
            .filter_map(|(_, v)| v.last().copied())
            .fold(1.0f64, f64::max);
        let min = series
            .iter()
            .filter(|((_, m), _)| m == *moment)
            .filter_map(|(_, v)| v.first().copied())
            .fold(max, f64::min)
            .max(0.01);
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{moment} (cumulative)"), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(44)
            .build_cartesian_2d((min * 0.8..max * 1.25).log_scale(), 0.0..100.0)
            .unwrap();
        chart
            .configure_mesh()
            .x_desc("ms (log)")
            .y_desc("% of violations")
            .draw()
            .unwrap();
        for (k, ((shape, _), v)) in series.iter().filter(|((_, m), _)| m == *moment).enumerate() {
            let color = colors[k % colors.len()];
            let n = v.len() as f64;
            chart
                .draw_series(LineSeries::new(
                    v.iter()
                        .enumerate()
                        .map(|(i, x)| (*x, (i + 1) as f64 * 100.0 / n)),
                    color,
                ))
                .unwrap()
                .label(shape.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .unwrap();
    }
    root.present().unwrap();
}
