package org.jmbuf.io;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.net.Counter;
import org.jmbuf.net.Counters;
import org.jmbuf.net.Host;
import org.jmbuf.net.TcpConnection;
import org.jmbuf.net.TcpListener;
import org.jmbuf.net.TcpState;

/**
 * The TCP echo service (RFC 862) on the non-blocking API: every byte a client sends comes back to it, and
 * when the client shuts its output down (FIN), the service closes its side once everything has been echoed.
 *
 * <h2>What is copied, what is shared</h2>
 * Nothing is copied: received data is taken out of the connection as the chain it arrived in
 * ({@link TcpConnection#receive(int)}, the frame's own cluster with its headers trimmed off) and appended to
 * the send buffer as it is ({@link TcpConnection#send(Mbuf)}); retransmissions share the same storage.
 *
 * <h2>Flow control</h2>
 * The service takes from the receive side only as much as the send buffer has room for. When the send
 * buffer is full it stops reading, so the receive buffer fills, the advertised window closes and the client
 * is slowed down; it resumes when the connection reports room ({@code writable}).
 *
 * <h2>Threads</h2>
 * Everything runs on the host's thread: {@link #start}, {@link #close}, {@link #counters} and
 * {@link #activeConnections} are to be called there (through {@code TapLink.call}, say); not thread-safe.
 */
public final class EchoService implements AutoCloseable {
    /** The service's events. */
    public enum EchoCounter implements Counter {
        CONNECTIONS("connections accepted"),
        BYTES_ECHOED("bytes echoed"),
        CHAINS_ECHOED("received chains sent back without a copy"),
        SEND_BUFFER_FULL("times reading paused: the send buffer was full"),
        NO_BUFFERS("times echoing paused: no buffer to split a chain"),
        CLOSED("connections closed in order (by the service once the client was done, or on close)"),
        FAILED("connections that ended with a reset, a timeout or an abort before the service closed them");

        private final String description;

        EchoCounter(String description) {
            this.description = description;
        }

        @Override
        public String description() {
            return description;
        }
    }

    private final TcpListener listener;
    private final Counters<EchoCounter> counters = new Counters<>("echo", EchoCounter.class);
    private final Set<TcpConnection> sessions = new LinkedHashSet<>();
    private boolean closed;

    private EchoService(TcpListener listener) {
        this.listener = listener;
    }

    /**
     * Starts the service on {@code port} of every address of {@code host} (both families), with an accept
     * backlog of {@code backlog}. On the host's thread.
     *
     * @throws IllegalStateException if the port is taken
     */
    public static EchoService start(Host host, int port, int backlog) {
        Objects.requireNonNull(host, "host");
        EchoService service = new EchoService(host.tcp().listen(port, backlog));
        service.listener.onAcceptable(l -> service.acceptAll());
        return service;
    }

    /** The port the service listens on. */
    public int port() {
        return listener.port();
    }

    /** The service's counters; on the host's thread. */
    public Counters<EchoCounter> counters() {
        return counters;
    }

    /**
     * Connections the service still serves: not yet closed by the service (after which they finish their
     * close, TIME_WAIT included, on their own) nor ended by the client.
     */
    public int activeConnections() {
        return sessions.size();
    }

    /** The service is done with {@code c}: counts it once, as closed in order or as failed. */
    private void retire(TcpConnection c, boolean failed) {
        if (sessions.remove(c)) {
            counters.increment(failed ? EchoCounter.FAILED : EchoCounter.CLOSED);
        }
    }

    private void acceptAll() {
        for (TcpConnection c = listener.accept(); c != null; c = listener.accept()) {
            if (closed) {
                c.abort();
                c.close();
                continue;
            }
            counters.increment(EchoCounter.CONNECTIONS);
            sessions.add(c);
            Session session = new Session();
            c.setHandler(session);
            session.pump(c); // data may have arrived before the accept
        }
    }

    private final class Session implements TcpConnection.Handler {
        private boolean finishing;

        @Override
        public void readable(TcpConnection c) {
            pump(c);
        }

        @Override
        public void writable(TcpConnection c) {
            pump(c);
        }

        /** Moves what the send buffer has room for from the receive side to the send side; closes at the end. */
        void pump(TcpConnection c) {
            if (c.state() == TcpState.CLOSED) {
                return;
            }
            while (c.readableBytes() > 0) {
                int room = c.writableBytes();
                if (room == 0) {
                    counters.increment(EchoCounter.SEND_BUFFER_FULL); // resumed by writable()
                    return;
                }
                Mbuf m;
                try {
                    m = c.receive(room);
                } catch (NoBufferSpaceException e) {
                    counters.increment(EchoCounter.NO_BUFFERS); // retried at the next event
                    return;
                }
                if (m == null) {
                    break;
                }
                int n = m.length();
                if (!c.send(m)) { // cannot happen: n <= room
                    m.free();
                    c.abort();
                    return;
                }
                counters.add(EchoCounter.BYTES_ECHOED, n);
                counters.increment(EchoCounter.CHAINS_ECHOED);
                if (c.state() == TcpState.CLOSED) {
                    return;
                }
            }
            if (c.isEndOfStream() && c.state() != TcpState.CLOSED && !finishing) {
                finishing = true;
                c.close(); // everything echoed and the client is done: our FIN follows the data
                retire(c, false);
            }
        }

        @Override
        public void closed(TcpConnection c) {
            retire(c, c.failure() != null);
            c.close(); // frees anything still queued for reading
        }
    }

    /**
     * Stops listening and closes every connection (in order: each FIN follows the data already queued, or a
     * reset where data was left unread). On the host's thread. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        listener.close();
        for (TcpConnection c : new ArrayList<>(sessions)) {
            c.close();
            retire(c, false);
        }
    }
}
