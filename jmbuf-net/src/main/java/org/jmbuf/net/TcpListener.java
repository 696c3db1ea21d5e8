package org.jmbuf.net;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.jmbuf.wire.IpAddress;
import org.jmbuf.wire.TcpHeader;

/**
 * A listening socket ({@code so_qlen}/{@code so_q0}, the LISTEN state of RFC 9293): takes SYNs for its
 * address and port, keeps up to {@link TcpSettings#synBacklog()} half-open connections (beyond that,
 * SYN cookies or drops), and queues up to its backlog of established connections for {@link #accept()}.
 * When the accept queue is full, new SYNs are dropped (the peer retries) and connections completing
 * their handshake are reset. Runs on the host's thread; not thread-safe.
 */
public final class TcpListener implements AutoCloseable {
    private final Tcp tcp;
    private final IpAddress[] addresses;
    private final int port;
    private final int backlog;
    private final List<TcpConnection> halfOpen = new ArrayList<>();
    private final ArrayDeque<TcpConnection> acceptQueue = new ArrayDeque<>();
    private Consumer<TcpListener> onAcceptable = l -> { };
    private boolean closed;
    /** Whether this listener ever answered with a SYN cookie: only then is a stray ACK a rejected cookie. */
    private boolean cookiesSent;

    TcpListener(Tcp tcp, IpAddress[] addresses, int port, int backlog) {
        this.tcp = tcp;
        this.addresses = addresses.clone();
        this.port = port;
        this.backlog = backlog;
    }

    public int port() {
        return port;
    }

    IpAddress[] addresses() {
        return addresses;
    }

    /** Established connections waiting for {@link #accept()}. */
    public int pending() {
        return acceptQueue.size();
    }

    /** Connections still in their handshake. */
    public int halfOpen() {
        return halfOpen.size();
    }

    /** Sets what runs (on the host's thread) when a connection becomes ready to accept. */
    public void onAcceptable(Consumer<TcpListener> callback) {
        this.onAcceptable = Objects.requireNonNull(callback, "callback");
    }

    /**
     * {@code PRU_ACCEPT}: the next established connection, or null if none is waiting. The connection is
     * the caller's: it sets its handler and closes it. Data that arrived before it was accepted is waiting
     * in it.
     */
    public TcpConnection accept() {
        TcpConnection c = acceptQueue.poll();
        if (c != null) {
            c.listener = null;
            tcp.counters().increment(Tcp.TcpCounter.ACCEPTS);
        }
        return c;
    }

    /**
     * Stops listening: frees the binding, resets connections not yet accepted and forgets half-open ones.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        tcp.unbind(this);
        for (TcpConnection c : new ArrayList<>(acceptQueue)) {
            c.listener = null;
            c.abort();
            c.close(); // frees what arrived for it
        }
        acceptQueue.clear();
        for (TcpConnection c : new ArrayList<>(halfOpen)) {
            c.listener = null;
            c.abort();
        }
        halfOpen.clear();
    }

    /** A segment for no connection, to our address and port (RFC 9293 §3.10.7.2). */
    void segmentArrived(TcpSegment seg) {
        if (seg.has(TcpHeader.RST)) {
            return;
        }
        Tcp.ConnectionKey key = new Tcp.ConnectionKey(seg.destination(), seg.destinationPort, seg.source(),
                seg.sourcePort);
        if (seg.has(TcpHeader.ACK)) {
            if (!seg.has(TcpHeader.SYN) && tcp.settings().synCookies()) {
                int mss = tcp.checkSynCookie(key, seg.ack - 1, seg.seq - 1);
                if (mss > 0 && acceptQueue.size() < backlog) {
                    tcp.counters().increment(Tcp.TcpCounter.SYN_COOKIES_ACCEPTED);
                    TcpConnection c = new TcpConnection(tcp, key, tcp.mssFor(seg.source()));
                    c.listener = this;
                    c.openFromCookie(seg, seg.ack - 1, mss);
                    tcp.add(c);
                    acceptQueue.add(c);
                    c.segmentArrived(seg); // its events tell us, then its handler, that it is ready
                    return;
                }
                if (cookiesSent) {
                    tcp.counters().increment(Tcp.TcpCounter.SYN_COOKIES_REJECTED);
                }
            }
            if (!cookiesSent) {
                tcp.counters().increment(Tcp.TcpCounter.LISTENER_STRAY_ACKS);
            }
            tcp.respondWithReset(seg);
            return;
        }
        if (!seg.has(TcpHeader.SYN)) {
            return;
        }
        tcp.counters().increment(Tcp.TcpCounter.SYN_RECEIVED);
        if (acceptQueue.size() >= backlog) {
            tcp.counters().increment(Tcp.TcpCounter.ACCEPT_QUEUE_FULL);
            return;
        }
        if (halfOpen.size() >= tcp.settings().synBacklog()) {
            if (!tcp.settings().synCookies()) {
                tcp.counters().increment(Tcp.TcpCounter.SYN_BACKLOG_FULL);
                return;
            }
            tcp.counters().increment(Tcp.TcpCounter.SYN_COOKIES_SENT);
            cookiesSent = true;
            int offered = tcp.mssFor(seg.source());
            int cookie = tcp.synCookie(key, seg.seq, seg.mss >= 0 ? Math.min(seg.mss, offered) : 536);
            tcp.sendSynAck(key, cookie, seg.seq + 1, offered);
            return;
        }
        TcpConnection c = new TcpConnection(tcp, key, tcp.mssFor(seg.source()));
        c.listener = this;
        halfOpen.add(c);
        tcp.add(c);
        c.passiveOpen(seg);
    }

    /** A half-open connection of ours completed its handshake. */
    void established(TcpConnection c) {
        halfOpen.remove(c);
        if (closed || acceptQueue.size() >= backlog) {
            tcp.counters().increment(Tcp.TcpCounter.ACCEPT_QUEUE_FULL);
            c.listener = null;
            c.abort();
            return;
        }
        acceptQueue.add(c);
    }

    /**
     * A connection of ours became ready to accept; called by the connection when it reports its events, so
     * the callback never runs in the middle of processing a segment.
     */
    void notifyAcceptable() {
        if (!closed) {
            onAcceptable.accept(this);
        }
    }

    /** A connection of ours (half-open, or waiting to be accepted) ended. */
    void released(TcpConnection c) {
        halfOpen.remove(c);
    }
}
