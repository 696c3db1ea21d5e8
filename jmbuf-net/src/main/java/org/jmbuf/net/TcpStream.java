package org.jmbuf.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.wire.IpAddress;
import org.jmbuf.wire.Ipv4Address;

/**
 * A connected TCP stream for any thread (platform or virtual): the blocking face of a {@link TcpConnection},
 * in the manner of {@link java.net.Socket}. Made by {@link #connect} or {@link TcpServer#accept}.
 *
 * <pre>{@code
 * try (TcpStream s = TcpStream.connect(host, loop, "192.0.2.1", 80, Duration.ofSeconds(5))) {
 *     s.setReadTimeout(Duration.ofSeconds(10));
 *     s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
 *     s.shutdownOutput();
 *     byte[] page = s.getInputStream().readAllBytes();
 * }
 * }</pre>
 *
 * <h2>Threads</h2>
 * The connection lives on the stack's thread, and is touched only there: every call on it runs through the
 * {@link Executor} given at creation (a {@link HostLoop}, or jmbuf-io's {@code TapLink}), which must run tasks
 * one at a time, in submission order, on the thread that owns the host. A calling thread that must wait (for
 * data, for room, for the handshake) waits on a {@link Condition} that the connection's
 * {@link TcpConnection.Handler} signals from the stack's thread: no polling and no busy waiting, and a
 * virtual thread that waits unmounts from its carrier. Every method of the stream and of its streams may be
 * called from any thread; concurrent readers (or writers) are served one at a time, but interleave their
 * data at no defined boundary. Never call a blocking method on the stack's thread itself: it would wait for
 * work that only that thread can do.
 *
 * <h2>What is copied, what is shared</h2>
 * Exactly one copy each way, as with a kernel socket. Writing copies the caller's bytes into pool storage on
 * the calling thread ({@link MbufPool#devget}); the chain then joins the connection's send buffer without
 * another copy ({@link TcpConnection#send}). On the way in, the stack's thread takes received chains out of
 * the connection without copying ({@link TcpConnection#receive}) into this stream's inbox, and reading
 * copies them into the caller's array on the calling thread and frees them. The inbox holds at most
 * {@link #BUFFER_LIMIT} bytes and the outbox (written, not yet in the send buffer) as much, so a stream
 * buffers up to that much beyond the connection's own buffers; flow control reaches the peer when they are
 * full.
 *
 * <h2>Failures</h2>
 * Methods throw {@link IOException}s, as sockets do: {@link ConnectException} when a connection attempt is
 * refused or times out, {@link SocketException} "Connection reset" after a reset, "Connection timed out"
 * when retransmissions went unanswered, "Connection aborted" when this side aborted it (or its host closed),
 * "Socket closed" after {@link #close()}, {@link SocketTimeoutException} when a read, write or connect
 * timeout passes (the stream stays usable after a read or write timeout), and
 * {@link InterruptedIOException} if the waiting thread is interrupted (its interrupt status set again).
 */
public final class TcpStream implements AutoCloseable {
    /** The most bytes the stream holds in its inbox and in its outbox: 64 KiB each. */
    public static final int BUFFER_LIMIT = 64 * 1024;
    /** How long {@link TcpServer#listen} and {@link #connect} wait at most for the stack's thread to answer. */
    static final Duration STACK_TIMEOUT = Duration.ofSeconds(30);

    private final Executor stack;
    private final MbufPool pool;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Input input = new Input();
    private final Output output = new Output();

    // Guarded by lock.
    private final ArrayDeque<Mbuf> inbox = new ArrayDeque<>();
    /** The byte {@link #readByte} reads into; used under {@link #lock}. */
    private final byte[] oneByte = new byte[1];
    private int inboxBytes;
    private final ArrayDeque<Mbuf> outbox = new ArrayDeque<>();
    private int outboxBytes; // bytes queued in the outbox and reserved by writers copying
    private boolean established;
    private boolean endOfStream; // the peer's FIN reached the inbox
    private boolean connectionClosed; // the connection reached CLOSED
    private TcpConnection.Failure failure;
    private IOException stackFailure;
    private boolean userClosed;
    private boolean outputShut;
    private boolean inputShut;
    private boolean pullScheduled;
    private boolean pullWanted; // the connection holds data the inbox had no room for
    private boolean flushScheduled;
    private long readTimeoutNanos;
    private long writeTimeoutNanos;
    private String localText = "?";
    private String remoteText = "?";

