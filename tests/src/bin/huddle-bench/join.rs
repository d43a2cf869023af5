//! `huddle-bench join [N]`: join → first decoded frame over N joins, in a
//! mesh and on the SFU (a private Janus), side by side.

use super::{call, ms};
use anyhow::{Result, bail};
use huddle_bot::stats::percentile;
use huddle_engine::call::MediaEvent;
use huddle_tests::{CORPORATE, STARTUP, TestServer};
use std::time::{Duration, Instant};

/// Join → first decoded frame, over `runs` joins, in a mesh and on the
/// SFU (a private Janus; the meeting on it from its second join), side by side.
pub async fn join(runs: usize) -> Result<()> {
    println!("| topology | joins | join → first frame p50 ms | p95 ms | min ms | max ms |");
    println!("|---|---|---|---|---|---|");
    // A guest joining and leaving 20 times in seconds is past what one
    // login may do in a minute: the limit is raised for the bench.
    let often = |config: &mut signal_server::Config| {
        config.limits.membership_per_minute = 600;
        config.limits.membership_burst = 100;
    };
    let mesh = TestServer::start_with(often).await;
    println!("{}", join_row(&mesh, "mesh", runs).await?);
    let janus = huddle_tests::janus::JanusServer::start("bench-secret");
    let sfu = janus.signal_server_with(1, often).await;
    println!("{}", join_row(&sfu, "sfu", runs).await?);
    Ok(())
}

/// A host sends; a guest joins `runs` times and leaves in between.
async fn join_row(server: &TestServer, topology: &str, runs: usize) -> Result<String> {
    let (host_api, guest_api) = (server.login(STARTUP).await, server.login(CORPORATE).await);
    let host = call(server, &host_api, (200, 40, 40), 440.0).await?;
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let guest = call(server, &guest_api, (40, 40, 200), 660.0).await?;
        let mut media = guest.media();
        loop {
            match tokio::time::timeout(Duration::from_secs(10), media.recv()).await {
                Ok(Ok(MediaEvent::Video { peer, .. })) if peer == host.peer_id() => break,
                Ok(_) => continue,
                Err(_) => bail!("no frame within 10 s"),
            }
        }
        times.push(ms(started.elapsed()));
        guest.leave().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    host.leave().await;
    let min = times.iter().copied().fold(f64::MAX, f64::min);
    let max = times.iter().copied().fold(0.0, f64::max);
    Ok(format!(
        "| {topology} | {runs} | {:.0} | {:.0} | {min:.0} | {max:.0} |",
        percentile(&times, 0.5).unwrap(),
        percentile(&times, 0.95).unwrap()
    ))
}
