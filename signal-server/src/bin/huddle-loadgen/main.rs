//! `huddle-loadgen`: a load test of the signal server. Prepares a database with
//! a user per client and a meeting per room, starts the real `huddle-signal`
//! binary (its per-address connection limit raised: every client is on
//! 127.0.0.1), opens N authenticated WebSocket clients in rooms, measures server
//! memory per idle connection, then has everyone chat at a fixed rate and
//! reports CPU per delivered message and fan-out latency percentiles. With
//! `--baseline`, the same load runs first against a bare axum broadcast
//! (`baseline.rs`), in the same run, for comparison.

mod baseline;
mod measure;

use anyhow::{Context, Result, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use measure::Outcome;
use shared::api::Visibility;
use shared::{ClientMsg, MeetingId, PROTOCOL_VERSION, ServerMsg};
use signal_server::store::{Db, meetings, now_millis, sessions, users};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

/// The hidden first argument that makes this binary the baseline server.
const SERVE_BASELINE: &str = "serve-baseline";

#[derive(Parser, Debug)]
#[command(
    about = "Load-test huddle-signal: N chat clients in rooms, CPU per delivered message, fan-out latency, memory per connection"
)]
struct Args {
    /// Number of WebSocket clients.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Participants per room.
    #[arg(long, default_value_t = 8)]
    room_size: usize,
    /// Seconds between two chat messages of one client.
    #[arg(long, default_value_t = 1.0)]
    chat_every: f64,
    /// Seconds of chatting to measure.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Run the same load against a bare axum WebSocket broadcast first.
    #[arg(long)]
    baseline: bool,
    /// Sample the server's RSS this often while chatting (a soak), seconds.
    #[arg(long)]
    rss_every: Option<u64>,
    /// The server binary [default: huddle-signal next to this program].
    #[arg(long)]
    server_binary: Option<PathBuf>,
}

/// What all clients record together.
#[derive(Default)]
struct Tally {
    sent: AtomicU64,
    /// Deliveries the sent messages call for (each goes to its whole room).
    expected: AtomicU64,
    delivered: AtomicU64,
    latencies_us: Mutex<Vec<u32>>,
}

#[tokio::main]
async fn main() -> Result<()> {
    if std::env::args().nth(1).as_deref() == Some(SERVE_BASELINE) {
        return baseline::serve().await;
    }
    let args = Args::parse();
    if args.clients == 0 || args.room_size == 0 {
        bail!("--clients and --room-size must be positive");
    }
    rlimit::increase_nofile_limit(u64::MAX).context("raising the file descriptor limit")?;
    let dir = tempfile_dir()?;
    let rooms = args.clients.div_ceil(args.room_size);
    let (tokens, meeting_ids) = prepare_database(&dir.join("load.db"), args.clients, rooms)?;
    let mut outcomes = Vec::new();
    if args.baseline {
        let server = start(Command::new(std::env::current_exe()?).arg(SERVE_BASELINE))?;
        outcomes
            .push(run_against("bare axum broadcast", server, &args, &tokens, &meeting_ids).await?);
    }
    let server = start(&mut server_command(&args, &dir)?)?;
    outcomes.push(run_against("huddle-signal", server, &args, &tokens, &meeting_ids).await?);
    let _ = std::fs::remove_dir_all(&dir);
    println!("{}", Outcome::header());
    for outcome in &outcomes {
        println!("{}", outcome.row());
        if !outcome.rss_samples_kib.is_empty() {
            let mib: Vec<String> = outcome
                .rss_samples_kib
                .iter()
                .map(|kib| format!("{:.1}", *kib as f64 / 1024.0))
                .collect();
            println!(
                "{} RSS while chatting, MiB: {}",
                outcome.server,
                mib.join(" ")
            );
        }
    }
    Ok(())
}

/// What the clients of one run share.
struct Load {
    epoch: Instant,
    tally: Arc<Tally>,
    /// Notified when everyone is in and chatting starts.
    chatting: Arc<tokio::sync::Notify>,
    stop: tokio_util::sync::CancellationToken,
}

