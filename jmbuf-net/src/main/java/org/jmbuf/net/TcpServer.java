package org.jmbuf.net;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.BindException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.IpAddress;

/**
 * A listening socket for any thread (platform or virtual), in the manner of {@link java.net.ServerSocket}:
 * the blocking face of a {@link TcpListener}, handing out {@link TcpStream}s.
 *
 * <pre>{@code
 * try (TcpServer server = TcpServer.listen(host, loop, 7, 64)) {
 *     while (true) {
 *         TcpStream s = server.accept();
 *         Thread.startVirtualThread(() -> { try (s) { s.getInputStream().transferTo(s.getOutputStream()); }
 *                                         catch (IOException e) { } });
 *     }
 * }
 * }</pre>
 *
 * <h2>Threads</h2>
 * The listener lives on the stack's thread and is touched only there, through the {@link Executor} given at
 * creation (see {@link TcpStream}). {@link #accept} waits on a {@link Condition} that the listener's
 * {@link TcpListener#onAcceptable} callback signals; it takes a connection off the accept queue only when a
 * caller is waiting for one, so the listener's backlog keeps its meaning. Any number of threads may accept
 * at once; each connection goes to one of them.
 *
 * <h2>Failures</h2>
 * {@link BindException} if the address and port are taken, {@link SocketTimeoutException} when an accept
 * timeout passes (the server stays usable), {@link SocketException} "Socket is closed" after
 * {@link #close()} (also for threads blocked in {@link #accept}), {@link InterruptedIOException} if the
 * waiting thread is interrupted.
 */
public final class TcpServer implements AutoCloseable {
    private final Executor stack;
    private final MbufPool pool;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final int port;

    // Guarded by lock.
    private final ArrayDeque<TcpStream> ready = new ArrayDeque<>();
    private boolean acceptable; // the listener said a connection may be waiting
    private boolean acceptScheduled;
    private int waiting; // threads in accept
    private boolean closed;
    private IOException stackFailure;

    // The stack's thread only.
    private TcpListener listener;

    private TcpServer(Executor stack, MbufPool pool, int port) {
        this.stack = stack;
        this.pool = pool;
        this.port = port;
    }

    /**
     * Listens on {@code port} of every address of both families of {@code host}, whose stack runs on
     * {@code stackThread}, with at most {@code backlog} established connections waiting for
     * {@link #accept}.
     *
     * @throws BindException            if the port is taken
     * @throws SocketException          if the stack's thread does not take the request (closed, or no answer
     *                                  within 30 seconds)
     * @throws IllegalArgumentException if the port or backlog is out of range
     */
    public static TcpServer listen(Host host, Executor stackThread, int port, int backlog) throws IOException {
        return listen(host, stackThread, null, port, backlog);
    }

