//! The native half of @syncstate-ts/transport-rustls: accepts TCP connections,
//! terminates TLS with rustls and reads one request frame (`u32 BE length +
//! payload`) per connection on a tokio thread pool, then hands the payload to
//! JavaScript and writes back whatever answer JavaScript gives. The protocol
//! itself stays in TypeScript (ProtocolHandler of @syncstate-ts/server).
//!
//! Why: with one connection per request (the protocol's rule), Node 20's TLS
//! handshake on its main thread costs more than all the protocol work; here
//! the handshakes run in parallel and the main thread sees one call per request.
//!
//! The defences mirror packages/server/src/connection.ts: the length prefix is
//! checked before anything is buffered, bodies are buffered only as they arrive
//! against a byte budget shared by all connections, and every phase is timed
//! (handshake, request, idle, drain).

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{
    ErrorStrategy, ThreadSafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::{Env, JsFunction, JsUndefined, Task};
use napi_derive::napi;
use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
use std::collections::HashMap;
use std::io::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::time::{timeout, timeout_at, Instant};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Response writes go out in pieces of this size, each with its own drain timeout.
const WRITE_CHUNK: usize = 64 * 1024;
const READ_CHUNK: usize = 16 * 1024;
/// Requests up to this size are copied into a JavaScript Buffer (cheaper than
/// wrapping the native memory, which needs a finalizer); larger ones are wrapped.
const SMALL_PAYLOAD: usize = 4 * 1024;
/// Answers up to this size are encrypted and sent by `respond` itself, on the JavaScript thread.
const DIRECT_WRITE_MAX: usize = 256 * 1024;

#[napi(object)]
pub struct ListenOptions {
    pub host: String,
    pub port: u32,
    /// PEM: the certificate chain, leaf first.
    pub cert: Buffer,
    /// PEM: PKCS#8, PKCS#1 or SEC1 private key, unencrypted.
    pub key: Buffer,
    /// The TLS versions offered (node:tls `minVersion`/`maxVersion`); at least one.
    pub tls12: bool,
    pub tls13: bool,
    pub max_frame_size: f64,
    /// Infinity allowed.
    pub max_buffered_request_bytes: f64,
    /// Infinity allowed.
    pub max_connections: f64,
    pub handshake_timeout_ms: f64,
    pub request_timeout_ms: f64,
    pub idle_timeout_ms: f64,
    pub drain_timeout_ms: f64,
    /// TLS worker threads; default: the machine's cores.
    pub threads: Option<u32>,
    /// SO_REUSEPORT: several processes listen on one port and the kernel spreads connections over them.
    pub reuse_port: Option<bool>,
}

/// Failure codes, named as ServerErrorCode of @syncstate-ts/server.
#[derive(Clone, Copy)]
enum Failure {
    FrameTooLarge,
    MemoryBudget,
    HandshakeTimeout,
    RequestTimeout,
    IdleTimeout,
    DrainTimeout,
    ConnectionClosed,
    SocketError,
    TlsError,
    ServerClosed,
}
const FAILURE_COUNT: usize = 10;
const FAILURE_CODES: [&str; FAILURE_COUNT] = [
    "frame-too-large",
    "memory-budget",
    "handshake-timeout",
    "request-timeout",
    "idle-timeout",
    "drain-timeout",
    "connection-closed",
    "socket-error",
    "tls-error",
    "server-closed",
];

#[napi(object)]
pub struct FailureCount {
    pub code: String,
    pub count: f64,
}

#[napi(object)]
pub struct TransportStats {
    pub active_connections: f64,
    pub total_connections: f64,
    pub rejected_connections: f64,
    pub bytes_in: f64,
    pub bytes_out: f64,
    pub failures: Vec<FailureCount>,
}

struct Request {
    id: u32,
    payload: Vec<u8>,
    peer: SocketAddr,
}

type Tls = tokio_rustls::server::TlsStream<TcpStream>;

/// What `respond` did with JavaScript's answer.
enum Answer {
    /// No answer: close.
    None,
    /// The frame and close_notify are queued in the TLS session (and mostly sent already): flush the rest.
    Queued,
    /// Write this frame (too large to queue at once).
    Frame(Vec<u8>),
}

/// A request with JavaScript: the connection waits here, so that `respond`
/// can write a small answer at once from the JavaScript thread, sparing the
/// client the wait for a TLS thread to wake up.
struct Pending {
    stream: Tls,
    done: oneshot::Sender<(Answer, Tls)>,
}

struct Limits {
    max_frame_size: u64,
    max_buffered: u64,
    max_connections: u64,
    handshake: Duration,
    request: Duration,
    idle: Duration,
    drain: Duration,
}

struct Shared {
    limits: Limits,
    /// Handshakes and request reads stop when cancelled; answers in progress finish.
    closing: CancellationToken,
    tasks: TaskTracker,
    on_request: Mutex<Option<ThreadsafeFunction<Request, ErrorStrategy::Fatal>>>,
    pending: Mutex<HashMap<u32, Pending>>,
    next_id: AtomicU32,
    buffered: AtomicU64,
    active: AtomicU64,
    total: AtomicU64,
    rejected: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    failures: [AtomicU64; FAILURE_COUNT],
}

impl Shared {
    fn fail(&self, failure: Failure) {
        self.failures[failure as usize].fetch_add(1, Relaxed);
    }

    /// Takes `n` bytes of the shared request budget if they fit.
    fn reserve(&self, n: u64) -> bool {
        let limit = self.limits.max_buffered;
        self.buffered
            .fetch_update(Relaxed, Relaxed, |used| {
                used.checked_add(n).filter(|&t| t <= limit)
            })
            .is_ok()
    }

    fn release(&self, n: u64) {
        self.buffered.fetch_sub(n, Relaxed);
    }
}

#[napi]
pub struct RustlsListener {
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
    address: SocketAddr,
}

#[napi]
impl RustlsListener {
    /// Binds at once (bind errors throw here) and starts accepting.
    /// `onRequest(id, payload, peer)` must eventually be followed by `respond(id, answer | null)`.
    #[napi(constructor)]
    pub fn new(options: ListenOptions, on_request: JsFunction) -> Result<Self> {
        let tls = Arc::new(server_config(
            &options.cert,
            &options.key,
            options.tls12,
            options.tls13,
        )?);
        let limits = Limits {
            max_frame_size: options.max_frame_size as u64,
            max_buffered: saturating_u64(options.max_buffered_request_bytes),
            max_connections: saturating_u64(options.max_connections),
            handshake: millis(options.handshake_timeout_ms),
            request: millis(options.request_timeout_ms),
            idle: millis(options.idle_timeout_ms),
            drain: millis(options.drain_timeout_ms),
        };
        let callback: ThreadsafeFunction<Request, ErrorStrategy::Fatal> = on_request
            .create_threadsafe_function(0, |ctx: ThreadSafeCallContext<Request>| {
                let Request { id, payload, peer } = ctx.value;
                Ok(vec![
                    ctx.env.create_uint32(id)?.into_unknown(),
                    if payload.len() <= SMALL_PAYLOAD {
                        ctx.env
                            .create_buffer_copy(&payload)?
                            .into_raw()
                            .into_unknown()
                    } else {
                        ctx.env
                            .create_buffer_with_data(payload)?
                            .into_raw()
                            .into_unknown()
                    },
                    ctx.env.create_string(&peer.to_string())?.into_unknown(),
                ])
            })?;

        let mut builder = tokio::runtime::Builder::new_multi_thread();
        if let Some(threads) = options.threads.filter(|&t| t > 0) {
            builder.worker_threads(threads as usize);
        }
        let runtime = builder
            .thread_name("syncstate-tls")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| Error::from_reason(format!("cannot start the TLS thread pool: {e}")))?;

        let addr = (options.host.as_str(), options.port as u16)
            .to_socket_addrs()
            .map_err(|e| Error::from_reason(format!("cannot resolve {}: {e}", options.host)))?
            .next()
            .ok_or_else(|| {
                Error::from_reason(format!("{} resolves to no address", options.host))
            })?;
        let std_listener = bind(addr, options.reuse_port.unwrap_or(false))
            .map_err(|e| Error::from_reason(format!("listen {addr}: {e}")))?;
        std_listener.set_nonblocking(true)?;
        let address = std_listener.local_addr()?;
        let listener = {
            let _guard = runtime.enter();
            TcpListener::from_std(std_listener)?
        };

        let shared = Arc::new(Shared {
            limits,
            closing: CancellationToken::new(),
            tasks: TaskTracker::new(),
            on_request: Mutex::new(Some(callback)),
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicU32::new(1),
            buffered: AtomicU64::new(0),
            active: AtomicU64::new(0),
            total: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            failures: Default::default(),
        });
        runtime.spawn(accept_loop(
            listener,
            TlsAcceptor::from(tls),
            shared.clone(),
        ));
        Ok(Self {
            shared,
            runtime: Some(runtime),
            address,
        })
    }

    #[napi(getter)]
    pub fn port(&self) -> u32 {
        self.address.port() as u32
    }

    #[napi(getter)]
    pub fn host(&self) -> String {
        self.address.ip().to_string()
    }

    #[napi(getter)]
    pub fn family(&self) -> String {
        if self.address.is_ipv4() {
            "IPv4"
        } else {
            "IPv6"
        }
        .to_string()
    }

    /// The answer to request `id`: its payload (framed here), or null to close without answering.
    #[napi]
    pub fn respond(&self, id: u32, answer: Option<Buffer>) {
        let Some(Pending { mut stream, done }) = self.shared.pending.lock().unwrap().remove(&id)
        else {
            return;
        };
        let answer = match answer {
            None => Answer::None,
            Some(payload) => {
                let mut frame = Vec::with_capacity(4 + payload.len());
                frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
                frame.extend_from_slice(&payload);
                self.shared.bytes_out.fetch_add(frame.len() as u64, Relaxed);
                if frame.len() <= DIRECT_WRITE_MAX && write_now(&mut stream, &frame) {
                    Answer::Queued
                } else {
                    Answer::Frame(frame)
                }
            }
        };
        let _ = done.send((answer, stream));
    }

    #[napi]
    pub fn stats(&self) -> TransportStats {
        let s = &self.shared;
        TransportStats {
            active_connections: s.active.load(Relaxed) as f64,
            total_connections: s.total.load(Relaxed) as f64,
            rejected_connections: s.rejected.load(Relaxed) as f64,
            bytes_in: s.bytes_in.load(Relaxed) as f64,
            bytes_out: s.bytes_out.load(Relaxed) as f64,
            failures: FAILURE_CODES
                .iter()
                .zip(&s.failures)
                .map(|(code, n)| FailureCount {
                    code: code.to_string(),
                    count: n.load(Relaxed) as f64,
                })
                .collect(),
        }
    }

    /// Stops accepting, cuts off handshakes and incomplete requests, lets
    /// answers in progress finish (requests still with JavaScript wait for
    /// `respond`), then stops the threads. Idempotent.
    #[napi]
    pub fn close(&mut self) -> AsyncTask<CloseTask> {
        self.shared.closing.cancel();
        self.shared.tasks.close();
        AsyncTask::new(CloseTask {
            shared: self.shared.clone(),
            runtime: self.runtime.take(),
        })
    }
}

