//! Runs DataLoader batches inside the request's own task.
//!
//! With `tokio::spawn` and no delay, a batch task may start on the other worker thread while the
//! resolvers of a list are still enqueuing keys, which splits one batch into many (N+1 again).
//! Here the loader's tasks are queued and polled by a [`Driver`] that the handler runs next to
//! `schema.execute`, always after it: every resolver of a level has enqueued its key before the
//! batch starts, with no timer and no guesswork.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::task::AtomicWaker;

#[derive(Default)]
struct Shared {
    queue: Mutex<Vec<BoxFuture<'static, ()>>>,
    waker: AtomicWaker,
}

/// Hands loader tasks to the [`Driver`].
#[derive(Clone)]
pub struct Spawner(Arc<Shared>);

impl Spawner {
    pub fn spawn(&self, task: BoxFuture<'static, ()>) {
        self.0.queue.lock().unwrap_or_else(|e| e.into_inner()).push(task);
        self.0.waker.wake();
    }
}

/// Polls the queued loader tasks; never finishes on its own (drop it with the request).
pub struct Driver {
    shared: Arc<Shared>,
    running: FuturesUnordered<BoxFuture<'static, ()>>,
}

pub fn pair() -> (Spawner, Driver) {
    let shared = Arc::new(Shared::default());
    (
        Spawner(shared.clone()),
        Driver {
            shared,
            running: FuturesUnordered::new(),
        },
    )
}

impl Future for Driver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.shared.waker.register(cx.waker());
        loop {
            let queued: Vec<_> = std::mem::take(&mut *self.shared.queue.lock().unwrap_or_else(|e| e.into_inner()));
            self.running.extend(queued);
            while let Poll::Ready(Some(())) = self.running.poll_next_unpin(cx) {}
            // A task may have queued another while being polled: take it in this same turn.
            if self.shared.queue.lock().unwrap_or_else(|e| e.into_inner()).is_empty() {
                return Poll::Pending;
            }
        }
    }
}

/// Wakes the task and remembers that it was woken.
struct FlagWaker {
    flag: AtomicBool,
    inner: Waker,
}

impl Wake for FlagWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.flag.store(true, Ordering::SeqCst);
        self.inner.wake_by_ref();
    }
}

/// `fut` with the driver beside it. The driver runs only when `fut` is truly waiting: if `fut`
/// yielded and asked to be polled again (a long list yields part-way through its items), its
/// remaining resolvers get their turn first, so they all join the batch.
pub struct RunWith<F: Future> {
    fut: Pin<Box<F>>,
    driver: Driver,
}

pub fn run_with<F: Future>(fut: F, driver: Driver) -> RunWith<F> {
    RunWith {
        fut: Box::pin(fut),
        driver,
    }
}

impl<F: Future> Future for RunWith<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let flag = Arc::new(FlagWaker {
            flag: AtomicBool::new(false),
            inner: cx.waker().clone(),
        });
        let waker = Waker::from(flag.clone());
        if let Poll::Ready(out) = self.fut.as_mut().poll(&mut Context::from_waker(&waker)) {
            return Poll::Ready(out);
        }
        if flag.flag.load(Ordering::SeqCst) {
            // Already woken: we will be polled again before any batch starts.
            return Poll::Pending;
        }
        let _ = Pin::new(&mut self.driver).poll(cx);
        Poll::Pending
    }
}

/// [`RunWith`] for a stream (a subscription): each item is resolved with the driver beside it.
pub struct DriveStream<S> {
    stream: Pin<Box<S>>,
    driver: Driver,
}

pub fn drive_stream<S: futures_util::Stream>(stream: S, driver: Driver) -> DriveStream<S> {
    DriveStream {
        stream: Box::pin(stream),
        driver,
    }
}

impl<S: futures_util::Stream> futures_util::Stream for DriveStream<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let flag = Arc::new(FlagWaker {
            flag: AtomicBool::new(false),
            inner: cx.waker().clone(),
        });
        let waker = Waker::from(flag.clone());
        if let Poll::Ready(item) = self.stream.as_mut().poll_next(&mut Context::from_waker(&waker)) {
            return Poll::Ready(item);
        }
        if flag.flag.load(Ordering::SeqCst) {
            return Poll::Pending;
        }
        let _ = Pin::new(&mut self.driver).poll(cx);
        Poll::Pending
    }
}
