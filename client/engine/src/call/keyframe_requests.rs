//! A read step (see `read_filter.rs`) that hands inbound keyframe requests (PLI, FIR) to the
//! application, which alone can answer them (by asking its encoder for an IDR).
//! Every other inbound RTCP packet stays with the interceptors.

use super::read_filter::ReadStep;
use rtc::interceptor::{Attribute, Packet, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;

#[derive(Default)]
pub struct KeyframeRequestForwarder;

fn is_keyframe_request(packet: &dyn rtc::rtcp::Packet) -> bool {
    let any = packet.as_any();
    any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
}

impl ReadStep for KeyframeRequestForwarder {
    fn read(&mut self, msg: &mut TaggedPacket) -> bool {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            let requests: Vec<Box<dyn rtc::rtcp::Packet>> = packets
                .iter()
                .filter(|p| is_keyframe_request(p.as_ref()))
                .cloned()
                .collect();
            if requests.is_empty() {
                return false;
            }
            msg.message.packet = Packet::Rtcp(requests);
            msg.message.add(Attribute::DeliverToApplication);
        }
        true
    }
}