/// Connects every client (at most 100 at a time, as a crowd arriving would)
/// and starts its chat task; returns once all are in their rooms.
async fn connect_clients(
    load: &Load,
    args: &Args,
    url: &str,
    tokens: &[String],
    meeting_ids: &[MeetingId],
) -> Result<()> {
    let gate = Arc::new(Semaphore::new(100));
    let mut ready = Vec::new();
    for n in 0..args.clients {
        let ws_url = format!("{}/ws", url.replacen("http://", "ws://", 1));
        let token = tokens[n].clone();
        let meeting = meeting_ids[n / args.room_size];
        let room_members = args
            .room_size
            .min(args.clients - n / args.room_size * args.room_size);
        let every = Duration::from_secs_f64(args.chat_every);
        let plan = ChatPlan {
            n,
            every,
            offset: every.mul_f64((n as f64 * 0.618_034) % 1.0),
            room_members: room_members as u64,
        };
        let (gate, epoch, tally) = (gate.clone(), load.epoch, load.tally.clone());
        let (chatting, stop) = (load.chatting.clone(), load.stop.clone());
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        ready.push(ready_rx);
        tokio::spawn(async move {
            let permit = gate.acquire_owned().await.expect("semaphore open");
            let client = match connect(&ws_url, &token, meeting).await {
                Ok(client) => client,
                Err(err) => {
                    let _ = ready_tx.send(Err(err));
                    return;
                }
            };
            drop(permit);
            let _ = ready_tx.send(Ok(()));
            chat_client(plan, client, epoch, tally, chatting, stop).await;
        });
    }
    for (n, ready) in ready.into_iter().enumerate() {
        ready
            .await
            .context("client task ended")?
            .with_context(|| format!("client {n} could not connect"))?;
    }
    Ok(())
}

/// A server process and the base URL it printed.
struct Running {
    child: Child,
    url: String,
}

async fn run_against(
    name: &'static str,
    mut server: Running,
    args: &Args,
    tokens: &[String],
    meeting_ids: &[MeetingId],
) -> Result<Outcome> {
    let pid = server.child.id();
    let outcome = run(name, args, pid, &server.url, tokens, meeting_ids).await;
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = server.child.wait();
    outcome
}

async fn run(
    name: &'static str,
    args: &Args,
    pid: u32,
    url: &str,
    tokens: &[String],
    meeting_ids: &[MeetingId],
) -> Result<Outcome> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = measure::rss_kib(pid)?;
    let load = Load {
        epoch: Instant::now(),
        tally: Arc::new(Tally::default()),
        chatting: Arc::new(tokio::sync::Notify::new()),
        stop: tokio_util::sync::CancellationToken::new(),
    };
    connect_clients(&load, args, url, tokens, meeting_ids)
        .await
        .with_context(|| format!("connecting to {name}"))?;
    let (tally, chatting, stop) = (&load.tally, &load.chatting, &load.stop);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = measure::rss_kib(pid)?;
    let cpu_before = measure::cpu_seconds(pid)?;
    let chat_started = Instant::now();
    chatting.notify_waiters();
    let mut rss_samples = Vec::new();
    let chat_for = Duration::from_secs(args.duration);
    match args.rss_every {
        Some(every) => {
            while chat_started.elapsed() < chat_for {
                tokio::time::sleep(Duration::from_secs(every.max(1)).min(chat_for)).await;
                rss_samples.push(measure::rss_kib(pid)?);
            }
        }
        None => tokio::time::sleep(chat_for).await,
    }
    stop.cancel();
    // Let the last messages arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seconds = chat_started.elapsed().as_secs_f64();
    let cpu_seconds = measure::cpu_seconds(pid)? - cpu_before;
    let mut latencies_us = std::mem::take(&mut *tally.latencies_us.lock().unwrap());
    latencies_us.sort_unstable();
    Ok(Outcome {
        server: name,
        clients: args.clients,
        rooms: meeting_ids.len(),
        sent: tally.sent.load(Ordering::Relaxed),
        delivered: tally.delivered.load(Ordering::Relaxed),
        expected: tally.expected.load(Ordering::Relaxed),
        seconds,
        cpu_seconds,
        latencies_us,
        rss_idle_kib: rss_idle,
        kib_per_connection: rss_idle.saturating_sub(rss_before) as f64 / args.clients as f64,
        rss_samples_kib: rss_samples,
    })
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(ws_url: &str, token: &str, meeting_id: MeetingId) -> Result<Socket> {
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url).await?;
    let hello = ClientMsg::Hello {
        version: PROTOCOL_VERSION,
        token: token.into(),
        resume: None,
    };
    socket.send(Message::text(hello.to_json())).await?;
    socket
        .send(Message::text(ClientMsg::Join { meeting_id }.to_json()))
        .await?;
    while let Some(frame) = socket.next().await {
        if let Message::Text(text) = frame? {
            match serde_json::from_str::<ServerMsg>(&text)? {
                ServerMsg::Joined { .. } => return Ok(socket),
                ServerMsg::Error { message, .. } => bail!("refused: {message}"),
                _ => {}
            }
        }
    }
    bail!("closed before joining")
}