    /**
     * Listens on {@code port} of {@code address} only (the family's wildcard for every address of the family;
     * null for both families). See {@link #listen(Host, Executor, int, int)}.
     */
    public static TcpServer listen(Host host, Executor stackThread, IpAddress address, int port, int backlog)
            throws IOException {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(stackThread, "stackThread");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be in [1, 65535]: " + port);
        }
        if (backlog < 1) {
            throw new IllegalArgumentException("backlog must be positive: " + backlog);
        }
        TcpServer server = new TcpServer(stackThread, host.pool(), port);
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            stackThread.execute(() -> {
                try {
                    TcpListener l = host.tcp().listen(address, port, backlog);
                    server.listener = l;
                    l.onAcceptable(x -> server.acceptable());
                    done.complete(null);
                } catch (RuntimeException e) {
                    done.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException | IllegalStateException e) {
            throw (SocketException) new SocketException("the stack's thread is not running: " + e.getMessage())
                    .initCause(e);
        }
        try {
            done.get(TcpStream.STACK_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IllegalStateException) {
                throw (BindException) new BindException("Address already in use: port " + port).initCause(e.getCause());
            }
            if (e.getCause() instanceof IllegalArgumentException iae) {
                throw iae;
            }
            throw new SocketException("listen failed: " + e.getCause());
        } catch (TimeoutException e) {
            throw new SocketException("the stack's thread did not answer in " + TcpStream.STACK_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while starting to listen on port " + port);
        }
        return server;
    }

    /** The port listened on. */
    public int port() {
        return port;
    }

    /** The listener says a connection is ready; on the stack's thread. */
    private void acceptable() {
        lock.lock();
        try {
            acceptable = true;
            if (waiting > ready.size() && !acceptScheduled) {
                acceptScheduled = true;
                schedule();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Takes as many connections as threads wait for; on the stack's thread. */
    private void takeConnections() {
        int wanted;
        lock.lock();
        try {
            acceptScheduled = false;
            wanted = closed ? 0 : waiting - ready.size();
        } finally {
            lock.unlock();
        }
        if (listener == null) {
            return;
        }
        for (int i = 0; i < wanted; i++) {
            TcpConnection c = listener.accept();
            if (c == null) {
                break;
            }
            TcpStream s = TcpStream.accepted(c, stack, pool);
            lock.lock();
            try {
                if (closed) {
                    s.close();
                } else {
                    ready.add(s);
                }
            } finally {
                lock.unlock();
            }
        }
        lock.lock();
        try {
            acceptable = listener.pending() > 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Schedules {@link #takeConnections()}; holds the lock. */
    private void schedule() {
        try {
            stack.execute(() -> {
                try {
                    takeConnections();
                } catch (RuntimeException | Error e) {
                    failed(new SocketException("the stack's thread failed: " + e), e);
                }
            });
        } catch (RejectedExecutionException | IllegalStateException e) {
            failed(new SocketException("the stack's thread is not running: " + e.getMessage()), e);
        }
    }

    private void failed(SocketException e, Throwable cause) {
        e.initCause(cause);
        lock.lock();
        try {
            if (stackFailure == null) {
                stackFailure = e;
            }
            acceptScheduled = false;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** {@link #accept(Duration)} without a timeout. */
    public TcpStream accept() throws IOException {
        return accept(null);
    }

    /**
     * Waits up to {@code timeout} (null: for ever) for an established connection and returns it as a stream,
     * the caller's to close. Data the peer sent before the accept is waiting in it.
     *
     * @throws SocketTimeoutException if the timeout passed first (the server stays usable)
     * @throws SocketException        if the server is closed, or the stack's thread is not running
     */
    public TcpStream accept(Duration timeout) throws IOException {
        long deadline = timeout == null || timeout.isZero() ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            waiting++;
            boolean first = true;
            try {
                while (true) {
                    if (closed) {
                        throw new SocketException("Socket is closed");
                    }
                    TcpStream s = ready.poll();
                    if (s != null) {
                        return s;
                    }
                    if (stackFailure != null) {
                        throw stackFailure;
                    }
                    if (!acceptScheduled && (first || acceptable)) {
                        // a connection the listener announced before anyone waited may be there
                        acceptScheduled = true;
                        schedule();
                    }
                    first = false;
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new SocketTimeoutException("Accept timed out");
                    }
                    try {
                        if (deadline == Long.MAX_VALUE) {
                            changed.await();
                        } else {
                            changed.awaitNanos(left);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted while accepting on port " + port);
                    }
                }
            } finally {
                waiting--;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops listening: the port is free again once the stack's thread has run the close, connections not yet
     * accepted are reset ({@link TcpListener#close()}), streams taken for accepters that left are closed, and
     * threads blocked in {@link #accept} get "Socket is closed". Returns at once. Idempotent.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            stack.execute(() -> {
                if (listener != null) {
                    listener.close();
                }
                closeReady();
            });
        } catch (RejectedExecutionException | IllegalStateException e) {
            closeReady(); // the stack has stopped: its host's close already reset the connections
        }
    }

    private void closeReady() {
        lock.lock();
        try {
            TcpStream s;
            while ((s = ready.poll()) != null) {
                s.close();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "TcpServer[port " + port + "]";
    }
}
