//! A private Janus (Debian's `janus`, 1.1.2) on loopback: what an operator
//! runs beside `huddle-signal` for large meetings. The test writes its
//! config: the WebSocket API on 127.0.0.1 only, an `api_secret`, a small RTP
//! port range, and only the VideoRoom plugin loaded. Janus never gathers
//! loopback candidates (it skips loopback interfaces): clients meet it on
//! the machine's own address, as Chromium meets our clients.

use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian puts Janus's plugins and transports.
const LIBRARIES: &str = "/usr/lib/x86_64-linux-gnu/janus";

/// Everything Debian ships but the VideoRoom: fewer threads, less to attack.
const UNUSED_PLUGINS: &str = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,\
libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,\
libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so";

/// Every transport but WebSockets (HTTP would be one more open port).
const UNUSED_TRANSPORTS: &str =
    "libjanus_http.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so";

pub struct JanusServer {
    child: Option<Child>,
    port: u16,
    secret: String,
    dir: tempfile::TempDir,
}

impl JanusServer {
    /// Starts Janus with `secret` as its `api_secret`; returns once its
    /// WebSocket API takes connections.
    pub fn start(secret: &str) -> JanusServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = crate::turn::free_port();
        let rtp = free_port_range(40);
        write_config(dir.path(), port, secret, rtp);
        let mut janus = JanusServer {
            child: None,
            port,
            secret: secret.to_string(),
            dir,
        };
        janus.launch();
        janus
    }

    fn launch(&mut self) {
        let folder = self.dir.path().display().to_string();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_file())
            .expect("the log file opens");
        let child = Command::new("janus")
            .args(["-F", &folder, "-C", &format!("{folder}/janus.jcfg")])
            .stdout(log.try_clone().expect("the log file is shared"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("janus runs (the test command installs the janus package)");
        self.child = Some(child);
        wait_listening(self.port, || self.log());
    }

    /// `ws://127.0.0.1:PORT`, for the signal server's `[sfu] janus_url`.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// A signal server with demo data that uses this Janus for meetings
    /// past `mesh_max` participants.
    pub async fn signal_server(&self, mesh_max: usize) -> crate::TestServer {
        self.signal_server_with(mesh_max, |_| {}).await
    }

    /// [`JanusServer::signal_server`], its config adjusted by `adjust`.
    pub async fn signal_server_with(
        &self,
        mesh_max: usize,
        adjust: impl FnOnce(&mut signal_server::Config),
    ) -> crate::TestServer {
        crate::TestServer::start_with(|config| {
            config.sfu = Some(signal_server::sfu::SfuConfig {
                janus_url: self.url(),
                api_secret: self.secret.clone(),
                mesh_max,
            });
            adjust(config);
        })
        .await
    }

    /// The `api_secret` every request must carry.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Janus's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills Janus at once, as a crash would (SIGKILL: no goodbye to anyone).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts Janus again on the same port with the same config.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// What Janus printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("janus.log")
    }
}

impl Drop for JanusServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// janus.jcfg, the WebSocket transport's and the VideoRoom's configs.
fn write_config(dir: &Path, port: u16, secret: &str, rtp: (u16, u16)) {
    let folder = dir.display();
    let (first, last) = rtp;
    let core = format!(
        r#"general: {{
    configs_folder = "{folder}"
    plugins_folder = "{LIBRARIES}/plugins"
    transports_folder = "{LIBRARIES}/transports"
    events_folder = "{LIBRARIES}/events"
    loggers_folder = "{LIBRARIES}/loggers"
    debug_level = 4
    api_secret = "{secret}"
    session_timeout = 60
}}
media: {{
    rtp_port_range = "{first}-{last}"
}}
plugins: {{
    disable = "{UNUSED_PLUGINS}"
}}
transports: {{
    disable = "{UNUSED_TRANSPORTS}"
}}
events: {{
    broadcast = false
}}
loggers: {{
    disable = "libjanus_jsonlog.so"
}}
"#
    );
    let websockets = format!(
        "general: {{\n    json = \"plain\"\n    ws = true\n    ws_port = {port}\n    \
         ws_ip = \"127.0.0.1\"\n    wss = false\n}}\nadmin: {{\n    admin_ws = false\n}}\n"
    );
    // No rooms in the file: huddle-signal creates one per meeting.
    let videoroom = "general: {\n}\n";
    for (name, text) in [
        ("janus.jcfg", core.as_str()),
        ("janus.transport.websockets.jcfg", websockets.as_str()),
        ("janus.plugin.videoroom.jcfg", videoroom),
    ] {
        std::fs::write(dir.join(name), text).expect("the config is written");
    }
}

/// A run of `len` UDP ports nobody holds now, for Janus's media.
fn free_port_range(len: u16) -> (u16, u16) {
    for _ in 0..50 {
        let first = 20_000 + rand::random::<u16>() % 20_000;
        let last = first + len - 1;
        let all_free = (first..=last)
            .all(|port| std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok());
        if all_free {
            return (first, last);
        }
    }
    panic!("no free run of {len} UDP ports");
}

fn wait_listening(port: u16, log: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "janus did not listen on {port}; its log:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