/// When one client talks, and to how many.
struct ChatPlan {
    n: usize,
    every: Duration,
    offset: Duration,
    room_members: u64,
}

/// Sends "<client> <micros since epoch>" every `every`, and timestamps every chat it receives.
async fn chat_client(
    plan: ChatPlan,
    socket: Socket,
    epoch: Instant,
    tally: Arc<Tally>,
    chatting: Arc<tokio::sync::Notify>,
    stop: tokio_util::sync::CancellationToken,
) {
    let ChatPlan {
        n,
        every,
        offset,
        room_members,
    } = plan;
    let (mut sink, mut stream) = socket.split();
    let reader_tally = tally.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(frame)) = stream.next().await {
            let Message::Text(text) = frame else { continue };
            if let Ok(ServerMsg::ChatMessage(message)) = serde_json::from_str::<ServerMsg>(&text) {
                let sent_us: u64 = message
                    .text
                    .split(' ')
                    .nth(1)
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                let latency_us = (epoch.elapsed().as_micros() as u64).saturating_sub(sent_us);
                reader_tally.delivered.fetch_add(1, Ordering::Relaxed);
                reader_tally
                    .latencies_us
                    .lock()
                    .unwrap()
                    .push(latency_us as u32);
            }
        }
    });
    chatting.notified().await;
    tokio::time::sleep(offset).await;
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tick.tick() => {
                let text = format!("{n} {}", epoch.elapsed().as_micros());
                if sink.send(Message::text(ClientMsg::Chat { text }.to_json())).await.is_err() {
                    break;
                }
                tally.sent.fetch_add(1, Ordering::Relaxed);
                tally.expected.fetch_add(room_members, Ordering::Relaxed);
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(900)).await;
    let _ = sink.close().await;
    let _ = reader.await;
}

/// A user and a session token per client and a meeting per room, written
/// straight into a fresh database.
fn prepare_database(
    path: &std::path::Path,
    clients: usize,
    rooms: usize,
) -> Result<(Vec<String>, Vec<MeetingId>)> {
    let db = Db::open(path)?;
    let prepared = db.call_blocking(|conn| {
        let tx = conn.transaction()?;
        let org = users::create_organisation(&tx, "Load")?;
        let mut tokens = Vec::new();
        let mut host = None;
        for n in 0..clients {
            let email = format!("load{n}@example.org");
            let id = users::create(&tx, &email, &format!("Load {n}"), "not-a-login", Some(org))?;
            let token = sessions::new_token();
            sessions::create(&tx, id, &token.hash, now_millis() + 24 * 3600 * 1000)?;
            tokens.push(token.token);
            host.get_or_insert(id);
        }
        let host = users::get(&tx, host.expect("one client at least"))?.expect("user just created");
        let mut ids = Vec::new();
        for room in 0..rooms {
            let title = format!("Load room {room}");
            ids.push(meetings::create(
                &tx,
                &meetings::NewMeeting {
                    title: &title,
                    host: &host,
                    starts_at: time::OffsetDateTime::now_utc(),
                    duration_minutes: 60,
                    visibility: Visibility::AllUsers,
                    topology: shared::Topology::Mesh,
                    waiting_room: Default::default(),
                    invitees: &[],
                },
            )?);
        }
        tx.commit()?;
        Ok((tokens, ids))
    })?;
    db.checkpoint()?;
    Ok(prepared)
}

/// The real server on a free port, its per-address limit raised for the load.
fn server_command(args: &Args, dir: &std::path::Path) -> Result<Command> {
    let binary = match &args.server_binary {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("huddle-signal"),
    };
    // Every client connects from 127.0.0.1: the per-address limit would
    // otherwise stop them at 50. Everything else stays at its default.
    let config = dir.join("load.toml");
    let per_address = args.clients + 100;
    std::fs::write(
        &config,
        format!("[limits]\nconnections_per_address = {per_address}\n"),
    )?;
    let mut command = Command::new(&binary);
    command
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(dir.join("load.db"))
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "warn");
    Ok(command)
}

/// Starts a server and reads the URL it prints first.
fn start(command: &mut Command) -> Result<Running> {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the server (build it with cargo build --release -p signal-server)")?;
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .context("server printed no URL")?
        .to_string();
    // Keep reading, so the server's later lines have somewhere to go.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    Ok(Running { child, url })
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("huddle-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
