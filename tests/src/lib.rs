//! Helpers for the end-to-end tests: a real server on `127.0.0.1:0` with its
//! own SQLite file, logged-in clients, and raw WebSocket clients for bad input.

pub mod app_harness;
pub mod bots;
pub mod certs;
pub mod display;
pub mod janus;
pub mod noise;
/// A private PulseAudio server with null sinks (shared with the client's tests).
#[path = "../../client/bot/tests/common/pulse.rs"]
pub mod pulse;
pub mod rig;
pub mod sfu_probe;
pub mod turn;

use certs::TestCa;
use futures_util::{SinkExt, StreamExt};
use huddle_engine::signaling::SignalSession;
use huddle_engine::{ApiClient, SignalEvent, Trust};
use shared::api::{CreateMeeting, Visibility};
use shared::{ClientMsg, MeetingId, PROTOCOL_VERSION, ServerMsg};
use signal_server::{Config, RunningServer};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const STARTUP: &str = "test@startup.com";
pub const CORPORATE: &str = "test@corporate.com";
pub const PASSWORD: &str = "password123";
pub const ALL_USERS: &str = "All Users Weekly Sync";

/// The first ```lang block of the README, for examples tested as written
/// (a block inside a list item loses the item's indent).
pub fn readme_block(lang: &str) -> String {
    const README: &str = include_str!("../../README.md");
    let fence = format!("```{lang}\n");
    let at = README
        .find(&fence)
        .unwrap_or_else(|| panic!("the README has no {lang} block"));
    let indent = at - README[..at].rfind('\n').map_or(0, |n| n + 1);
    let start = at + fence.len();
    let end = start + README[start..].find("```").expect("the block ends");
    README[start..end]
        .lines()
        .map(|line| line.get(indent..).unwrap_or(line.trim_start()))
        .fold(String::new(), |text, line| text + line + "\n")
}

/// How long a test waits for something that should happen "at once".
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A real server with demo data on a free port, its database in a temp dir.
pub struct TestServer {
    server: Option<RunningServer>,
    config: Config,
    /// What clients trust: the system's roots, or the test CA of a TLS server.
    pub trust: Trust,
    /// The test CA's certificate file, for a TLS server.
    pub ca_file: Option<std::path::PathBuf>,
    _certs: Option<tempfile::TempDir>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// A server that serves HTTPS and WSS only, with a certificate for
    /// 127.0.0.1 (not for `localhost`) from a CA made for the test.
    pub async fn start_tls() -> TestServer {
        let certs = tempfile::tempdir().expect("temp dir");
        let ca = TestCa::new("Huddle test CA");
        let ca_file = ca.write(certs.path());
        let (cert, key) = ca
            .issue(&["127.0.0.1"], "huddle test server")
            .write(certs.path());
        let mut server = TestServer::start_with(|config| {
            config.tls = Some(signal_server::tls::TlsFiles { cert, key });
        })
        .await;
        server.trust = Trust::with_ca_file(&ca_file).expect("the test CA is usable");
        server.ca_file = Some(ca_file);
        server._certs = Some(certs);
        server
    }

