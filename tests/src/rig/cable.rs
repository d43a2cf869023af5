//! A cable between two namespaces that adds delay and jitter, which this
//! kernel's missing netem cannot: each end is a TUN device, and a thread per
//! direction carries every packet from one end to the other after holding it
//! for the delay, plus or minus a uniformly drawn jitter. Packets keep their
//! order (a long draw holds back those behind it), as on a real access link.

use super::netns::Netns;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a cable does to every packet, in each direction.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Delay {
    /// Held this long each way...
    pub delay: Duration,
    /// ...plus or minus up to this much, drawn per packet.
    pub jitter: Duration,
}

impl Delay {
    fn draw(&self) -> Duration {
        let jitter = self.jitter.as_micros() as i64;
        let offset = if jitter == 0 {
            0
        } else {
            rand::random_range(-jitter..=jitter)
        };
        let micros = self.delay.as_micros() as i64 + offset;
        Duration::from_micros(micros.max(0) as u64)
    }
}

pub struct Cable {
    stop: Arc<AtomicBool>,
    delay: Arc<Mutex<Delay>>,
    threads: Vec<JoinHandle<()>>,
}

impl Cable {
    /// Makes the TUN device `name_a` in `a` and `name_b` in `b` (both still
    /// to be given addresses and brought up) and starts carrying packets
    /// between them.
    pub fn lay(a: &Netns, name_a: &str, b: &Netns, name_b: &str, delay: Delay) -> Cable {
        let end_a = Arc::new(open_tun_in(a, name_a));
        let end_b = Arc::new(open_tun_in(b, name_b));
        let mut cable = Cable {
            stop: Arc::new(AtomicBool::new(false)),
            delay: Arc::new(Mutex::new(delay)),
            threads: Vec::new(),
        };
        cable.carry(end_a.clone(), end_b.clone());
        cable.carry(end_b, end_a);
        cable
    }

    /// Changes the delay from now on (packets already held keep theirs).
    pub fn set_delay(&self, delay: Delay) {
        *self.delay.lock().expect("delay lock") = delay;
    }

    /// Starts the two threads of one direction: one reads and stamps each
    /// packet with its release time, one writes it out when that time comes.
    fn carry(&mut self, from: Arc<File>, to: Arc<File>) {
        let (held, due) = mpsc::channel::<(Instant, Vec<u8>)>();
        let stop = self.stop.clone();
        let delay = self.delay.clone();
        self.threads.push(std::thread::spawn(move || {
            while let Some(packet) = read_packet(&from, &stop) {
                let draw = delay.lock().expect("delay lock").draw();
                if held.send((Instant::now() + draw, packet)).is_err() {
                    return;
                }
            }
        }));
        self.threads.push(std::thread::spawn(move || {
            // One writer, in arrival order: a packet whose draw was shorter
            // than the one before it waits for it. Ends when the reader
            // stops and drops its sender.
            for (release, packet) in due {
                std::thread::sleep(release.saturating_duration_since(Instant::now()));
                // A packet the far end refuses (device going down) is lost,
                // as on a wire.
                let _ = (&*to).write(&packet);
            }
        }));
    }
}

impl Drop for Cable {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The next packet from a TUN device, or None once `stop` is set or the
/// device is gone. Waits in short polls so that `stop` is seen.
fn read_packet(device: &File, stop: &AtomicBool) -> Option<Vec<u8>> {
    let mut buffer = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        let mut poll = libc::pollfd {
            fd: device.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, for the length given.
        let ready = unsafe { libc::poll(&mut poll, 1, 50) };
        if ready <= 0 {
            continue;
        }
        let length = (&*device).read(&mut buffer).ok()?;
        buffer.truncate(length);
        return Some(buffer);
    }
    None
}

/// Opens a new TUN device called `name` inside `ns`, carrying bare IP
/// packets (no packet-information header). It lives while the file is open.
fn open_tun_in(ns: &Netns, name: &str) -> File {
    let name = name.to_string();
    ns.on_thread(move || open_tun(&name))
}

fn open_tun(name: &str) -> File {
    let file = File::options()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .expect("/dev/net/tun opens (TUN is needed by the network rig)");
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    assert!(
        name.len() < request.ifr_name.len(),
        "TUN name {name} too long"
    );
    for (slot, byte) in request.ifr_name.iter_mut().zip(name.bytes()) {
        *slot = byte as libc::c_char;
    }
    request.ifr_ifru.ifru_flags = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
    // SAFETY: TUNSETIFF reads and writes one ifreq, which outlives the call.
    let result = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut request) };
    assert_eq!(
        result,
        0,
        "making TUN device {name}: {}",
        std::io::Error::last_os_error()
    );
    file
}
