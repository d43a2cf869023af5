//! One participant's place on the SFU: a Janus session of its own with a
//! publisher handle (our offer, Janus's answer) and a subscriber handle
//! (Janus's offers of everyone else's media, our answers). A task per
//! participant carries the client's `sfu_signal`s to Janus and Janus's
//! descriptions back, and follows who publishes. It ends when the
//! participant leaves the room, and Janus forgets it with its session.

use super::Roster;
use super::janus_api::Event;
use super::janus_client::{Answer, SfuError};
use super::layers::Layers;
use super::rooms::JanusRooms;
use super::streams::{
    feed_list, published_feeds, subscribed_streams, too_large, video_descriptions,
};
use super::videoroom::{JanusSession, RoomSpec, VideoRoomHandle};
use serde_json::{Value, json};
use shared::{
    ErrorCode, MeetingId, PeerId, PeerSignal, ServerMsg, SessionDescription, SfuLink, SfuStream,
    VideoLayer,
};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often a seat checks that its participant is still in the room.
const PRESENCE_CHECK: Duration = Duration::from_millis(500);

/// What the client sent the SFU.
#[derive(Debug)]
pub enum SeatInput {
    /// For one of its links with the SFU (`sfu_signal`).
    Signal(SfuLink, PeerSignal),
    /// The size it wants a camera in (`sfu_layer`).
    Layer(Option<PeerId>, VideoLayer),
}

/// Who the seat is for.
#[derive(Clone, Debug)]
pub struct Occupant {
    pub peer: PeerId,
    pub meeting: MeetingId,
    /// Shown in Janus's logs and events.
    pub display: String,
}

/// Runs a participant's seat (`number`: which of its seats) until it
/// leaves the room or Janus goes, then lets Janus forget it.
pub async fn run(
    app: Arc<dyn Roster>,
    occupant: Occupant,
    number: u64,
    inputs: mpsc::Receiver<SeatInput>,
) {
    let Some(sfu) = app.sfu() else {
        return;
    };
    let (peer, meeting) = (occupant.peer, occupant.meeting);
    let result = match Seat::take(&app, &occupant).await {
        Ok(mut seat) => {
            let served = seat.serve(inputs).await;
            seat.leave().await;
            served
        }
        Err(err) => Err(err),
    };
    sfu.seats.forget(peer, meeting, number);
    match result {
        Ok(()) => {
            let empty = || app.is_empty(meeting);
            sfu.rooms.release(&sfu.admin(), meeting, empty).await;
        }
        // Janus went away: everyone on it is moved back once it returns.
        Err(SfuError::Closed) => tracing::info!("peer {peer}'s place on the SFU went with Janus"),
        Err(err) => {
            tracing::warn!("peer {peer}'s place on the SFU ended: {err}");
            app.tell(peer, &sfu_error(format!("the SFU failed: {err}")));
        }
    }
}

struct Seat {
    app: Arc<dyn Roster>,
    occupant: Occupant,
    spec: RoomSpec,
    session: JanusSession,
    publisher: VideoRoomHandle,
    publisher_events: mpsc::Receiver<Event>,
    published: bool,
    subscriber: Option<Subscriber>,
    layers: Layers,
}

struct Subscriber {
    handle: VideoRoomHandle,
    events: mpsc::Receiver<Event>,
    feeds: BTreeSet<PeerId>,
    /// The whole subscription, as Janus last described it.
    streams: Vec<SfuStream>,
}

impl Seat {
    /// Makes the meeting's Janus room if needed, and joins it as a
    /// publisher (with our peer id as Janus's id for us); subscribes to
    /// whoever already publishes.
    async fn take(app: &Arc<dyn Roster>, occupant: &Occupant) -> Result<Seat, SfuError> {
        let sfu = app.sfu().ok_or(SfuError::Closed)?;
        let rooms: &JanusRooms = &sfu.rooms;
        let spec = rooms
            .ensure(&sfu.admin(), occupant.meeting, sfu.publishers)
            .await?;
        // One connection for the whole seat, should Janus come back meanwhile.
        let client = sfu.client();
        let session = JanusSession::create(&client).await?;
        let publisher = session.attach_videoroom().await?;
        let publisher_events = client.listen(publisher.id());
        let join = json!({
            "request": "join", "ptype": "publisher", "room": spec.room, "pin": spec.pin,
            "id": occupant.peer.0, "display": occupant.display,
        });
        let joined = publisher.message(join, None).await?;
        let mut seat = Seat {
            app: app.clone(),
            occupant: occupant.clone(),
            spec,
            session,
            publisher,
            publisher_events,
            published: false,
            subscriber: None,
            layers: Layers::default(),
        };
        seat.subscribe(published_feeds(&joined.data, occupant.peer))
            .await?;
        Ok(seat)
    }

