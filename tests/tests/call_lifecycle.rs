//! A call leaves nothing behind: after fifty joins and leaves in one
//! process, each with a peer connection that carried media, the threads
//! are back to where they were and the memory has not grown. (webrtc-rs
//! peer connections that are never freed are a known trap, webrtc-rs #906.)
//! Alone in its file: it counts the threads of its own process.

use huddle_engine::call::{Call, CallEvent, CallOptions, MediaEvent, PatternSource, PeerLinkState};
use huddle_engine::codec::VideoEncoderConfig;
use huddle_engine::media::pattern::TestPattern;
use huddle_engine::media::processing::ProcessingSettings;
use huddle_engine::media::tone::ToneSource;
use huddle_tests::*;
use std::time::{Duration, Instant};

const CYCLES: usize = 50;
/// What the process may hold allocated after the calls beyond what it held
/// after the first: anything a call leaks, fifty times over, shows here.
const HEAP_GROWTH_LIMIT_KB: usize = 2 * 1024;
/// Resident memory, after giving free pages back: glibc's arenas keep a
/// varying share of what was freed (±2 MB between runs with no leak).
const RSS_GROWTH_LIMIT_KB: u64 = 4 * 1024;

fn options(server: &TestServer, token: &str, meeting: shared::MeetingId, hz: f32) -> CallOptions {
    CallOptions {
        ws_url: server.ws_url(),
        token: token.to_string(),
        trust: huddle_engine::Trust::system(),
        meeting,
        camera: Some(Box::new(PatternSource {
            pattern: TestPattern::new(320, 180, (200, 40, 40)),
            fps: 15.0,
        })),
        microphone: Some(Box::new(ToneSource::new(hz, -12.0))),
        speaker: None,
        voice_processing: ProcessingSettings::OFF,
        screen: None,
        camera_config: VideoEncoderConfig {
            bitrate_bps: 300_000,
            max_fps: 15.0,
            screen: false,
        },
        screen_config: VideoEncoderConfig::screen(),
        start_muted: false,
        start_camera_off: false,
        reconnect_for: huddle_engine::call::RECONNECT_FOR,
        simulated_loss: Default::default(),
        ice_policy: Default::default(),
        network: None,
    }
}

/// Bytes allocated and not freed, in every arena and mapping, in kB.
fn heap_in_use_kb() -> usize {
    // SAFETY: mallinfo2 only reads the allocator's counters.
    let info = unsafe { libc::mallinfo2() };
    (info.uordblks + info.hblkhd) / 1024
}

/// Resident memory once the allocator has given back the free pages it can.
fn trimmed_rss_kb() -> u64 {
    // SAFETY: malloc_trim only returns free memory to the system.
    unsafe { libc::malloc_trim(0) };
    status("VmRSS:")
}

/// A line of /proc/self/status, in its unit (threads; kB).
fn status(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Joins, waits for the link to Ann and a frame from her, and leaves.
async fn one_call(server: &TestServer, token: &str, meeting: shared::MeetingId) {
    let mut call = Call::join(options(server, token, meeting, 660.0))
        .await
        .unwrap();
    let mut media = call.media();
    next_event(&mut call, "the link to Ann", |e| {
        matches!(
            e,
            CallEvent::PeerLink {
                state: PeerLinkState::Connected,
                ..
            }
        )
    })
    .await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let next = tokio::time::timeout_at(deadline, media.recv()).await;
        match next.expect("a frame from Ann in time") {
            Ok(MediaEvent::Video { .. }) => break,
            _ => continue,
        }
    }
    call.leave().await;
}

/// The runtime's threads are named so; the test server's store work runs on
/// its blocking pool every 500 ms (its login sweep), so whether one of those
/// threads is alive at a given moment is chance, and they are not counted.
const RUNTIME_THREADS: &str = "runtime";

/// Threads of the process other than the runtime's: the test's own, and
/// those a call starts (senders, playout, decoders).
fn call_threads() -> u64 {
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
    tasks
        .flatten()
        .filter(|task| {
            let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            name.trim() != RUNTIME_THREADS
        })
        .count() as u64
}

/// [`call_threads`] once the count has held still for a second (a call's
/// own threads end as it ends), waiting at most 10 s.
async fn settled_threads() -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut count, mut since) = (call_threads(), Instant::now());
    while since.elapsed() < Duration::from_secs(1) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = call_threads();
        if now != count {
            (count, since) = (now, Instant::now());
        }
    }
    count
}

#[test]
fn fifty_joins_and_leaves_leave_no_thread_and_no_memory_behind() {
    // As the binaries do, before any thread of ours starts.
    huddle_engine::allocator::keep_memory_small();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(RUNTIME_THREADS)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = TestServer::start_with(|c| {
            c.limits.membership_burst = 4 * CYCLES as u32;
            c.limits.membership_per_minute = 4 * CYCLES as u32;
        })
        .await;
        let ann_api = server.login(STARTUP).await;
        let meeting = server.meeting_id(&ann_api, ALL_USERS).await;
        let ann = Call::join(options(&server, ann_api.token().unwrap(), meeting, 440.0))
            .await
            .unwrap();
        let bob_api = server.login(CORPORATE).await;
        let bob = bob_api.token().unwrap().to_string();
        // The first call warms up what stays for good (allocator arenas,
        // lazily made tables); what follows must cost nothing lasting.
        one_call(&server, &bob, meeting).await;
        let threads = settled_threads().await;
        let (heap, rss) = (heap_in_use_kb(), trimmed_rss_kb());
        for _ in 1..CYCLES {
            one_call(&server, &bob, meeting).await;
        }
        let at_leave = call_threads();
        let threads_after = settled_threads().await;
        eprintln!("threads as the last leave returned: {at_leave}");
        // Bob's threads have ended by then; Ann's decoder of his camera may
        // still be ending (she hears of the leave from the server).
        assert!(
            at_leave <= threads + 1,
            "{at_leave} threads as leave returned, {threads} before"
        );
        let heap_grown = heap_in_use_kb().saturating_sub(heap);
        let rss_grown = trimmed_rss_kb().saturating_sub(rss);
        eprintln!(
            "threads {threads} -> {threads_after}; heap +{heap_grown} kB; RSS +{rss_grown} kB"
        );
        assert!(
            threads_after <= threads,
            "{threads} threads before {CYCLES} calls, {threads_after} after"
        );
        assert!(
            heap_grown <= HEAP_GROWTH_LIMIT_KB,
            "{heap_grown} kB more allocated after {} calls",
            CYCLES - 1
        );
        assert!(
            rss_grown <= RSS_GROWTH_LIMIT_KB,
            "resident memory grew by {rss_grown} kB over {} calls",
            CYCLES - 1
        );
        ann.leave().await;
    });
}
