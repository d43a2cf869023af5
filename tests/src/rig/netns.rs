//! One network namespace of the rig: made with `ip netns add`, configured
//! with `ip`, `tc` and `nft`, entered by threads (a tokio runtime whose every
//! thread lives in it, or one thread for a blocking job) and deleted on drop.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Every namespace the rig makes is named `huddle-rig-PID-…`, so one left
/// behind by a killed test run can be found and removed by the next.
const PREFIX: &str = "huddle-rig-";

pub struct Netns {
    name: String,
    handle: Arc<File>,
}

impl Netns {
    /// Makes the namespace `huddle-rig-PID-N-{label}` (N counts the
    /// process's namespaces: tests run side by side) with its loopback up.
    /// Panics with one clear line where namespaces cannot be made.
    pub fn new(label: &str) -> Netns {
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let n = MADE.fetch_add(1, Ordering::Relaxed);
        let name = format!("{PREFIX}{}-{n}-{label}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        if let Err(why) = run("ip", &["netns", "add", &name], None) {
            panic!(
                "the network rig cannot make namespaces (it needs root, as in CI, \
                 and iproute2): {why}"
            );
        }
        let path = format!("/run/netns/{name}");
        let handle = File::open(&path).unwrap_or_else(|e| panic!("opening {path}: {e}"));
        let ns = Netns {
            name,
            handle: Arc::new(handle),
        };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip -n NAME ARGS`; panics with ip's own words when it refuses.
    pub fn ip(&self, args: &[&str]) {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        run("ip", &all, None).unwrap_or_else(|why| panic!("{why}"));
    }

    /// `tc -n NAME ARGS`.
    pub fn tc(&self, args: &[&str]) {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        run("tc", &all, None).unwrap_or_else(|why| panic!("{why}"));
    }

    /// Bytes `device` has sent (its kernel counter, after any shaping).
    pub fn tx_bytes(&self, device: &str) -> u64 {
        let output = Command::new("ip")
            .args(["-n", &self.name, "-s", "-j", "link", "show", "dev", device])
            .output()
            .unwrap_or_else(|e| panic!("ip -s link show {device}: {e}"));
        let links: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("ip -j link show {device}: {e}"));
        links[0]["stats64"]["tx"]["bytes"]
            .as_u64()
            .unwrap_or_else(|| panic!("no byte counter for {device}: {links}"))
    }

    /// Loads an nftables ruleset (`nft -f -`) inside the namespace.
    pub fn nft(&self, ruleset: &str) {
        run(
            "ip",
            &["netns", "exec", &self.name, "nft", "-f", "-"],
            Some(ruleset),
        )
        .unwrap_or_else(|why| panic!("{why}\n{ruleset}"));
    }

    /// Sets a sysctl inside the namespace, for example
    /// `net.ipv4.ip_forward=1`.
    pub fn sysctl(&self, setting: &str) {
        run(
            "ip",
            &["netns", "exec", &self.name, "sysctl", "-qw", setting],
            None,
        )
        .unwrap_or_else(|why| panic!("{why}"));
    }

    /// A command that runs inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }

    /// Moves the calling thread into the namespace: sockets it opens from
    /// now on, and threads it starts, are in it.
    pub fn enter(&self) {
        enter(&self.handle);
    }

    /// Runs `job` on a new thread inside the namespace and returns its result.
    pub fn on_thread<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> T {
        let handle = self.handle.clone();
        std::thread::spawn(move || {
            enter(&handle);
            job()
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    /// A tokio runtime whose every thread (workers and the blocking pool)
    /// lives in the namespace, so everything spawned on it (servers,
    /// clients, their sockets) does too.
    pub fn runtime(&self) -> NsRuntime {
        let handle = self.handle.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .on_thread_start(move || enter(&handle))
            .build()
            .expect("a tokio runtime");
        NsRuntime {
            runtime: Some(runtime),
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// A tokio runtime inside one namespace.
pub struct NsRuntime {
    runtime: Option<tokio::runtime::Runtime>,
}

impl NsRuntime {
    /// Runs `future` to its end on the namespace's threads. (`block_on`
    /// alone would poll it on the calling thread, outside the namespace.)
    pub fn run<T: Send + 'static>(&self, future: impl Future<Output = T> + Send + 'static) -> T {
        let runtime = self.runtime.as_ref().expect("the runtime runs");
        let task = runtime.spawn(future);
        runtime
            .block_on(task)
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// Starts `future` on the namespace's threads.
    pub fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> tokio::task::JoinHandle<T> {
        self.runtime
            .as_ref()
            .expect("the runtime runs")
            .spawn(future)
    }
}

impl Drop for NsRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(std::time::Duration::from_secs(2));
        }
    }
}

/// Removes namespaces that rig runs of processes no longer alive left
/// behind (a test killed by a signal runs no destructors).
pub fn remove_stale() {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or_default();
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = Command::new("ip").args(["netns", "del", &name]).output();
        }
    }
}

fn enter(handle: &File) {
    // SAFETY: setns on an open namespace file only changes which network
    // namespace the calling thread's new sockets belong to.
    let result = unsafe { libc::setns(handle.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(
        result,
        0,
        "entering a network namespace: {}",
        std::io::Error::last_os_error()
    );
}

/// Runs `program args`, with `input` on its stdin; Err is the command and
/// what it printed.
fn run(program: &str, args: &[&str], input: Option<&str>) -> Result<(), String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{program} {}: {e}", args.join(" ")))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin
        .write_all(input.unwrap_or_default().as_bytes())
        .map_err(|e| format!("{program}: {e}"))?;
    drop(stdin);
    let output = child
        .wait_with_output()
        .map_err(|e| format!("{program}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{program} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}