    // The stack's thread only.
    private TcpConnection connection;
    private boolean shutdownRequested;
    private boolean closeRequested;
    private boolean shutdownDone;
    private boolean closeDone;

    private TcpStream(Executor stack, MbufPool pool) {
        this.stack = stack;
        this.pool = pool;
    }

    // ================================================================== opening

    /**
     * Opens a connection to {@code address} port {@code port} from {@code host}, whose stack runs on
     * {@code stackThread}, and waits up to {@code timeout} (null: as long as TCP tries) for the handshake.
     * A link-local IPv6 address must carry its zone embedded ({@link Ipv6Scope#parse} then
     * {@link Ipv6Scope.Zoned#embedded()}), or use {@link #connect(Host, Executor, String, int, Duration)}.
     *
     * @throws ConnectException        if the peer refused (a reset) or did not answer its SYNs
     * @throws NoRouteToHostException  if the host has no route or source address for {@code address}
     * @throws SocketTimeoutException  if {@code timeout} passed first (the attempt is aborted)
     * @throws InterruptedIOException  if the calling thread was interrupted (the attempt is aborted)
     * @throws SocketException         if the stack's thread refuses work (closed) or throws
     * @throws IllegalArgumentException if the port is out of range
     */
    public static TcpStream connect(Host host, Executor stackThread, IpAddress address, int port, Duration timeout)
            throws IOException {
        Objects.requireNonNull(address, "address");
        return connect(host, stackThread, h -> address, address.toString(), port, timeout);
    }

    /**
     * {@link #connect(Host, Executor, IpAddress, int, Duration)} to an address in text: IPv4
     * ({@code 192.0.2.1}), IPv6 ({@code 2001:db8::1}, brackets allowed), or link-local IPv6 with a zone that
     * names an interface of {@code host} or its index ({@code fe80::1%eth0}, RFC 4007 §11). Names are not
     * resolved.
     *
     * @throws UnknownHostException if {@code address} is not an address, or its zone is unknown
     */
    public static TcpStream connect(Host host, Executor stackThread, String address, int port, Duration timeout)
            throws IOException {
        Objects.requireNonNull(address, "address");
        return connect(host, stackThread, h -> parse(h, address), address, port, timeout);
    }

    /** Parses an address on the stack's thread (zones name the host's interfaces). */
    static IpAddress parse(Host host, String text) {
        String t = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        return t.indexOf(':') >= 0 ? Ipv6Scope.parse(host, t).embedded() : Ipv4Address.parse(t);
    }

    private interface Resolver {
        IpAddress resolve(Host host);
    }

