//! A UDP socket whose datagrams suffer a [`NetworkProfile`] both ways: what
//! is sent is shaped before it leaves, what arrives before it is read. Two
//! small tasks hold the datagrams for their delay (releases keep their
//! order, so each line is a queue served in turn).

use super::shaper::is_dtls_handshake;
use super::{NetworkProfile, Shaper};
use std::fmt;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::sync::mpsc;
use webrtc::runtime::{AsyncUdpSocket, RecvMeta, Transmit};

/// A datagram on its way, and when it comes out of its delay.
type Held = (Instant, SocketAddr, Vec<u8>);

pub struct ImpairedSocket {
    local: SocketAddr,
    send_shaper: Mutex<Shaper>,
    to_send: mpsc::UnboundedSender<Held>,
    /// Arrived datagrams whose delay is over.
    arrived: Mutex<mpsc::UnboundedReceiver<(SocketAddr, Vec<u8>)>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl ImpairedSocket {
    /// Wraps a bound socket; its tasks run on the current tokio runtime.
    pub fn wrap(
        socket: std::net::UdpSocket,
        profile: NetworkProfile,
        seed: u64,
    ) -> io::Result<ImpairedSocket> {
        socket.set_nonblocking(true)?;
        let io = Arc::new(tokio::net::UdpSocket::from_std(socket)?);
        let local = io.local_addr()?;
        let (to_send, sending) = mpsc::unbounded_channel();
        let (held_in, holding) = mpsc::unbounded_channel();
        let (released, arrived) = mpsc::unbounded_channel();
        let receive_shaper = Shaper::new(profile, seed ^ 0x5eed);
        let tasks = vec![
            tokio::spawn(send_when_due(io.clone(), sending)),
            tokio::spawn(receive(io, receive_shaper, held_in)),
            tokio::spawn(release_when_due(holding, released)),
        ];
        Ok(ImpairedSocket {
            local,
            send_shaper: Mutex::new(Shaper::new(profile, seed)),
            to_send,
            arrived: Mutex::new(arrived),
            tasks,
        })
    }
}

/// Sends each datagram once its delay is over.
async fn send_when_due(io: Arc<tokio::net::UdpSocket>, mut sending: mpsc::UnboundedReceiver<Held>) {
    while let Some((at, to, datagram)) = sending.recv().await {
        tokio::time::sleep_until(at.into()).await;
        // As a real path does, a datagram that cannot go is lost, not retried.
        let _ = io.send_to(&datagram, to).await;
    }
}

/// Reads what arrives, loses some, and hands the rest on with its release time.
async fn receive(
    io: Arc<tokio::net::UdpSocket>,
    mut shaper: Shaper,
    held: mpsc::UnboundedSender<Held>,
) {
    let mut buffer = vec![0u8; 65_536];
    loop {
        let (len, from) = match io.recv_from(&mut buffer).await {
            Ok(received) => received,
            // An ICMP error from an earlier send (Windows reports them on
            // any socket) is no reason to stop receiving.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                continue;
            }
        };
        let spared = is_dtls_handshake(&buffer[..len]);
        if let Some(at) = shaper.admit(Instant::now(), len, spared)
            && held.send((at, from, buffer[..len].to_vec())).is_err()
        {
            return;
        }
    }
}

/// Hands each arrived datagram to the reader once its delay is over.
async fn release_when_due(
    mut holding: mpsc::UnboundedReceiver<Held>,
    released: mpsc::UnboundedSender<(SocketAddr, Vec<u8>)>,
) {
    while let Some((at, from, datagram)) = holding.recv().await {
        tokio::time::sleep_until(at.into()).await;
        if released.send((from, datagram)).is_err() {
            return;
        }
    }
}

impl Drop for ImpairedSocket {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl fmt::Debug for ImpairedSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImpairedSocket")
            .field("local", &self.local)
            .finish()
    }
}

impl AsyncUdpSocket for ImpairedSocket {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }

    fn poll_send(&self, _cx: &mut Context<'_>, transmit: &Transmit<'_>) -> Poll<io::Result<usize>> {
        let len = transmit.contents.len();
        let mut shaper = self.send_shaper.lock().unwrap_or_else(|p| p.into_inner());
        let spared = is_dtls_handshake(transmit.contents);
        if let Some(at) = shaper.admit(Instant::now(), len, spared) {
            let held = (at, transmit.destination, transmit.contents.to_vec());
            if self.to_send.send(held).is_err() {
                return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
            }
        }
        Poll::Ready(Ok(len))
    }

    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        let mut arrived = self.arrived.lock().unwrap_or_else(|p| p.into_inner());
        let Some((from, datagram)) = std::task::ready!(arrived.poll_recv(cx)) else {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        };
        let (Some(buf), Some(slot)) = (bufs.first_mut(), meta.first_mut()) else {
            return Poll::Ready(Ok(0));
        };
        let len = datagram.len().min(buf.len());
        buf[..len].copy_from_slice(&datagram[..len]);
        let mut received = RecvMeta::default();
        received.addr = from;
        received.len = len;
        received.stride = len.max(1);
        *slot = received;
        Poll::Ready(Ok(1))
    }
}