    /// Lets Janus forget the seat (its session, and the handles in it go
    /// with it) and stops routing their events.
    async fn leave(self) {
        let client = self.session.client().clone();
        client.forget(self.publisher.id());
        if let Some(subscriber) = &self.subscriber {
            client.forget(subscriber.handle.id());
        }
        let _ = self.session.destroy().await;
    }

    async fn serve(&mut self, mut inputs: mpsc::Receiver<SeatInput>) -> Result<(), SfuError> {
        let client = self.session.client().clone();
        let mut presence = tokio::time::interval(PRESENCE_CHECK);
        loop {
            let subscriber_event = async {
                match self.subscriber.as_mut() {
                    Some(subscriber) => subscriber.events.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                input = inputs.recv() => match input {
                    Some(SeatInput::Signal(link, signal)) => self.on_signal(link, signal).await?,
                    Some(SeatInput::Layer(peer, layer)) => self.on_layer(peer, layer).await?,
                    None => return Ok(()),
                },
                Some(event) = self.publisher_events.recv() => self.on_publisher(event).await?,
                Some(event) = subscriber_event => self.on_subscriber(event).await?,
                _ = presence.tick() => {
                    if self.app.room_of(self.occupant.peer) != Some(self.occupant.meeting) {
                        return Ok(());
                    }
                }
                _ = client.closed() => return Err(SfuError::Closed),
            }
        }
    }

    /// What the client sent for one of its links. Janus turning it down
    /// (an SDP it cannot take, an answer to an offer it has since
    /// replaced) is told to the client, and the seat stays.
    async fn on_signal(&mut self, link: SfuLink, signal: PeerSignal) -> Result<(), SfuError> {
        match self.on_client(link, signal).await {
            Err(SfuError::Refused(err)) => {
                let why = format!("the SFU refused it: {err}");
                self.app.tell(self.occupant.peer, &sfu_error(why));
                Ok(())
            }
            other => other,
        }
    }

    async fn on_client(&mut self, link: SfuLink, signal: PeerSignal) -> Result<(), SfuError> {
        match (link, signal) {
            (SfuLink::Publish, PeerSignal::Description { description })
                if description.kind == "offer" =>
            {
                self.publish(description).await
            }
            (SfuLink::Subscribe, PeerSignal::Description { description })
                if description.kind == "answer" =>
            {
                let Some(subscriber) = &self.subscriber else {
                    self.refuse("there is no subscribe offer to answer".into());
                    return Ok(());
                };
                let jsep = json!({ "type": "answer", "sdp": description.sdp });
                subscriber
                    .handle
                    .message(json!({ "request": "start" }), Some(jsep))
                    .await?;
                Ok(())
            }
            (link, PeerSignal::Candidate { candidate }) => {
                let handle = match link {
                    SfuLink::Publish => Some(&self.publisher),
                    SfuLink::Subscribe => self.subscriber.as_ref().map(|s| &s.handle),
                };
                if let Some(handle) = handle {
                    let candidate = serde_json::to_value(candidate).unwrap_or(Value::Null);
                    handle.trickle(candidate).await?;
                }
                Ok(())
            }
            (link, PeerSignal::Description { description }) => {
                let kind = description.kind;
                self.refuse(format!("the SFU takes no {kind:?} on the {link:?} link"));
                Ok(())
            }
        }
    }

    /// Our offer to Janus: `publish` the first time, `configure` after.
    async fn publish(&mut self, offer: SessionDescription) -> Result<(), SfuError> {
        let request = if self.published {
            "configure"
        } else {
            "publish"
        };
        let body = json!({ "request": request, "descriptions": video_descriptions(&offer.sdp) });
        let jsep = json!({ "type": "offer", "sdp": offer.sdp });
        let answer = self.publisher.message(body, Some(jsep)).await?;
        self.published = true;
        self.forward(SfuLink::Publish, answer.jsep, Vec::new());
        Ok(())
    }

    async fn on_publisher(&mut self, event: Event) -> Result<(), SfuError> {
        if let Event::Plugin { data, .. } = event {
            if let Some(gone) = data["unpublished"].as_u64().or(data["leaving"].as_u64())
                && let Some(subscriber) = self.subscriber.as_mut()
            {
                // Janus drops the feed's streams from our subscription itself.
                subscriber.feeds.remove(&PeerId(gone));
            }
            self.subscribe(published_feeds(&data, self.occupant.peer))
                .await?;
        }
        Ok(())
    }

    async fn on_subscriber(&mut self, event: Event) -> Result<(), SfuError> {
        match event {
            // Janus offers again when feeds come and go (its answer to
            // `subscribe` may come this way too, batched).
            Event::Plugin { data, jsep, .. } => self.subscription_changed(&data, jsep).await?,
            Event::HangUp { reason, .. } => {
                tracing::info!(
                    "peer {}'s subscription hung up: {reason}",
                    self.occupant.peer
                )
            }
            _ => {}
        }
        Ok(())
    }

    /// The client wants a camera (or all) in another size.
    async fn on_layer(&mut self, peer: Option<PeerId>, layer: VideoLayer) -> Result<(), SfuError> {
        if !self.layers.wish(peer, layer) {
            self.refuse("too many sfu_layer wishes for single peers".into());
            return Ok(());
        }
        self.apply_layers().await
    }

    /// Janus described the subscription (`data`), perhaps with an offer
    /// for the client: handed on, and each new camera set to its layer.
    async fn subscription_changed(
        &mut self,
        data: &Value,
        jsep: Option<Value>,
    ) -> Result<(), SfuError> {
        let streams = subscribed_streams(data);
        self.forward(SfuLink::Subscribe, jsep, streams.clone());
        match self.subscriber.as_mut() {
            // Only an event that lists the streams says what they are now.
            Some(subscriber) if data["streams"].is_array() => subscriber.streams = streams,
            _ => return Ok(()),
        }
        self.apply_layers().await
    }

    /// Asks Janus for the layers wished, where they differ from what it
    /// sends. Janus turning that down (a section gone meanwhile) costs the
    /// seat nothing: all is asked again at the next change.
    async fn apply_layers(&mut self) -> Result<(), SfuError> {
        let Some(subscriber) = &self.subscriber else {
            return Ok(());
        };
        let Some(body) = self.layers.configure(&subscriber.streams) else {
            return Ok(());
        };
        match subscriber.handle.message(body, None).await {
            Err(SfuError::Refused(err)) => {
                tracing::info!("peer {}: Janus kept its layers: {err}", self.occupant.peer);
                self.layers.forget_applied();
                Ok(())
            }
            other => other.map(drop),
        }
    }

    /// Receives `feeds` too: the first time, a subscriber handle joins with
    /// them; after, they are added to its subscription.
    async fn subscribe(&mut self, feeds: Vec<PeerId>) -> Result<(), SfuError> {
        let known = self.subscriber.as_ref().map(|s| &s.feeds);
        let new: Vec<PeerId> = feeds
            .into_iter()
            .filter(|feed| known.is_none_or(|known| !known.contains(feed)))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        let answer = match &mut self.subscriber {
            Some(subscriber) => {
                subscriber.feeds.extend(&new);
                let body = json!({ "request": "subscribe", "streams": feed_list(&new) });
                subscriber.handle.message(body, None).await?
            }
            None => self.join_as_subscriber(&new).await?,
        };
        self.subscription_changed(&answer.data, answer.jsep).await
    }

    async fn join_as_subscriber(&mut self, feeds: &[PeerId]) -> Result<Answer, SfuError> {
        let handle = self.session.attach_videoroom().await?;
        let events = self.session.client().listen(handle.id());
        let join = json!({
            "request": "join", "ptype": "subscriber", "room": self.spec.room, "pin": self.spec.pin,
            "use_msid": true, "streams": feed_list(feeds),
        });
        let answer = handle.message(join, None).await?;
        self.subscriber = Some(Subscriber {
            handle,
            events,
            feeds: feeds.iter().copied().collect(),
            streams: Vec::new(),
        });
        Ok(answer)
    }

    /// Hands Janus's description (if it sent one) to the client.
    fn forward(&self, link: SfuLink, jsep: Option<Value>, streams: Vec<shared::SfuStream>) {
        let Some(description) = jsep.and_then(|jsep| serde_json::from_value(jsep).ok()) else {
            return;
        };
        let payload = PeerSignal::Description { description };
        let msg = ServerMsg::SfuSignal {
            link,
            payload: serde_json::to_value(payload).unwrap_or(Value::Null),
            streams,
        };
        // A message over the frame limit would cost the client its connection.
        if let Some(bytes) = too_large(&msg) {
            let why = format!(
                "the SFU's offer of everyone's media is {} KiB, more than one message carries; \
                 too many people publish in this meeting",
                bytes / 1024
            );
            tracing::warn!("peer {}: {why}", self.occupant.peer);
            self.app.tell(self.occupant.peer, &sfu_error(why));
            return;
        }
        self.app.tell(self.occupant.peer, &msg);
    }

    fn refuse(&self, message: String) {
        let msg = ServerMsg::Error {
            code: ErrorCode::BadRequest,
            message,
        };
        self.app.tell(self.occupant.peer, &msg);
    }
}

fn sfu_error(message: String) -> ServerMsg {
    ServerMsg::Error {
        code: ErrorCode::SfuUnavailable,
        message,
    }
}