pub struct CloseTask {
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Task for CloseTask {
    type Output = ();
    type JsValue = JsUndefined;

    fn compute(&mut self) -> Result<()> {
        if let Some(runtime) = self.runtime.take() {
            let tasks = self.shared.tasks.clone();
            runtime.block_on(tasks.wait());
            runtime.shutdown_background();
        } else {
            // A second close(): wait for the first one's connections too.
            while !self.shared.tasks.is_empty() {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        Ok(())
    }

    fn resolve(&mut self, env: Env, _: ()) -> Result<JsUndefined> {
        // Releasing the callback lets Node's event loop end once nothing else holds it.
        drop(self.shared.on_request.lock().unwrap().take());
        env.get_undefined()
    }
}

fn server_config(
    cert: &[u8],
    key: &[u8],
    tls12: bool,
    tls13: bool,
) -> Result<rustls::ServerConfig> {
    let chain = CertificateDer::pem_slice_iter(cert)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::from_reason(format!("tls.cert is not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(Error::from_reason("tls.cert holds no PEM certificate"));
    }
    let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| {
        Error::from_reason(format!(
            "tls.key is not an unencrypted PEM private key: {e}"
        ))
    })?;
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = [
        (tls13, &rustls::version::TLS13),
        (tls12, &rustls::version::TLS12),
    ]
    .into_iter()
    .filter_map(|(on, version)| on.then_some(version))
    .collect();
    let mut config =
        rustls::ServerConfig::builder_with_provider(Arc::new(provider_preferring_sha256()))
            .with_protocol_versions(&versions)
            .map_err(|e| Error::from_reason(format!("TLS versions: {e}")))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| {
                Error::from_reason(format!(
                    "tls.cert and tls.key do not form a usable pair: {e}"
                ))
            })?;
    config.ignore_client_order = true;
    Ok(config)
}

/// rustls' default suites (aws-lc-rs), those hashing with SHA-256 first (AES-128-GCM, then
/// ChaCha20), then the SHA-384 ones. Clients list AES-256-GCM-SHA384 first, but SHA-256 runs on
/// the CPU's SHA instructions and aws-lc's SHA-384 often does not: most of the hashing in a
/// handshake (transcript, key schedule, tickets) gets several times cheaper.
fn provider_preferring_sha256() -> rustls::crypto::CryptoProvider {
    use rustls::crypto::hash::HashAlgorithm;
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.cipher_suites.sort_by_key(|suite| {
        let hash = match suite {
            rustls::SupportedCipherSuite::Tls12(s) => s.common.hash_provider.algorithm(),
            rustls::SupportedCipherSuite::Tls13(s) => s.common.hash_provider.algorithm(),
        };
        hash != HashAlgorithm::SHA256
    });
    provider
}

fn millis(ms: f64) -> Duration {
    Duration::from_secs_f64(ms.max(0.0) / 1000.0)
}

fn saturating_u64(n: f64) -> u64 {
    if n.is_finite() {
        n as u64
    } else {
        u64::MAX
    }
}

/// A listening socket as std's TcpListener::bind makes it (SO_REUSEADDR on
/// Unix, backlog 128), plus SO_REUSEPORT when asked.
fn bind(addr: SocketAddr, reuse_port: bool) -> std::io::Result<std::net::TcpListener> {
    let socket = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
    #[cfg(unix)]
    {
        socket.set_reuse_address(true)?;
        if reuse_port {
            socket.set_reuse_port(true)?;
        }
    }
    #[cfg(not(unix))]
    if reuse_port {
        return Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "SO_REUSEPORT is a Unix socket option"));
    }
    socket.bind(&addr.into())?;
    socket.listen(128)?;
    Ok(socket.into())
}

