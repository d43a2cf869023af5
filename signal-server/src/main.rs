//! `huddle-signal`: the self-hosted signaling server, one binary.

use anyhow::Context;
use clap::Parser;
use signal_server::config::{Args, Command, Config};
use signal_server::demo;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let mut args = Args::parse();
    let command = args.command.take();
    let config = Config::from_args(args)?;
    if let Some(Command::Backup { file }) = command {
        signal_server::store::backup(&config.db, &file)
            .with_context(|| format!("the backup of {} failed", config.db.display()))?;
        say(&format!(
            "Wrote a consistent copy of {} to {}\n",
            config.db.display(),
            file.display()
        ));
        return Ok(());
    }
    // Every WebSocket is a file descriptor: use all the process may have.
    if let Ok(limit) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::debug!("file descriptor limit: {limit}");
    }
    let demo = config.demo;
    let server = signal_server::start(config)
        .await
        .context("huddle-signal could not start")?;
    let mut banner = format!("Huddle signal server listening on {}\n", server.url());
    if demo {
        banner += &format!("Demo logins (password {}):\n", demo::DEMO_PASSWORD);
        for (email, name, organisation) in demo::DEMO_USERS {
            banner += &format!("  {email:<22} {name} ({organisation})\n");
        }
        banner += &format!("Demo meeting for everyone: {:?}\n", demo::ALL_USERS_MEETING);
    }
    say(&banner);
    serve_until_stopped(&server).await;
    say("Shutting down: telling clients and flushing storage...\n");
    server.shutdown().await;
    Ok(())
}

/// Prints to stdout, ignoring a closed stdout: a service must not die for want of a reader.
fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// Waits for SIGINT or SIGTERM; on SIGHUP meanwhile, reads the TLS
/// certificate again (renewals).
async fn serve_until_stopped(server: &signal_server::RunningServer) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangup = signal(SignalKind::hangup()).expect("installing a SIGHUP handler");
        let stop = shutdown_signal();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = hangup.recv() => match server.reload_tls() {
                    Ok(()) => tracing::info!("SIGHUP: the TLS certificate was read again"),
                    Err(err) => tracing::error!("SIGHUP: {err}; the previous certificate stays in use"),
                },
            }
        }
    }
    #[cfg(not(unix))]
    shutdown_signal().await;
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