    private static TcpStream connect(Host host, Executor stackThread, Resolver resolver, String text, int port,
            Duration timeout) throws IOException {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(stackThread, "stackThread");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be in [1, 65535]: " + port);
        }
        TcpStream s = new TcpStream(stackThread, host.pool());
        long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + positive(timeout);
        IOException[] setupFailure = new IOException[1];
        s.onStack(() -> {
            IpAddress address;
            try {
                address = resolver.resolve(host);
            } catch (IllegalArgumentException e) {
                UnknownHostException u = new UnknownHostException(text + ": " + e.getMessage());
                s.failSetup(u, setupFailure);
                return;
            }
            TcpConnection c;
            try {
                c = host.tcp().connect(address, port);
            } catch (IllegalStateException e) {
                NoRouteToHostException n = new NoRouteToHostException(e.getMessage());
                s.failSetup(n, setupFailure);
                return;
            }
            s.attach(c, false);
        });
        s.lock.lock();
        try {
            while (true) {
                if (setupFailure[0] != null) {
                    throw setupFailure[0];
                }
                if (s.stackFailure != null) {
                    throw s.stackFailure;
                }
                if (s.established) {
                    return s;
                }
                if (s.connectionClosed) {
                    TcpConnection.Failure f = s.failure;
                    s.releaseQuietly();
                    throw switch (f == null ? TcpConnection.Failure.ABORTED : f) {
                        case REFUSED -> new ConnectException("Connection refused: " + text + " port " + port);
                        case TIMED_OUT -> new ConnectException("Connection timed out: " + text + " port " + port);
                        case RESET -> new ConnectException("Connection reset: " + text + " port " + port);
                        case ABORTED -> new SocketException("Connection aborted: " + text + " port " + port);
                    };
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    s.releaseQuietly();
                    throw new SocketTimeoutException("Connect timed out: " + text + " port " + port);
                }
                try {
                    s.changed.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    s.releaseQuietly();
                    throw new InterruptedIOException("interrupted while connecting to " + text + " port " + port);
                }
            }
        } finally {
            s.lock.unlock();
        }
    }

    private void failSetup(IOException e, IOException[] slot) {
        lock.lock();
        try {
            slot[0] = e;
            connectionClosed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** After a failed or abandoned connect: aborts the attempt and frees what it holds. Holds the lock. */
    private void releaseQuietly() {
        userClosed = true;
        freeAll(inbox);
        inboxBytes = 0;
        onStack(() -> {
            if (connection != null) {
                connection.abort();
                connection.close();
            }
            freeOutbox();
        });
    }

    /** A stream for a connection just accepted; on the stack's thread. */
    static TcpStream accepted(TcpConnection c, Executor stackThread, MbufPool pool) {
        TcpStream s = new TcpStream(stackThread, pool);
        s.attach(c, true);
        return s;
    }

    /** Takes over {@code c}'s events; on the stack's thread. */
    private void attach(TcpConnection c, boolean accepted) {
        connection = c;
        lock.lock();
        try {
            localText = AddressText.of(c.localAddress(), c.localPort(), c.zone());
            remoteText = AddressText.of(c.remoteAddress(), c.remotePort(), c.zone());
            if (accepted) {
                established = true;
            }
        } finally {
            lock.unlock();
        }
        c.setHandler(new Events());
        if (accepted) {
            pull(c); // data may have arrived before the accept
            if (c.state() == TcpState.CLOSED) {
                closed(c);
            }
        }
    }

    /** Text for address and port: {@code 192.0.2.1:80}, {@code [2001:db8::1]:80}, {@code [fe80::1%eth0]:80}. */
    private static final class AddressText {
        static String of(IpAddress a, int port, NetworkInterface zone) {
            return a instanceof Ipv4Address ? a + ":" + port
                    : "[" + a + (zone == null ? "" : "%" + zone.name()) + "]:" + port;
        }
    }

    // ================================================================== the stack's side

    /** The connection's events, on the stack's thread. */
    private final class Events implements TcpConnection.Handler {
        @Override
        public void connected(TcpConnection c) {
            lock.lock();
            try {
                established = true;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void readable(TcpConnection c) {
            pull(c);
        }

        @Override
        public void writable(TcpConnection c) {
            flush(c);
        }

        @Override
        public void closed(TcpConnection c) {
            TcpStream.this.closed(c);
        }
    }

    private void closed(TcpConnection c) {
        pull(c);
        lock.lock();
        try {
            connectionClosed = true;
            failure = c.failure();
            freeAll(outbox); // nothing can send it any more
            outboxBytes = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (closeDone || userClosed()) {
            c.close(); // frees anything left in the connection's receive queue
        }
    }

    private boolean userClosed() {
        lock.lock();
        try {
            return userClosed;
        } finally {
            lock.unlock();
        }
    }

    /** Moves received chains from the connection into the inbox, as far as it has room; on the stack's thread. */
    private void pull(TcpConnection c) {
        boolean discard;
        int room;
        lock.lock();
        try {
            pullScheduled = false;
            discard = userClosed || inputShut;
            room = BUFFER_LIMIT - inboxBytes;
        } finally {
            lock.unlock();
        }
        if (discard) {
            boolean data = false;
            for (Mbuf m = c.receive(Integer.MAX_VALUE); m != null; m = c.receive(Integer.MAX_VALUE)) {
                m.free();
                data = true;
            }
            if (data && userClosed()) {
                c.abort(); // data after close: reset (RFC 1122 §4.2.2.13)
            }
            return;
        }
        ArrayDeque<Mbuf> taken = new ArrayDeque<>();
        int bytes = 0;
        try {
            while (bytes < room) {
                Mbuf m = c.receive(room - bytes);
                if (m == null) {
                    break;
                }
                bytes += m.length();
                taken.add(m);
            }
        } catch (NoBufferSpaceException e) {
            // splitting the queue needs a segment: take the rest when the reader next makes room
        }
        boolean more = c.readableBytes() > 0;
        // the end of the stream is the peer's FIN; a connection that failed reports its failure instead
        boolean end = !more && c.isEndOfStream() && c.failure() == null;
        lock.lock();
        try {
            if (userClosed || inputShut) {
                freeAll(taken);
            } else {
                inbox.addAll(taken);
                inboxBytes += bytes;
            }
            pullWanted = more;
            if (end) {
                endOfStream = true;
            }
            if (more && (bytes > 0 || room <= 0) && !pullScheduled && inboxBytes <= BUFFER_LIMIT / 2 && !userClosed
                    && !inputShut) {
                pullScheduled = true; // a reader emptied the inbox while we were taking: take more
                onStack(() -> pull(c));
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Moves chains from the outbox into the connection's send buffer, as far as it has room, then carries out
     * a shutdown or close the user asked for once the outbox is empty; on the stack's thread.
     */
    private void flush(TcpConnection c) {
        boolean empty;
        while (true) {
            int room = c.writableBytes();
            Mbuf next;
            lock.lock();
            try {
                flushScheduled = false;
                next = outbox.peek();
                if (next == null || room == 0) {
                    empty = next == null;
                    break;
                }
                outbox.poll();
                if (next.length() > room) {
                    try {
                        Mbuf rest = next.split(room);
                        outbox.addFirst(rest);
                    } catch (NoBufferSpaceException e) {
                        outbox.addFirst(next);
                        empty = false;
                        break; // retried on the next writable event
                    }
                }
                outboxBytes -= next.length();
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            int n = next.length();
            boolean sent;
            try {
                sent = c.send(next);
            } catch (IllegalStateException e) {
                sent = false;
            }
            if (!sent) {
                next.free(); // the connection can no longer send: the close event reports why
                lock.lock();
                try {
                    freeAll(outbox);
                    outboxBytes = 0;
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
                empty = true;
                break;
            }
            assert n > 0;
        }
        if (empty && c.state() != TcpState.CLOSED) {
            if (shutdownRequested && !shutdownDone) {
                shutdownDone = true;
                c.shutdownOutput();
            }
            if (closeRequested && !closeDone) {
                closeDone = true;
                c.close();
            }
        } else if (empty && closeRequested && !closeDone) {
            closeDone = true;
            c.close();
        }
    }

    /** Frees the outbox; on the stack's thread (or after it stopped). */
    private void freeOutbox() {
        lock.lock();
        try {
            freeAll(outbox);
            outboxBytes = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private static void freeAll(ArrayDeque<Mbuf> chains) {
        Mbuf m;
        while ((m = chains.poll()) != null) {
            m.free();
        }
    }

    /**
     * Runs {@code task} on the stack's thread; returns false (recording why, waking waiters) if the executor
     * refuses it. A task that throws is recorded the same way and does not reach the executor.
     */
    private boolean onStack(Runnable task) {
        try {
            stack.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException | Error e) {
                    stackFailed(new SocketException("the stack's thread failed: " + e), e);
                }
            });
            return true;
        } catch (RejectedExecutionException | IllegalStateException e) {
            stackFailed(new SocketException("the stack's thread is not running: " + e.getMessage()), e);
            return false;
        }
    }

    private void stackFailed(SocketException e, Throwable cause) {
        e.initCause(cause);
        lock.lock();
        try {
            if (stackFailure == null) {
                stackFailure = e;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ================================================================== the user's side

    /**
     * Reads up to {@code len} bytes into {@code b}, waiting up to the read timeout for at least one. Returns
     * how many (at least 1), or -1 at the end of the stream (the peer shut its output down and everything it
     * sent has been read). Data that arrived before a reset is read first; then the reset is thrown.
     *
     * @throws SocketTimeoutException if the read timeout passed with nothing to read (the stream stays usable)
     * @throws SocketException        if the connection was reset, timed out or aborted, or this stream closed
     */
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        lock.lock();
        try {
            long deadline = readTimeoutNanos == 0 ? Long.MAX_VALUE : System.nanoTime() + readTimeoutNanos;
            while (true) {
                if (userClosed) {
                    throw new SocketException("Socket closed");
                }
                if (inputShut) {
                    return -1;
                }
                if (inboxBytes > 0) {
                    return take(b, off, len);
                }
                if (endOfStream) {
                    return -1;
                }
                if (connectionClosed) {
                    if (failure != null) {
                        throw failureException("read");
                    }
                    return -1;
                }
                if (stackFailure != null) {
                    throw stackFailure;
                }
                await(deadline, "Read timed out");
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@link InputStream#read()}: one byte as {@link #read(byte[], int, int)} reads it, 0 to 255, or -1 at the
     * end of the stream, read into {@link #oneByte} instead of an array made per byte. The lock is held
     * around the call: {@code read} takes it again and may wait with it released, but it fills the byte and
     * this method takes it out with no wait in between, so concurrent readers never see each other's byte.
     */
    private int readByte() throws IOException {
        lock.lock();
        try {
            int n = read(oneByte, 0, 1);
            return n < 0 ? -1 : oneByte[0] & 0xff;
        } finally {
            lock.unlock();
        }
    }

    /** Copies from the inbox into {@code b}; holds the lock. */
    private int take(byte[] b, int off, int len) {
        int done = 0;
        while (done < len && !inbox.isEmpty()) {
            Mbuf head = inbox.peek();
            int n = Math.min(len - done, head.length());
            head.copyData(0, n, b, off + done);
            if (n == head.length()) {
                inbox.poll().free();
            } else {
                head.adj(n);
            }
            done += n;
        }
        inboxBytes -= done;
        if (pullWanted && !pullScheduled && inboxBytes <= BUFFER_LIMIT / 2) {
            pullScheduled = true;
            onStack(() -> pull(connection));
        }
        return done;
    }

    /** Bytes that {@link #read} returns without waiting (what the inbox holds). */
    public int available() {
        lock.lock();
        try {
            return userClosed ? 0 : inboxBytes;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Writes all of {@code len} bytes of {@code b}: copies them into pool storage on this thread and queues
     * them for the connection, waiting up to the write timeout whenever the outbox is full. Returns when the
     * last byte is queued, not when it is sent or acknowledged.
     *
     * @throws SocketTimeoutException if the write timeout passed while the outbox was full; some of the bytes
     *                                may have been queued (the stream stays usable)
     * @throws SocketException        if output is shut down, the stream closed, or the connection failed;
     *                                "No buffer space available" if the pool refuses storage
     */
    public void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        MemorySegment source = MemorySegment.ofArray(b);
        while (len > 0) {
            int n;
            lock.lock();
            try {
                long deadline = writeTimeoutNanos == 0 ? Long.MAX_VALUE : System.nanoTime() + writeTimeoutNanos;
                while (true) {
                    checkWritable();
                    if (outboxBytes < BUFFER_LIMIT) {
                        break;
                    }
                    await(deadline, "Write timed out");
                }
                n = Math.min(len, BUFFER_LIMIT - outboxBytes);
                outboxBytes += n; // reserved while we copy
            } finally {
                lock.unlock();
            }
            Mbuf m;
            try {
                m = pool.devget(source.asSlice(off, n));
            } catch (NoBufferSpaceException e) {
                lock.lock();
                try {
                    outboxBytes -= n;
                } finally {
                    lock.unlock();
                }
                SocketException s = new SocketException("No buffer space available");
                s.initCause(e);
                throw s;
            }
            boolean schedule;
            lock.lock();
            try {
                if (userClosed || outputShut || connectionClosed || stackFailure != null) {
                    outboxBytes -= n;
                    m.free();
                    checkWritable();
                    throw new SocketException("Socket closed");
                }
                outbox.add(m);
                schedule = !flushScheduled;
                flushScheduled = true;
            } finally {
                lock.unlock();
            }
            if (schedule) {
                onStack(() -> flush(connection));
            }
            off += n;
            len -= n;
        }
    }

    /** Throws why writing is impossible, if it is; holds the lock. */
    private void checkWritable() throws IOException {
        if (userClosed) {
            throw new SocketException("Socket closed");
        }
        if (outputShut) {
            throw new SocketException("Socket output is shutdown");
        }
        if (connectionClosed) {
            throw failure != null ? failureException("write") : new SocketException("Socket closed");
        }
        if (stackFailure != null) {
            throw stackFailure;
        }
    }

    /**
     * Waits up to the write timeout until everything written has moved into the connection's send buffer
     * (not until the peer has it).
     *
     * @throws SocketTimeoutException if the write timeout passed first
     * @throws SocketException        if the connection failed or the stream closed
     */
    public void flush() throws IOException {
        lock.lock();
        try {
            long deadline = writeTimeoutNanos == 0 ? Long.MAX_VALUE : System.nanoTime() + writeTimeoutNanos;
            while (outboxBytes > 0) {
                if (userClosed) {
                    throw new SocketException("Socket closed");
                }
                if (connectionClosed || stackFailure != null) {
                    checkWritable();
                }
                await(deadline, "Flush timed out");
            }
        } finally {
            lock.unlock();
        }
    }

    /** Waits until signalled or {@code deadline}; holds the lock. */
    private void await(long deadline, String timeoutMessage) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException(timeoutMessage);
        }
        try {
            if (deadline == Long.MAX_VALUE) {
                changed.await();
            } else {
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted: " + timeoutMessage.replace(" timed out", "")
                    .toLowerCase(java.util.Locale.ROOT));
        }
    }

    private SocketException failureException(String what) {
        return new SocketException(switch (failure) {
            case RESET -> "Connection reset";
            case TIMED_OUT -> "Connection timed out";
            case REFUSED -> "Connection refused";
            case ABORTED -> "Connection aborted";
        });
    }

    /**
     * Half-closes: the peer gets a FIN once everything written so far has been sent; reading goes on.
     * Returns at once; later writes throw. Harmless if already shut down.
     *
     * @throws SocketException if the stream is closed
     */
    public void shutdownOutput() throws IOException {
        lock.lock();
        try {
            if (userClosed) {
                throw new SocketException("Socket closed");
            }
            if (outputShut) {
                return;
            }
            outputShut = true;
        } finally {
            lock.unlock();
        }
        onStack(() -> {
            shutdownRequested = true;
            flush(connection);
        });
    }

    /**
     * Stops reading: what is waiting and what arrives later is discarded, and reads return -1. The peer is
     * not told (TCP has no such message), but its data is still acknowledged.
     */
    public void shutdownInput() throws IOException {
        lock.lock();
        try {
            if (userClosed) {
                throw new SocketException("Socket closed");
            }
            if (inputShut) {
                return;
            }
            inputShut = true;
            freeAll(inbox);
            inboxBytes = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        onStack(() -> pull(connection));
    }

    /**
     * Closes the stream: everything written is still sent, followed by a FIN, and the connection finishes
     * its close on the stack's thread (as {@link TcpConnection#close()}); returns at once. If received data
     * was left unread (here or in the connection), or arrives afterwards, the connection is reset instead
     * (RFC 1122 §4.2.2.13), as a kernel does. Threads blocked in this stream's reads or writes get "Socket
     * closed". Idempotent.
     */
    @Override
    public void close() {
        boolean unread;
        lock.lock();
        try {
            if (userClosed) {
                return;
            }
            userClosed = true;
            unread = inboxBytes > 0;
            freeAll(inbox);
            inboxBytes = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        boolean queued = onStack(() -> {
            TcpConnection c = connection;
            if (c == null) {
                freeOutbox();
                return;
            }
            if (unread) {
                c.abort();
            }
            pull(c); // data still in the connection is discarded, and resets it
            closeRequested = true;
            shutdownRequested = true;
            flush(c);
        });
        if (!queued) {
            freeOutbox(); // the stack's thread has stopped: nothing else will touch the outbox
        }
    }

    /** Closes the connection at once with a reset ({@code SO_LINGER} 0), discarding what is queued either way. */
    public void abort() {
        lock.lock();
        try {
            userClosed = true;
            freeAll(inbox);
            inboxBytes = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        boolean queued = onStack(() -> {
            freeOutbox();
            if (connection != null) {
                connection.abort();
                connection.close();
            }
        });
        if (!queued) {
            freeOutbox();
        }
    }

    // ================================================================== settings and streams

    /** Sets how long reads wait for data; null or zero waits for ever (the default). */
    public void setReadTimeout(Duration timeout) {
        long nanos = timeout == null ? 0 : nonNegative(timeout);
        lock.lock();
        try {
            readTimeoutNanos = nanos;
        } finally {
            lock.unlock();
        }
    }

    /** Sets how long writes and flushes wait for room; null or zero waits for ever (the default). */
    public void setWriteTimeout(Duration timeout) {
        long nanos = timeout == null ? 0 : nonNegative(timeout);
        lock.lock();
        try {
            writeTimeoutNanos = nanos;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code action} on the connection on the stack's thread (to set options such as
     * {@link TcpConnection#setNoDelay}, or read its statistics); the action must not keep the connection.
     */
    public void configure(java.util.function.Consumer<TcpConnection> action) throws IOException {
        Objects.requireNonNull(action, "action");
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        if (!onStack(() -> {
            try {
                action.accept(connection);
                done.complete(null);
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            }
        })) {
            throw new SocketException("the stack's thread is not running");
        }
        try {
            done.get(STACK_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException(e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new SocketTimeoutException("the stack's thread did not answer");
        }
    }

    /** Whether {@link #close()} (or {@link #abort()}) was called. */
    public boolean isClosed() {
        lock.lock();
        try {
            return userClosed;
        } finally {
            lock.unlock();
        }
    }

    /** Our address and port, as {@code 192.0.2.2:49152} or {@code [2001:db8::2]:49152}. */
    public String localAddress() {
        lock.lock();
        try {
            return localText;
        } finally {
            lock.unlock();
        }
    }

    /** The peer's address and port, as {@link #localAddress()} writes them. */
    public String remoteAddress() {
        lock.lock();
        try {
            return remoteText;
        } finally {
            lock.unlock();
        }
    }

    /** The stream's input: {@link #read}, honouring the read timeout; closing it closes the stream. */
    public InputStream getInputStream() {
        return input;
    }

    /** The stream's output: {@link #write}, honouring the write timeout; closing it closes the stream. */
    public OutputStream getOutputStream() {
        return output;
    }

    private final class Input extends InputStream {
        @Override
        public int read() throws IOException {
            return readByte();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return TcpStream.this.read(b, off, len);
        }

        @Override
        public int available() {
            return TcpStream.this.available();
        }

        @Override
        public void close() {
            TcpStream.this.close();
        }
    }

    private final class Output extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            TcpStream.this.write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            TcpStream.this.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            TcpStream.this.flush();
        }

        @Override
        public void close() {
            TcpStream.this.close();
        }
    }

    private static long positive(Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + d);
        }
        return d.toNanos();
    }

    private static long nonNegative(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + d);
        }
        return d.toNanos();
    }

    @Override
    public String toString() {
        return "TcpStream[" + localAddress() + " -> " + remoteAddress() + "]";
    }
}
