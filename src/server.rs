//! The HTTP/1.1 server loop: hyper with the timeouts and the connection cap that `axum::serve`
//! does not have.
//!
//! - A client must send a request's headers within `--header-read-timeout-secs`.
//! - A connection with no request in flight and no bytes moved for `--idle-timeout-secs` is
//!   closed (after 1 s instead while the open connections are at 90% of the cap or more, so a
//!   flood of idle connections is shed and the server keeps accepting).
//! - At most `--max-connections` connections are open (WebSockets included, for their whole
//!   life), and never more than the process's file limit allows less a reserve for the database
//!   and files; a connection past the cap is closed at once.
//! - A response to a request whose body the handler did not read to its end says
//!   `Connection: close` (hyper closes such a connection, and a client that reused it would
//!   fail its next request).
//! - On shutdown the listener closes, idle connections close, requests in flight finish.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, header};
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tower::ServiceExt;

use crate::config::Config;

/// File descriptors kept for the database pool, the mail folder, logs and the listener.
const FD_RESERVE: usize = 256;

/// The limits of the server loop.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Limits {
    /// The limits a configuration asks for, the cap lowered to what the file limit allows.
    pub fn from_config(cfg: &Config) -> Limits {
        let max_connections = match raise_file_limit() {
            Some(files) => cfg.max_connections.min(files.saturating_sub(FD_RESERVE).max(16)),
            None => cfg.max_connections,
        };
        Limits {
            header_read_timeout: Duration::from_secs(cfg.header_read_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(cfg.idle_timeout_secs.max(1)),
            max_connections: max_connections.max(1),
        }
    }
}

/// Raises the soft limit of open files to the hard one; returns the soft limit in force.
#[cfg(unix)]
fn raise_file_limit() -> Option<usize> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct passed, nothing else.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    usize::try_from(lim.rlim_cur).ok()
}

#[cfg(not(unix))]
fn raise_file_limit() -> Option<usize> {
    None
}

/// What the watchdog of one connection reads: when bytes last moved and how many requests run.
#[derive(Default)]
struct Activity {
    /// Milliseconds since `epoch` at the last read or write.
    last: AtomicU64,
    in_flight: AtomicUsize,
}

/// A socket that notes its activity and holds its connection's place under the cap until it is
/// dropped (an upgraded WebSocket keeps it).
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
    epoch: Instant,
    _permit: OwnedSemaphorePermit,
}

impl Tracked {
    fn touch(&self) {
        self.activity
            .last
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

impl AsyncRead for Tracked {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.touch();
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A request body that says whether it was read to its end.
struct Watched {
    inner: Incoming,
    done: Arc<AtomicBool>,
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let r = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(r, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.done.store(true, Ordering::Release);
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// One request in flight on a connection, counted until dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn enter(a: &Arc<Activity>) -> InFlight {
        a.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(a.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    // Each connection task holds a sender; when all are gone the last connection has closed.
    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let http = Arc::new(http);
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            () = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of files or memory for a moment: wait a little instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::debug!(%addr, "connection refused: at --max-connections");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = Connection {
            router: router.clone(),
            http: http.clone(),
            limits,
            permits: permits.clone(),
            stop: stop_rx.clone(),
            _alive: alive_tx.clone(),
        };
        tokio::spawn(conn.run(stream, addr, permit));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(alive_tx);
    let _ = alive_rx.recv().await;
    Ok(())
}

struct Connection {
    router: Router,
    http: Arc<hyper::server::conn::http1::Builder>,
    limits: Limits,
    permits: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
}

impl Connection {
    async fn run(mut self, stream: TcpStream, addr: SocketAddr, permit: OwnedSemaphorePermit) {
        let activity = Arc::new(Activity::default());
        let epoch = Instant::now();
        let io = Tracked {
            inner: stream,
            activity: activity.clone(),
            epoch,
            _permit: permit,
        };
        let router = self.router.clone();
        let requests = activity.clone();
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let guard = InFlight::enter(&requests);
            let router = router.clone();
            async move {
                let (mut parts, body) = req.into_parts();
                parts.extensions.insert(ConnectInfo(addr));
                // Only a request with a body is watched (most have none: no allocation for them).
                let (body, done) = if body.is_end_stream() {
                    (Body::new(body), None)
                } else {
                    let done = Arc::new(AtomicBool::new(false));
                    let watched = Watched {
                        inner: body,
                        done: done.clone(),
                    };
                    (Body::new(watched), Some(done))
                };
                let mut res = router.oneshot(Request::from_parts(parts, body)).await?;
                if done.is_some_and(|d| !d.load(Ordering::Acquire)) {
                    res.headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                drop(guard);
                Ok::<_, std::convert::Infallible>(res)
            }
        });
        let conn = self.http.serve_connection(TokioIo::new(io), service).with_upgrades();
        tokio::pin!(conn);
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut closing = false;
        loop {
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    break;
                }
                _ = tick.tick(), if !closing => {
                    let idle_for = epoch.elapsed().saturating_sub(Duration::from_millis(activity.last.load(Ordering::Relaxed)));
                    let crowded = self.permits.available_permits() * 10 <= self.limits.max_connections;
                    let allowed = if crowded { Duration::from_secs(1) } else { self.limits.idle_timeout };
                    if activity.in_flight.load(Ordering::Acquire) == 0 && idle_for >= allowed {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
                r = self.stop.changed(), if !closing => {
                    if r.is_err() || *self.stop.borrow() {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
            }
        }
    }
}