    /// Starts with the test defaults (demo data, fast heartbeats) adjusted by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        // RUST_LOG=client=debug shows what the engine does when a test fails.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            db: dir.path().join("huddle.db"),
            demo: true,
            heartbeat_interval: Duration::from_millis(300),
            heartbeat_timeout: Duration::from_millis(1500),
            ..Config::default()
        };
        adjust(&mut config);
        let server = signal_server::start(config.clone())
            .await
            .expect("server starts");
        TestServer {
            server: Some(server),
            config,
            trust: Trust::system(),
            ca_file: None,
            _certs: None,
            _dir: dir,
        }
    }

    fn running(&self) -> &RunningServer {
        self.server.as_ref().expect("server is running")
    }

    pub fn url(&self) -> String {
        self.running().url()
    }

    /// The server's SQLite file (to change it behind the server's back).
    pub fn db_path(&self) -> &std::path::Path {
        &self.config.db
    }

    /// The address the server listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.running().addr()
    }

    /// `ws://…/ws`, or `wss://…/ws` for a TLS server.
    pub fn ws_url(&self) -> String {
        let url = self.url();
        let rest = url.strip_prefix("http").expect("an http(s) URL");
        format!("ws{rest}/ws")
    }

    pub fn app(&self) -> &signal_server::app::AppState {
        self.running().app()
    }

    /// Stops gracefully and starts again on the same database and port, as an
    /// upgrade would: clients can reconnect to the same URL.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start_again().await;
    }

    /// Stops gracefully; [`TestServer::start_again`] brings it back on the same port.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            self.config.listen = server.addr();
            server.shutdown().await;
        }
    }

    /// The server's runtime was dropped under it, as `kill -9` ends its
    /// process: its sockets closed with no goodbye, nothing saved on the
    /// way out. Forgets it, keeping its port and database for
    /// [`TestServer::start_again`].
    pub fn crashed(&mut self) {
        if let Some(server) = self.server.take() {
            self.config.listen = server.addr();
        }
    }

    pub async fn start_again(&mut self) {
        assert!(self.server.is_none(), "the server is running");
        self.server = Some(
            signal_server::start(self.config.clone())
                .await
                .expect("server restarts on its port"),
        );
    }

    /// An API client logged in as a demo user.
    pub async fn login(&self, email: &str) -> ApiClient {
        let mut api = ApiClient::with_trust(&self.url(), self.trust.clone()).unwrap();
        api.login(email, PASSWORD).await.expect("demo login works");
        api
    }

    /// A live session for a logged-in API client.
    pub async fn connect(&self, api: &ApiClient) -> SignalSession {
        SignalSession::connect(&self.ws_url(), api.token().expect("logged in"), api.trust())
            .await
            .expect("hello accepted")
    }

    pub async fn meeting_id(&self, api: &ApiClient, title: &str) -> MeetingId {
        api.find_meeting(title)
            .await
            .expect("meeting is visible")
            .id
    }

    /// Waits until at least `count` participants are in the room of the
    /// meeting titled `title`: a bot that must come after others waits for
    /// them to be there, not for a guessed number of milliseconds.
    pub async fn wait_for_participants(&self, title: &str, count: usize) {
        let what = format!("{count} in {title:?}");
        self.wait_for_room(title, &what, |room| room.len() >= count)
            .await;
    }

    /// Waits until the room of the meeting titled `title`, as the server
    /// sees it, is as `wanted` says.
    pub async fn wait_for_room(
        &self,
        title: &str,
        what: &str,
        wanted: impl Fn(&[shared::Participant]) -> bool,
    ) {
        let meeting = self.meeting_id(&self.login(STARTUP).await, title).await;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let room = self.app().hub.participants_of(meeting);
            if wanted(&room) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the room never had {what}: {room:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Creates a meeting everyone may join.
    pub async fn open_meeting(&self, api: &ApiClient, title: &str) -> MeetingId {
        let request = CreateMeeting {
            title: title.into(),
            starts_at: None,
            duration_minutes: 30,
            visibility: Visibility::AllUsers,
            invitees: vec![],
            topology: Default::default(),
            waiting_room: Default::default(),
        };
        api.create_meeting(&request)
            .await
            .expect("meeting created")
            .id
    }
}

/// Waits for the first message that `matches` accepts, skipping others.
pub async fn wait_for(
    session: &mut SignalSession,
    what: &str,
    matches: impl Fn(&ServerMsg) -> bool,
) -> ServerMsg {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(deadline, session.recv()).await {
            Err(_) => panic!("timed out waiting for {what}"),
            Ok(Some(SignalEvent::Message(msg))) if matches(&msg) => return msg,
            Ok(Some(SignalEvent::Message(_))) => continue,
            Ok(Some(SignalEvent::Closed { reason })) => {
                panic!("closed ({reason:?}) while waiting for {what}")
            }
            Ok(None) => panic!("session ended while waiting for {what}"),
        }
    }
}

