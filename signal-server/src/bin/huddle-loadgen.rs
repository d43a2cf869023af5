//! `huddle-loadgen`: a load test of the signal server. Prepares a database with
//! a user per client and a meeting per room, starts the real `huddle-signal`
//! binary (its per-address connection limit raised: every client is on 127.0.0.1),
//! opens N authenticated WebSocket clients in rooms, measures server memory per
//! idle connection, then has everyone chat at a fixed rate and reports
//! delivered messages/s and fan-out latency percentiles.

use anyhow::{Context, Result, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
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

#[derive(Parser, Debug)]
#[command(
    about = "Load-test huddle-signal: N chat clients in rooms, fan-out latency and memory per connection"
)]
struct Args {
    /// Number of WebSocket clients.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Participants per room.
    #[arg(long, default_value_t = 8)]
    room_size: usize,
    /// Seconds between two chat messages of one client.
    #[arg(long, default_value_t = 5.0)]
    chat_every: f64,
    /// Seconds of chatting to measure.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// The server binary [default: huddle-signal next to this program].
    #[arg(long)]
    server_binary: Option<PathBuf>,
}

/// What all clients record together.
#[derive(Default)]
struct Tally {
    sent: AtomicU64,
    delivered: AtomicU64,
    latencies_us: Mutex<Vec<u32>>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.clients == 0 || args.room_size == 0 {
        bail!("--clients and --room-size must be positive");
    }
    rlimit::increase_nofile_limit(u64::MAX).context("raising the file descriptor limit")?;
    let dir = tempfile_dir()?;
    let rooms = args.clients.div_ceil(args.room_size);
    let (tokens, meeting_ids) = prepare_database(&dir.join("load.db"), args.clients, rooms)?;
    let (mut server, url) = start_server(&args, &dir)?;
    let pid = server.id();
    let result = run(&args, pid, &url, &tokens, &meeting_ids).await;
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(
    args: &Args,
    pid: u32,
    url: &str,
    tokens: &[String],
    meeting_ids: &[MeetingId],
) -> Result<()> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = rss_kib(pid)?;
    let epoch = Instant::now();
    let tally = Arc::new(Tally::default());
    let chatting = Arc::new(tokio::sync::Notify::new());
    let stop = tokio_util::sync::CancellationToken::new();
    // Connect at most 100 at a time, as a crowd arriving would.
    let gate = Arc::new(Semaphore::new(100));
    let mut ready = Vec::new();
    let connect_started = Instant::now();
    for n in 0..args.clients {
        let (ws_url, token) = (
            format!("{}/ws", url.replacen("http://", "ws://", 1)),
            tokens[n].clone(),
        );
        let meeting = meeting_ids[n / args.room_size];
        let (gate, tally, chatting, stop) =
            (gate.clone(), tally.clone(), chatting.clone(), stop.clone());
        let every = Duration::from_secs_f64(args.chat_every);
        let offset = every.mul_f64((n as f64 * 0.618_034) % 1.0);
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
            chat_client(n, client, every, offset, epoch, tally, chatting, stop).await;
        });
    }
    for (n, ready) in ready.into_iter().enumerate() {
        ready
            .await
            .context("client task ended")?
            .with_context(|| format!("client {n} could not connect"))?;
    }
    let connect_time = connect_started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = rss_kib(pid)?;
    let cpu_before = cpu_ticks(pid)?;
    let chat_started = Instant::now();
    chatting.notify_waiters();
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    stop.cancel();
    // Let the last messages arrive.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let measured = chat_started.elapsed().as_secs_f64();
    let cpu = (cpu_ticks(pid)? - cpu_before) as f64 / ticks_per_second() / measured;

    let sent = tally.sent.load(Ordering::Relaxed);
    let delivered = tally.delivered.load(Ordering::Relaxed);
    let mut latencies = std::mem::take(&mut *tally.latencies_us.lock().unwrap());
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        latencies[((latencies.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
    };
    let per_connection = (rss_idle.saturating_sub(rss_before)) as f64 / args.clients as f64;
    println!(
        "| clients | rooms | connect s | chat msgs sent | delivered/s | fan-out p50 ms | p95 ms | p99 ms | server CPU | server RSS idle MiB | KiB per idle connection |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {:.1} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.0} % | {:.1} | {:.1} |",
        args.clients,
        meeting_ids.len(),
        connect_time.as_secs_f64(),
        sent,
        delivered as f64 / measured,
        percentile(0.50),
        percentile(0.95),
        percentile(0.99),
        cpu * 100.0,
        rss_idle as f64 / 1024.0,
        per_connection,
    );
    let expected = sent as f64 * args.room_size as f64;
    eprintln!(
        "delivered {delivered} of about {expected:.0} expected ({} latency samples)",
        latencies.len()
    );
    Ok(())
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(ws_url: &str, token: &str, meeting_id: MeetingId) -> Result<Socket> {
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url).await?;
    let hello = ClientMsg::Hello {
        version: PROTOCOL_VERSION,
        token: token.into(),
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

/// Sends "<client> <micros since epoch>" every `every`, and timestamps every chat it receives.
#[allow(clippy::too_many_arguments)]
async fn chat_client(
    n: usize,
    socket: Socket,
    every: Duration,
    offset: Duration,
    epoch: Instant,
    tally: Arc<Tally>,
    chatting: Arc<tokio::sync::Notify>,
    stop: tokio_util::sync::CancellationToken,
) {
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

fn start_server(args: &Args, dir: &std::path::Path) -> Result<(Child, String)> {
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
    let mut child = Command::new(&binary)
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(dir.join("load.db"))
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!(
                "starting {} (build it with cargo build --release -p signal-server)",
                binary.display()
            )
        })?;
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .context("server printed no URL")?;
    // Keep reading, so the server's later lines have somewhere to go.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    Ok((child, url.to_string()))
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("huddle-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Resident memory of a process, from /proc (Linux).
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmRSS value")?
        .parse()?)
}

/// User + system CPU time of a process in clock ticks, from /proc (Linux).
fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after_name = &stat[stat.rfind(')').context("stat format")? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}

/// USER_HZ, the unit of /proc/PID/stat times: 100 on every Linux this runs on.
fn ticks_per_second() -> f64 {
    100.0
}
