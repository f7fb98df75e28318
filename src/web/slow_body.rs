//! A minimum data rate for request bodies, so that a client trickling a body a few bytes at a
//! time (R.U.D.Y., slowhttptest `-B`) cannot hold a connection and a handler for hours.
//!
//! A body must have delivered `min_rate` bytes for every second after a grace period, and may
//! never pause longer than `idle`. A fast sender banks time, up to the idle limit; a slow one is
//! cut with an error that the handler sees as an unreadable body, and hyper closes the
//! connection because the body was not read to its end.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// How slow a request body may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyRate {
    /// Time the body may take before the rate is enforced (connection start-up, a slow first
    /// packet on a phone).
    pub grace: Duration,
    /// Bytes per second the body must average after the grace period.
    pub min_bytes_per_second: u64,
    /// The longest pause between two pieces of the body, however much came before.
    pub idle: Duration,
}

impl Default for BodyRate {
    fn default() -> BodyRate {
        BodyRate {
            grace: Duration::from_secs(10),
            min_bytes_per_second: 1024,
            idle: Duration::from_secs(60),
        }
    }
}

/// The error a cut body gives its reader.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived too slowly")]
pub struct TooSlow;

/// `inner`, cut with [`TooSlow`] when it falls below `rate`.
#[derive(Debug)]
pub struct MinRate<B> {
    inner: B,
    rate: BodyRate,
    started: Instant,
    received: u64,
    timer: Pin<Box<Sleep>>,
}

impl<B> MinRate<B> {
    pub fn new(inner: B, rate: BodyRate) -> MinRate<B> {
        let started = Instant::now();
        let mut guard = MinRate {
            inner,
            rate,
            started,
            received: 0,
            timer: Box::pin(tokio::time::sleep_until(started)),
        };
        let deadline = guard.deadline(started);
        guard.timer.as_mut().reset(deadline);
        guard
    }

    /// The moment the body is too slow unless more arrives: the earlier of the rate's limit
    /// and the idle limit from `now`.
    fn deadline(&self, now: Instant) -> Instant {
        let earned = self.received as f64 / self.rate.min_bytes_per_second.max(1) as f64;
        let by_rate = self.started + self.rate.grace + Duration::from_secs_f64(earned);
        by_rate.min(now + self.rate.idle)
    }
}

impl<B> Body for MinRate<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    let deadline = this.deadline(Instant::now());
                    this.timer.as_mut().reset(deadline);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(TooSlow)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    // Real time, kept short: 0.3 s of grace, 1,000 bytes a second, pauses of 0.5 s at most.
    fn rate() -> BodyRate {
        BodyRate {
            grace: Duration::from_millis(300),
            min_bytes_per_second: 1000,
            idle: Duration::from_millis(500),
        }
    }

    /// A body of `left` pieces of `size` bytes, one every `every`.
    struct Trickle {
        left: usize,
        size: usize,
        every: Duration,
        next: Pin<Box<Sleep>>,
    }

    fn trickle(left: usize, size: usize, every: Duration) -> Trickle {
        Trickle {
            left,
            size,
            every,
            next: Box::pin(tokio::time::sleep(every)),
        }
    }

    impl Body for Trickle {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if self.left == 0 {
                return Poll::Ready(None);
            }
            if self.next.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.left -= 1;
            let every = self.every;
            self.next.as_mut().reset(Instant::now() + every);
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'a'; self.size])))))
        }
    }

    async fn read(body: Trickle) -> Result<(usize, Duration), (String, Duration)> {
        let started = Instant::now();
        match MinRate::new(body, rate()).collect().await {
            Ok(all) => Ok((all.to_bytes().len(), started.elapsed())),
            Err(e) => Err((e.to_string(), started.elapsed())),
        }
    }

    #[tokio::test]
    async fn a_body_that_keeps_the_rate_is_read_whole() {
        let (len, _) = read(trickle(10, 150, Duration::from_millis(100)))
            .await
            .unwrap();
        assert_eq!(len, 1500);
    }

    #[tokio::test]
    async fn a_slow_start_within_the_grace_period_is_allowed() {
        let (len, _) = read(trickle(1, 500, Duration::from_millis(150)))
            .await
            .unwrap();
        assert_eq!(len, 500);
    }

    #[tokio::test]
    async fn a_trickle_below_the_rate_is_cut_once_the_grace_and_its_earned_time_run_out() {
        // 100 bytes a second against 1,000 required: 0.3 s of grace plus 0.01 s per piece.
        let (message, after) = read(trickle(1000, 10, Duration::from_millis(100)))
            .await
            .unwrap_err();
        assert_eq!(message, "the request body arrived too slowly");
        assert!(
            after >= Duration::from_millis(300) && after < Duration::from_secs(2),
            "{after:?}"
        );
    }

    #[tokio::test]
    async fn a_fast_body_that_then_stalls_is_cut_after_the_idle_limit() {
        // 100 KB banks 100 s of rate, but a pause is still limited to 0.5 s.
        let mut body = trickle(2, 100_000, Duration::from_secs(30));
        body.next = Box::pin(tokio::time::sleep(Duration::from_millis(50)));
        let (message, after) = read(body).await.unwrap_err();
        assert_eq!(message, "the request body arrived too slowly");
        assert!(
            after >= Duration::from_millis(500) && after < Duration::from_secs(3),
            "{after:?}"
        );
    }
}
