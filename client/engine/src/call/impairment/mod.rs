//! Network profiles for QA with no root: the bot's own media sockets lose,
//! delay and cap what they carry, both ways, as a profile says
//! (`huddle-bot --network`). webrtc-rs takes a runtime of ours
//! ([`ImpairingRuntime`]): the tokio one, but every UDP socket it makes is
//! an [`ImpairedSocket`].

mod profile;
mod shaper;
mod socket;

pub use profile::{BadProfile, NetworkProfile};
pub use shaper::Shaper;
pub use socket::ImpairedSocket;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use webrtc::runtime::{
    AsyncInterval, AsyncTcpListener, AsyncTcpStream, AsyncUdpSocket, JoinHandle, Runtime,
    TokioRuntime,
};

/// The tokio runtime, with every UDP socket impaired by `profile`.
#[derive(Debug)]
pub struct ImpairingRuntime {
    profile: NetworkProfile,
    /// Each socket draws its own losses.
    next_seed: AtomicU64,
}

impl ImpairingRuntime {
    pub fn new(profile: NetworkProfile) -> Arc<ImpairingRuntime> {
        Arc::new(ImpairingRuntime {
            profile,
            next_seed: AtomicU64::new(1),
        })
    }
}

impl Runtime for ImpairingRuntime {
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) -> Box<dyn JoinHandle> {
        TokioRuntime.spawn(future)
    }

    fn spawn_reactor(
        &self,
        reactor_pool_size: usize,
        future: Pin<Box<dyn Future<Output = ()> + Send>>,
    ) -> Box<dyn JoinHandle> {
        TokioRuntime.spawn_reactor(reactor_pool_size, future)
    }

    fn wrap_udp_socket(&self, socket: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        let seed = self.next_seed.fetch_add(1, Ordering::Relaxed);
        Ok(Arc::new(ImpairedSocket::wrap(socket, self.profile, seed)?))
    }

    fn wrap_tcp_listener(
        &self,
        listener: std::net::TcpListener,
    ) -> io::Result<Arc<dyn AsyncTcpListener>> {
        TokioRuntime.wrap_tcp_listener(listener)
    }

    fn connect_tcp<'a>(
        &'a self,
        addr: std::net::SocketAddr,
    ) -> Pin<Box<dyn Future<Output = io::Result<Arc<dyn AsyncTcpStream>>> + Send + 'a>> {
        TokioRuntime.connect_tcp(addr)
    }

    fn resolve_host<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = io::Result<Vec<std::net::SocketAddr>>> + Send + 'a>> {
        TokioRuntime.resolve_host(host)
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        TokioRuntime.sleep(duration)
    }

    fn interval(&self, period: Duration) -> Box<dyn AsyncInterval> {
        TokioRuntime.interval(period)
    }

    fn block_on(&self, future: Pin<Box<dyn Future<Output = ()> + '_>>) {
        TokioRuntime.block_on(future)
    }

    fn yield_now(&self) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        TokioRuntime.yield_now()
    }

    fn name(&self) -> &'static str {
        "tokio, impaired"
    }
}