async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    loop {
        let accepted = tokio::select! {
            _ = shared.closing.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                if shared.active.load(Relaxed) >= shared.limits.max_connections {
                    shared.rejected.fetch_add(1, Relaxed);
                    continue; // dropping the stream closes it
                }
                shared.active.fetch_add(1, Relaxed);
                shared.total.fetch_add(1, Relaxed);
                let _ = stream.set_nodelay(true);
                let (acceptor, task_shared) = (acceptor.clone(), shared.clone());
                shared.tasks.spawn(async move {
                    if let Err(failure) = serve(stream, peer, acceptor, &task_shared).await {
                        task_shared.fail(failure);
                    }
                    task_shared.active.fetch_sub(1, Relaxed);
                });
            }
            // Out of file descriptors and the like: pause instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// One connection: handshake, one request frame, its answer, close.
async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    shared: &Shared,
) -> std::result::Result<(), Failure> {
    let limits = &shared.limits;
    let mut tls = tokio::select! {
        _ = shared.closing.cancelled() => return Err(Failure::ServerClosed),
        handshake = timeout(limits.handshake, acceptor.accept(stream)) => match handshake {
            Err(_) => return Err(Failure::HandshakeTimeout),
            Ok(Err(_)) => return Err(Failure::TlsError),
            Ok(Ok(tls)) => tls,
        },
    };

    // The handshake ended with our data (tickets, or the server Finished) sent right after
    // the peer's: Linux now delays its ACKs. See quick_ack.
    quick_ack(tls.get_ref().0);
    let payload = read_frame(&mut tls, shared).await?;
    let reserved = payload.len() as u64;
    let answered = ask_javascript(shared, payload, peer, tls).await;
    shared.release(reserved);
    // None: the listener closed before JavaScript answered; dropping the stream closed it.
    let Some((answer, mut tls)) = answered else {
        return Ok(());
    };

    // Each step has the drain timeout: a peer that stops accepting answer bytes is cut off.
    match answer {
        Answer::None => {}
        Answer::Queued => draining(limits.drain, tls.flush()).await?,
        Answer::Frame(frame) => {
            for chunk in frame.chunks(WRITE_CHUNK) {
                draining(limits.drain, tls.write_all(chunk)).await?;
            }
            draining(limits.drain, tls.flush()).await?;
        }
    }
    // close_notify and FIN, then a bounded wait for the peer to close, discarding what it sends.
    let _ = timeout(limits.drain, async {
        let _ = tls.shutdown().await;
        let mut sink = [0u8; 1024];
        while matches!(tls.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
    Ok(())
}

async fn draining(
    limit: Duration,
    write: impl std::future::Future<Output = std::io::Result<()>>,
) -> std::result::Result<(), Failure> {
    match timeout(limit, write).await {
        Err(_) => Err(Failure::DrainTimeout),
        Ok(Err(_)) => Err(Failure::ConnectionClosed),
        Ok(Ok(())) => Ok(()),
    }
}

/// Makes the kernel acknowledge what the peer sends at once, and sends an
/// acknowledgement it was holding back.
///
/// The crate's `TcpStateRemote` leaves Nagle's algorithm on and writes a
/// request in two `write` calls (length, then body: docs/protocol.md, "The
/// clients"). Its body waits until our side acknowledges the length. Linux
/// delays that acknowledgement by 40 ms once it has seen us answer quickly (its
/// "pingpong" mode, which the handshake turns on), and this server sends nothing
/// while it waits for the body: every request would stall 40 ms. TCP_QUICKACK
/// leaves that mode until we send again, so it is set again before every read.
/// Elsewhere than Linux: nothing to do here.
fn quick_ack(tcp: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = socket2::SockRef::from(tcp).set_tcp_quickack(true);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = tcp;
}

/// `quick_ack` for a socket Node owns (node:tls connections): `fd` is its descriptor.
#[napi]
pub fn set_tcp_quick_ack(fd: i32) -> Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::fd::BorrowedFd;
        if fd < 0 {
            return Err(Error::from_reason("not an open socket"));
        }
        // SAFETY: the descriptor stays open for this call: Node's socket holds it.
        let socket = unsafe { BorrowedFd::borrow_raw(fd) };
        socket2::SockRef::from(&socket)
            .set_tcp_quickack(true)
            .map_err(|e| Error::from_reason(format!("TCP_QUICKACK: {e}")))?;
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = fd;
    Ok(())
}

/// Reads `u32 BE length + payload` within the request and idle timeouts, buffering against the shared budget.
async fn read_frame(stream: &mut Tls, shared: &Shared) -> std::result::Result<Vec<u8>, Failure> {
    let limits = &shared.limits;
    let deadline = Instant::now() + limits.request;
    let mut header = [0u8; 4];
    let mut have = 0;
    while have < 4 {
        have += read_some(stream, &mut header[have..], deadline, shared).await?;
    }
    let length = u32::from_be_bytes(header) as u64;
    if length > limits.max_frame_size {
        return Err(Failure::FrameTooLarge);
    }
    let mut payload = Vec::new();
    let mut chunk = [0u8; READ_CHUNK];
    let result = async {
        while (payload.len() as u64) < length {
            let want = (length - payload.len() as u64).min(READ_CHUNK as u64) as usize;
            let n = read_some(stream, &mut chunk[..want], deadline, shared).await?;
            if !shared.reserve(n as u64) {
                return Err(Failure::MemoryBudget);
            }
            payload.extend_from_slice(&chunk[..n]);
        }
        Ok(())
    }
    .await;
    if let Err(failure) = result {
        shared.release(payload.len() as u64);
        return Err(failure);
    }
    Ok(payload)
}

/// One read of at least one byte, or the failure that ends the request.
async fn read_some(
    stream: &mut Tls,
    buf: &mut [u8],
    deadline: Instant,
    shared: &Shared,
) -> std::result::Result<usize, Failure> {
    quick_ack(stream.get_ref().0);
    let idle_deadline = Instant::now() + shared.limits.idle;
    let until = deadline.min(idle_deadline);
    let n = tokio::select! {
        _ = shared.closing.cancelled() => return Err(Failure::ServerClosed),
        read = timeout_at(until, stream.read(buf)) => match read {
            Err(_) if until == deadline => return Err(Failure::RequestTimeout),
            Err(_) => return Err(Failure::IdleTimeout),
            Ok(Err(_)) => return Err(Failure::SocketError),
            Ok(Ok(0)) => return Err(Failure::ConnectionClosed),
            Ok(Ok(n)) => n,
        },
    };
    shared.bytes_in.fetch_add(n as u64, Relaxed);
    Ok(n)
}

/// Hands the payload to JavaScript and waits for `respond(id, ...)`; the
/// stream waits with the request, and comes back with what respond did.
async fn ask_javascript(
    shared: &Shared,
    payload: Vec<u8>,
    peer: SocketAddr,
    stream: Tls,
) -> Option<(Answer, Tls)> {
    let id = shared.next_id.fetch_add(1, Relaxed);
    let (done, receiver) = oneshot::channel();
    shared
        .pending
        .lock()
        .unwrap()
        .insert(id, Pending { stream, done });
    let called = match shared.on_request.lock().unwrap().as_ref() {
        Some(callback) => {
            callback.call(
                Request { id, payload, peer },
                ThreadsafeFunctionCallMode::NonBlocking,
            ) == Status::Ok
        }
        None => false,
    };
    if !called {
        shared.pending.lock().unwrap().remove(&id);
        return None;
    }
    receiver.await.ok()
}

/// Encrypts `frame` and close_notify into the session and sends as much as
/// the socket takes without blocking; false (nothing queued) if the session
/// cannot take it now. Runs on the JavaScript thread: never waits.
fn write_now(stream: &mut Tls, frame: &[u8]) -> bool {
    let (tcp, session) = stream.get_mut();
    // The frame is bounded (DIRECT_WRITE_MAX), so the session may hold all of it.
    session.set_buffer_limit(None);
    if session.writer().write_all(frame).is_err() {
        return false;
    }
    session.send_close_notify();
    let mut socket = NonBlocking(tcp);
    while session.wants_write() {
        if session.write_tls(&mut socket).is_err() {
            break; // would block (or failed): the connection's task flushes the rest, or sees the error
        }
    }
    true
}

/// `io::Write` over a tokio socket that never waits: WouldBlock instead.
struct NonBlocking<'a>(&'a TcpStream);

impl std::io::Write for NonBlocking<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.try_write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