/// Waits for the first call event `wanted` accepts, skipping others.
pub async fn next_event(
    call: &mut huddle_engine::call::Call,
    what: &str,
    wanted: impl Fn(&huddle_engine::call::CallEvent) -> bool,
) -> huddle_engine::call::CallEvent {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(deadline, call.next_event()).await {
            Ok(Some(event)) if wanted(&event) => return event,
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the call ended while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

/// Everything that arrives within `window`.
pub async fn drain(session: &mut SignalSession, window: Duration) -> Vec<SignalEvent> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, session.recv()).await {
        seen.push(event);
    }
    seen
}

/// A bare WebSocket client that can send anything, for bad-input tests.
pub struct RawClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Set once `hello` was accepted.
    pub peer_id: Option<shared::PeerId>,
    /// The welcome's resume token.
    pub resume_token: Option<String>,
}

impl RawClient {
    pub async fn connect(server: &TestServer) -> RawClient {
        let (socket, _) = tokio_tungstenite::connect_async(server.ws_url())
            .await
            .expect("ws connects");
        RawClient {
            socket,
            peer_id: None,
            resume_token: None,
        }
    }

    /// A client on a socket connected elsewhere.
    pub fn from_socket(socket: WebSocketStream<MaybeTlsStream<TcpStream>>) -> RawClient {
        RawClient {
            socket,
            peer_id: None,
            resume_token: None,
        }
    }

    /// Connects and completes `hello` with the given token.
    pub async fn hello(server: &TestServer, token: &str) -> RawClient {
        RawClient::hello_resuming(server, token, None).await
    }

    /// [`RawClient::hello`], asking with `resume` for an earlier peer id.
    pub async fn hello_resuming(
        server: &TestServer,
        token: &str,
        resume: Option<&str>,
    ) -> RawClient {
        let mut client = RawClient::connect(server).await;
        client
            .send(&ClientMsg::Hello {
                version: PROTOCOL_VERSION,
                token: token.into(),
                resume: resume.map(str::to_string),
            })
            .await;
        match client.recv().await {
            ServerMsg::Welcome {
                peer_id,
                resume_token,
                ..
            } => (client.peer_id, client.resume_token) = (Some(peer_id), resume_token),
            other => panic!("expected welcome, got {other:?}"),
        }
        client
    }

    pub async fn send(&mut self, msg: &ClientMsg) {
        self.send_text(&msg.to_json()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket.send(Message::text(text)).await.expect("send");
    }

    pub async fn send_frame(&mut self, frame: Message) {
        self.socket.send(frame).await.expect("send");
    }

    /// The next protocol message (pings are answered and skipped). The
    /// patience is for the whole wait: a server that only pings fails the
    /// test instead of keeping it waiting for good.
    pub async fn recv(&mut self) -> ServerMsg {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("no message within {PATIENCE:?}"));
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("bad server JSON {text}: {e}"));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a message, got {other:?}"),
            }
        }
    }

    /// Waits for the server to close; returns the close code it sent (if any).
    pub async fn closed(&mut self) -> Option<CloseCode> {
        self.messages_until_closed().await.1
    }

    /// Every message up to the close, and the close code. The server must
    /// close within the patience, however many messages and pings it sends
    /// meanwhile.
    pub async fn messages_until_closed(&mut self) -> (Vec<ServerMsg>, Option<CloseCode>) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let mut messages = Vec::new();
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .unwrap_or_else(|_| {
                    panic!("the server did not close within {PATIENCE:?}; it sent {messages:?}")
                });
            match frame {
                Some(Ok(Message::Close(frame))) => return (messages, frame.map(|f| f.code)),
                Some(Ok(Message::Text(text))) => {
                    messages.push(serde_json::from_str(&text).expect("a server message"))
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return (messages, None),
            }
        }
    }

    /// Whether the connection is still open: a ping gets a pong.
    pub async fn is_open(&mut self) -> bool {
        if self
            .socket
            .send(Message::Ping(b"alive?".to_vec().into()))
            .await
            .is_err()
        {
            return false;
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Ok(Some(Ok(Message::Pong(_)))) => return true,
                Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) | Err(_) => {
                    return false;
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Stops reading without closing: the server sees a silent, vanished client.
    pub fn into_silent(self) -> WebSocketStream<MaybeTlsStream<TcpStream>> {
        self.socket
    }
}
