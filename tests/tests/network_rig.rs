//! The network rig does to packets what it promises: delay and jitter each
//! way (in order), random loss, a rate cap with its queue, NAT that lets
//! replies in; and nothing of it is left behind, even when a test panics.
//! Measured with UDP between a home's host and the public namespace.

use huddle_tests::rig::{Delay, Link, PUBLIC, Plan, Rig};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const ECHO_PORT: u16 = 7000;

/// A UDP echo in the public namespace that also counts what it received.
struct Echo {
    received_bytes: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Echo {
    fn start(rig: &Rig, answer: bool) -> Echo {
        let received_bytes = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let socket = rig
            .public
            .on_thread(|| UdpSocket::bind((PUBLIC, ECHO_PORT)).expect("echo binds"));
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let (bytes, stopped) = (received_bytes.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut buffer = [0u8; 2048];
            while !stopped.load(Ordering::Relaxed) {
                if let Ok((length, from)) = socket.recv_from(&mut buffer) {
                    bytes.fetch_add(length, Ordering::Relaxed);
                    if answer {
                        let _ = socket.send_to(&buffer[..length], from);
                    }
                }
            }
        });
        Echo {
            received_bytes,
            stop,
        }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A socket on home 1's host, aimed at the echo.
fn home_socket(rig: &Rig) -> UdpSocket {
    let socket = rig.home(1).host.on_thread(|| {
        let socket = UdpSocket::bind("0.0.0.0:0").expect("binds");
        socket
            .connect(SocketAddr::from((PUBLIC, ECHO_PORT)))
            .unwrap();
        socket
    });
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    socket
}

fn one_home(link: Link) -> Rig {
    Rig::build(&Plan {
        homes: vec![link],
        direct: true,
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[test]
fn a_home_link_delays_each_way_with_jitter_and_keeps_the_order() {
    let delay = Delay {
        delay: Duration::from_millis(30),
        jitter: Duration::from_millis(5),
    };
    let rig = one_home(Link {
        delay,
        ..Link::default()
    });
    let _echo = Echo::start(&rig, true);
    let socket = home_socket(&rig);
    // One at a time: each round trip crosses the cable twice.
    let mut round_trips = Vec::new();
    for n in 0..30u32 {
        let sent = Instant::now();
        socket.send(&n.to_be_bytes()).unwrap();
        let mut reply = [0u8; 4];
        socket
            .recv(&mut reply)
            .expect("the echo answers through the NAT");
        assert_eq!(u32::from_be_bytes(reply), n);
        round_trips.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    let fastest = round_trips.iter().copied().fold(f64::MAX, f64::min);
    let typical = median(&mut round_trips);
    assert!(fastest >= 50.0, "a round trip took only {fastest:.1} ms");
    assert!(
        (55.0..=72.0).contains(&typical),
        "round trips took {typical:.1} ms (median), not about 60"
    );
    // A burst: jitter holds packets back but never lets one overtake.
    for n in 0..200u32 {
        socket.send(&n.to_be_bytes()).unwrap();
    }
    for n in 0..200u32 {
        let mut reply = [0u8; 4];
        socket.recv(&mut reply).expect("every packet comes back");
        assert_eq!(u32::from_be_bytes(reply), n, "packets overtook each other");
    }
}

#[test]
fn a_home_link_loses_packets_at_random_each_way() {
    let rig = one_home(Link {
        loss_percent: 20.0,
        ..Link::default()
    });
    let _echo = Echo::start(&rig, true);
    let socket = home_socket(&rig);
    // Replies are counted as they come, so that none wait in a full buffer.
    let receiver = socket.try_clone().unwrap();
    let counter = std::thread::spawn(move || {
        let mut back = 0;
        let mut reply = [0u8; 4];
        while receiver.recv(&mut reply).is_ok() {
            back += 1;
        }
        back
    });
    let sent = 2000;
    for n in 0..sent as u32 {
        socket.send(&n.to_be_bytes()).unwrap();
        if n % 10 == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let back = counter.join().unwrap();
    // 20 % each way: 64 % of round trips survive.
    let survived = back as f64 / sent as f64 * 100.0;
    assert!(
        (58.0..=70.0).contains(&survived),
        "{survived:.1} % came back, not about 64 %"
    );
}

#[test]
fn a_home_link_is_capped_at_its_rate_with_its_queue() {
    let rig = one_home(Link {
        rate_kbit: Some(500),
        queue: Duration::from_millis(200),
        ..Link::default()
    });
    let echo = Echo::start(&rig, false);
    let socket = home_socket(&rig);
    // 2 Mbit/s for 2 s into a 500 kbit/s uplink.
    let packet = [7u8; 1200];
    let start = Instant::now();
    let mut offered = 0;
    while start.elapsed() < Duration::from_secs(2) {
        let _ = socket.send(&packet);
        offered += packet.len();
        std::thread::sleep(Duration::from_micros(4800));
    }
    std::thread::sleep(Duration::from_millis(400));
    let through = echo.received_bytes.load(Ordering::Relaxed) as f64;
    // 2 s at the rate, plus what the queue and the burst held at the end.
    let expected = 500_000.0 / 8.0 * 2.0;
    assert!(
        through >= expected * 0.9 && through <= expected * 1.25,
        "{through} bytes of {offered} got through, not about {expected}"
    );
}

#[test]
fn the_rig_leaves_no_namespace_behind_even_when_a_test_panics() {
    let names = std::sync::Mutex::new(Vec::new());
    let outcome = std::panic::catch_unwind(|| {
        let rig = Rig::build(&Plan::two_homes());
        *names.lock().unwrap() = rig.namespaces();
        panic!("a test failing half-way");
    });
    assert!(outcome.is_err());
    let names = names.into_inner().unwrap();
    assert_eq!(names.len(), 5, "public, and a host and a router per home");
    let listed = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip runs");
    let listed = String::from_utf8_lossy(&listed.stdout);
    for name in names {
        assert!(!listed.contains(&name), "{name} was left behind");
    }
}
