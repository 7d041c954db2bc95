//! Subscription streams and the items they yield.

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::FusedStream;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use net::{Error, Event, Result, StoredEvent, SubscriptionItem};

/// One event delivered by a subscription: the payload plus where the engine stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventItem(StoredEvent);

impl EventItem {
    /// The payload as JSON text, byte for byte what the producer emitted.
    pub fn raw_str(&self) -> &str {
        self.0.event.as_str()
    }

    /// The payload as raw JSON bytes.
    pub fn raw(&self) -> &[u8] {
        self.0.event.raw()
    }

    /// The payload as an engine [`Event`].
    pub fn event(&self) -> &Event {
        &self.0.event
    }

    /// Deserializes the payload into `T`.
    pub fn decode<'a, T: Deserialize<'a>>(&'a self) -> serde_json::Result<T> {
        serde_json::from_slice(self.raw())
    }

    /// The shard the event lives in.
    pub fn shard(&self) -> u16 {
        self.0.shard
    }

    /// The sequence number from the producer's [`Receipt`](crate::Receipt).
    pub fn seq(&self) -> u64 {
        self.0.seq
    }

    /// The event's position within its shard (dense, starting at 0).
    pub fn position(&self) -> u64 {
        self.0.position
    }

    /// Insertion time in nanoseconds since the Unix epoch.
    pub fn ts_ns(&self) -> u64 {
        self.0.ts_ns
    }

    /// The engine's record of the event.
    pub fn into_stored(self) -> StoredEvent {
        self.0
    }
}

impl From<StoredEvent> for EventItem {
    fn from(stored: StoredEvent) -> Self {
        EventItem(stored)
    }
}

/// Why a subscription yielded an error item. Only [`StreamError::Engine`] can come from
/// opening the subscription; after the other two the stream continues.
#[derive(Debug)]
#[non_exhaustive]
pub enum StreamError {
    /// The engine failed: invalid subscription options (cursor, batch) or a failed adapter read.
    Engine(Error),
    /// The subscriber fell behind retention: `skipped` events were evicted before it read
    /// them. The stream continues with the oldest event still retained.
    Lagged {
        /// Number of events lost to retention.
        skipped: u64,
    },
    /// Typed subscriptions only: the event's payload does not deserialize into the requested
    /// type. The stream continues with the next event.
    Decode {
        /// The event that did not decode.
        event: EventItem,
        /// What serde reported.
        source: serde_json::Error,
    },
}

impl From<Error> for StreamError {
    fn from(e: Error) -> Self {
        StreamError::Engine(e)
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Engine(e) => e.fmt(f),
            StreamError::Lagged { skipped } => {
                write!(f, "subscriber lagged: {skipped} events were evicted unread")
            }
            StreamError::Decode { event, source } => write!(
                f,
                "event at shard {} position {} does not decode: {source}",
                event.shard(),
                event.position()
            ),
        }
    }
}

impl std::error::Error for StreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StreamError::Engine(e) => Some(e),
            StreamError::Lagged { .. } => None,
            StreamError::Decode { source, .. } => Some(source),
        }
    }
}

/// A push subscription: a [`Stream`] of `Result<EventItem, StreamError>`.
///
/// The stream waits (without polling) until the engine stores new events. It ends once the
/// node has shut down and every remaining event was yielded.
///
/// # Lag
///
/// A subscriber that falls behind the adapter's retention gets an explicit
/// `Err(StreamError::Lagged { skipped })` item, after which the stream continues with the
/// oldest retained event (the same design as `tokio_stream::wrappers::BroadcastStream`). So the
/// usual `event?` makes loss fail loudly, and a consumer that tolerates loss matches it and
/// keeps reading:
///
/// ```
/// # use futures::StreamExt;
/// # use net_sdk::{Net, StreamError};
/// # futures::executor::block_on(async {
/// # let node = Net::builder().build().await?;
/// # let mut stream = node.subscribe(Default::default());
/// # node.emit_str("1")?;
/// # node.shutdown().await?;
/// while let Some(item) = stream.next().await {
///     match item {
///         Ok(event) => println!("{}", event.raw_str()),
///         Err(StreamError::Lagged { skipped }) => eprintln!("missed {skipped} events"),
///         Err(e) => return Err(e.into()),
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct Subscription {
    state: State,
}

enum State {
    Open(net::Subscription),
    /// Opening failed; the error is yielded once, then the stream ends.
    Failed(Option<Error>),
}

impl Subscription {
    pub(crate) fn new(opened: Result<net::Subscription>) -> Self {
        let state = match opened {
            Ok(sub) => State::Open(sub),
            Err(e) => State::Failed(Some(e)),
        };
        Subscription { state }
    }

    /// The cursor after the last item yielded, to resume with [`crate::PollRequest::cursor`] or
    /// [`crate::SubscribeFrom::Cursor`]; `None` if the subscription failed to open.
    pub fn cursor(&self) -> Option<String> {
        match &self.state {
            State::Open(sub) => Some(sub.cursor()),
            State::Failed(_) => None,
        }
    }

    /// Turns this into a subscription that deserializes each event into `T`.
    pub fn into_typed<T: DeserializeOwned>(self) -> TypedSubscription<T> {
        TypedSubscription {
            inner: self,
            _type: PhantomData,
        }
    }
}

impl Stream for Subscription {
    type Item = Result<EventItem, StreamError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match &mut self.state {
            State::Failed(error) => Poll::Ready(error.take().map(|e| Err(e.into()))),
            State::Open(sub) => Pin::new(sub).poll_next(cx).map(|next| {
                next.map(|item| match item? {
                    SubscriptionItem::Event(stored) => Ok(EventItem(stored)),
                    SubscriptionItem::Lagged { skipped } => Err(StreamError::Lagged { skipped }),
                })
            }),
        }
    }
}

impl FusedStream for Subscription {
    fn is_terminated(&self) -> bool {
        match &self.state {
            State::Open(sub) => sub.is_ended(),
            State::Failed(error) => error.is_none(),
        }
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("cursor", &self.cursor())
            .field("terminated", &self.is_terminated())
            .finish()
    }
}

/// A subscription that deserializes each event: a [`Stream`] of `Result<T, StreamError>`.
///
/// An event that does not decode into `T` yields [`StreamError::Decode`] (carrying the event)
/// and the stream continues. Otherwise it behaves exactly like [`Subscription`].
pub struct TypedSubscription<T> {
    inner: Subscription,
    _type: PhantomData<fn() -> T>,
}

impl<T> TypedSubscription<T> {
    /// See [`Subscription::cursor`].
    pub fn cursor(&self) -> Option<String> {
        self.inner.cursor()
    }

    /// The untyped subscription underneath.
    pub fn into_inner(self) -> Subscription {
        self.inner
    }
}

impl<T: DeserializeOwned> Stream for TypedSubscription<T> {
    type Item = Result<T, StreamError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx).map(|next| {
            next.map(|item| {
                let event = item?;
                serde_json::from_slice(event.raw())
                    .map_err(|source| StreamError::Decode { event, source })
            })
        })
    }
}

impl<T: DeserializeOwned> FusedStream for TypedSubscription<T> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<T> fmt::Debug for TypedSubscription<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedSubscription")
            .field("type", &std::any::type_name::<T>())
            .field("inner", &self.inner)
            .finish()
    }
}
