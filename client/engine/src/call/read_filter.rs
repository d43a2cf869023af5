//! An interceptor that only looks at what comes in: each inbound packet
//! goes through a [`ReadStep`] (which may change it, or take it out), and
//! everything outbound passes untouched. Our RTCP handling (keyframe
//! requests, NACK damping) is built from it.

use rtc::interceptor::{Interceptor, StreamInfo, TaggedPacket};
use rtc::sansio::Protocol;
use rtc::shared::error::Error;
use std::collections::VecDeque;
use std::time::Instant;

/// What a [`ReadFilter`] does to each inbound packet.
pub trait ReadStep: Send + Sync {
    /// Changes `msg` as needed; false takes it out of the chain.
    fn read(&mut self, msg: &mut TaggedPacket) -> bool;
}

pub struct ReadFilter<S> {
    step: S,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

impl<S: ReadStep> ReadFilter<S> {
    pub fn new(step: S) -> ReadFilter<S> {
        ReadFilter {
            step,
            read_queue: VecDeque::new(),
            write_queue: VecDeque::new(),
        }
    }
}

impl<S: ReadStep> Protocol<TaggedPacket, TaggedPacket, ()> for ReadFilter<S> {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Error> {
        if self.step.read(&mut msg) {
            self.read_queue.push_back(msg);
        }
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.read_queue.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Error> {
        self.write_queue.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.write_queue.pop_front()
    }
}

impl<S: ReadStep> Interceptor for ReadFilter<S> {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
