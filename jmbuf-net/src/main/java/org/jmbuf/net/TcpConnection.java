package org.jmbuf.net;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufType;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.wire.IpAddress;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.TcpHeader;
import org.jmbuf.wire.TcpOptionCursor;

/**
 * One TCP connection: the socket's buffers and the protocol control block ({@code struct socket} +
 * {@code struct tcpcb}; RFC 9293), over IPv4 or IPv6. Made by {@link Tcp#connect} or accepted from a
 * {@link TcpListener}.
 *
 * <h2>Protocol</h2>
 * The whole state machine of RFC 9293 §3.10, simultaneous open and close included, with: MSS (RFC 9293
 * §3.7.1, 536 or 1220 when the peer sends none, raised to {@link TcpSettings#minMss()}); window scaling,
 * timestamps and PAWS (RFC 7323; a SYN's own window is never scaled); SACK (RFC 2018) in both directions
 * with RFC 6675 loss recovery, or NewReno (RFC 6582) without it; slow start and congestion avoidance
 * (RFC 5681); the retransmission timer of RFC 6298 with exponential backoff and Karn's rule; delayed ACKs,
 * Nagle's algorithm and silly window avoidance on both sides (RFC 9293 §3.8.6); zero-window probes;
 * keep-alives (RFC 1122 §4.2.3.6); TIME_WAIT for 2 MSL; RFC 5961's challenge ACKs for in-window RSTs and
 * SYNs and its ACK check. Urgent data is delivered in line (RFC 6093).
 *
 * <h2>Buffers: what is copied, what is shared</h2>
 * The send buffer is an mbuf chain. {@link #write(byte[], int, int)} copies the caller's bytes into it
 * once; {@link #send(Mbuf)} links the caller's chain without copying. A segment's data is
 * {@link Mbuf#copy} of the buffer (clusters shared, reference counted, not copied), so a retransmission
 * costs no copy either; acknowledged bytes leave the buffer with {@link Mbuf#adj}. Received data is the
 * received packet itself, its headers trimmed off with {@code adj} and queued ({@link Mbuf#cat}), also
 * when it arrived out of order: read-only storage (a capture, a shared cluster) is never written.
 * {@link #read(byte[], int, int)} copies out; {@link #receive(int)} hands over the chain itself.
 *
 * <h2>Threads and events</h2>
 * Runs on the host's thread; not thread-safe. Events go to the {@link Handler} after the segment or timer
 * that caused them has been processed, never in the middle. {@link TcpStream} wraps a connection for other
 * threads (blocking, with timeouts).
 */
public final class TcpConnection {
    /** Why a connection ended other than by an orderly close. */
    public enum Failure {
        /** The peer answered our SYN with a reset ({@code ECONNREFUSED}). */
        REFUSED,
        /** The peer reset the connection ({@code ECONNRESET}). */
        RESET,
        /** Retransmissions, SYN retries or keep-alive probes went unanswered ({@code ETIMEDOUT}). */
        TIMED_OUT,
        /** This side aborted it: {@link #abort()}, or closing with unread data ({@code ECONNABORTED}). */
        ABORTED
    }

    /**
     * What a connection tells its user, on the host's thread, once the segment or timer that caused it has
     * been processed. Every method does nothing by default.
     */
    public interface Handler {
        /** The handshake completed: the connection is ESTABLISHED (or already past it). */
        default void connected(TcpConnection c) {
        }

        /** Data arrived, or the end of the stream: {@link #read} returns something other than 0. */
        default void readable(TcpConnection c) {
        }

        /** Room was freed in the send buffer. */
        default void writable(TcpConnection c) {
        }

        /** The connection reached CLOSED; {@link #failure()} says why if it did not end in order. */
        default void closed(TcpConnection c) {
        }
    }

    private static final int EVENT_CONNECTED = 1;
    private static final int EVENT_READABLE = 2;
    private static final int EVENT_WRITABLE = 4;
    private static final int EVENT_CLOSED = 8;
    private static final int TIMESTAMP_OPTION_LENGTH = 12; // NOP, NOP, kind, length, TSval, TSecr
    private static final long PAWS_IDLE_NANOS = 24L * 24 * 3600 * 1_000_000_000L; // RFC 7323 §5.5
    private static final long MAX_CWND = 1L << 30;
    /** How long silly window avoidance may hold data back with nothing in flight (RFC 1122 §4.2.3.4: 0.1-1 s). */
    private static final long SWS_OVERRIDE_NANOS = 200_000_000L;

    private final Tcp tcp;
    private final TcpSettings settings;
    private final Tcp.ConnectionKey key;
    private final int offeredMss;
    private TcpState state = TcpState.CLOSED;
    private Handler handler = new Handler() { };
    private Failure failure;
    private int events;
    private boolean dispatching;
    TcpListener listener;
    private boolean userClosed;
    private boolean released;

    // send side, as unwrapped 64-bit sequence numbers
    private int iss;
    private long sndUna;
    private long sndNxt;
    private long sndMax;
    private long sndWnd;
    private long maxSndWnd;
    private long sndWl1;
    private long sndWl2;
    private Mbuf sendBuffer;
    private int sendBuffered;
    private long bufferSeq;
    private int sendBufferLimit;
    private long finSeq = -1;
    private int mss;

    // receive side
    private int irs;
    private long rcvNxt;
    private long rcvAdv;
    private Mbuf receiveQueue;
    private int received;
    private int receiveBufferLimit;
    private boolean finReceived;
    private final TcpReassembly reassembly;
    private final long[] sackEdges = new long[2 * TcpSegment.MAX_SACK_BLOCKS];

    // options
    private boolean windowScaling;
    private int sndScale;
    private int rcvScale;
    private boolean sack;
    private boolean timestamps;
    private int tsRecent;
    private long tsRecentAge;
    private boolean tsRecentValid;
    private long lastAckSent;
    private final int tsOffset;

    // round-trip time (RFC 6298), in nanoseconds
    private long srtt;
    private long rttvar;
    private long rto;
    private boolean rttValid;
    private boolean rtTiming;
    private long rtSeq;
    private long rtStart;
    private int retries;
    private boolean synRetransmitted;
    private long lastDataSent;

    // congestion control (RFC 5681, 6582, 6675)
    private long cwnd;
    private long ssthresh = MAX_CWND;
    private long bytesAcked;
    private int dupAcks;
    private boolean inRecovery;
    private long recover;
    private long highRxt;
    private long rescueRxt;
    private final TcpScoreboard scoreboard = new TcpScoreboard();
    private final long[] holeEnd = new long[1];

    // ACKs and timers
    private boolean ackNow;
    private int unackedSegments;
    private boolean nodelay;
    private boolean keepAlive;
    private int keepProbes;
    private long lastReceived;
    private int persistShift;
    private long rexmtAt;
    private long persistAt;
    private long delackAt;
    private long keepAt;
    private long closeAt;
    private Timers.Timer callout;

    TcpConnection(Tcp tcp, Tcp.ConnectionKey key, int offeredMss) {
        this.tcp = tcp;
        this.settings = tcp.settings();
        this.key = key;
        this.offeredMss = offeredMss;
        this.sendBufferLimit = settings.sendBuffer();
        this.receiveBufferLimit = settings.receiveBuffer();
        this.reassembly = new TcpReassembly(settings.reassemblyLimit());
        this.rto = settings.initialRto().toNanos();
        this.tsOffset = tcp.initialSequenceNumber(new Tcp.ConnectionKey(key.remote(), key.remotePort(),
                key.local(), key.localPort()));
    }

    // ================================================================== user side

    public TcpState state() {
        return state;
    }

    /** Why the connection ended, or null while it is open or if it closed in order. */
    public Failure failure() {
        return failure;
    }

    public IpAddress localAddress() {
        return plain(key.local());
    }

    public int localPort() {
        return key.localPort();
    }

    public IpAddress remoteAddress() {
        return plain(key.remote());
    }

    public int remotePort() {
        return key.remotePort();
    }

    /**
     * The interface of a link-local peer (the zone of {@link #remoteAddress()}), or null for an address
     * that needs none.
     */
    public NetworkInterface zone() {
        return key.remote() instanceof Ipv6Address v6 && Ipv6Scope.isScoped(v6)
                ? tcp.host().ipv6().interfaceByIndex(Ipv6Scope.zone(v6)) : null;
    }

    private static IpAddress plain(IpAddress a) {
        return a instanceof Ipv6Address v6 ? Ipv6Scope.clear(v6) : a;
    }

    Tcp.ConnectionKey key() {
        return key;
    }

    /** Sets who hears of this connection's events (replacing the previous handler). */
    public void setHandler(Handler handler) {
        this.handler = Objects.requireNonNull(handler, "handler");
    }

    /** Sends segments as soon as data is written, without waiting for a full one (disables Nagle; {@code TCP_NODELAY}). */
    public void setNoDelay(boolean on) {
        nodelay = on;
    }

    /** Sends keep-alive probes after {@link TcpSettings#keepAliveIdle()} of silence ({@code SO_KEEPALIVE}). */
    public void setKeepAlive(boolean on) {
        keepAlive = on;
        lastReceived = now();
        armKeepAlive();
    }

    /** The most the send buffer holds ({@code SO_SNDBUF}). */
    public int sendBufferSize() {
        return sendBufferLimit;
    }

    /**
     * Sets the send buffer's size; shrinking it below what it holds only stops new writes.
     *
     * @throws IllegalArgumentException if {@code bytes} is not positive
     */
    public void setSendBufferSize(int bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("send buffer size must be positive: " + bytes);
        }
        sendBufferLimit = bytes;
    }

    /** The most the receive buffer holds, the largest window offered ({@code SO_RCVBUF}). */
    public int receiveBufferSize() {
        return receiveBufferLimit;
    }

    /**
     * Sets the receive buffer's size. The window scale is chosen from it when the SYN goes out, so set it
     * before; the window offered never shrinks.
     *
     * @throws IllegalArgumentException if {@code bytes} is not positive
     */
    public void setReceiveBufferSize(int bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("receive buffer size must be positive: " + bytes);
        }
        receiveBufferLimit = bytes;
    }

    /** Bytes the send buffer has room for now. */
    public int writableBytes() {
        return state.acceptsWrites() && finSeq < 0 ? Math.max(0, sendBufferLimit - sendBuffered) : 0;
    }

    /** Bytes waiting to be read. */
    public int readableBytes() {
        return received;
    }

    /** Bytes written but not yet acknowledged by the peer. */
    public int unacknowledgedBytes() {
        return sendBuffered;
    }

    /**
     * {@code PRU_SEND}: copies up to {@code len} bytes of {@code b} into the send buffer, as many as it has
     * room for, and sends what the windows allow. Returns how many were taken (0 if the buffer is full).
     *
     * @throws IllegalStateException  if the connection can no longer send (output shut down, closed, failed)
     * @throws NoBufferSpaceException if the pool refuses storage (nothing is taken)
     */
    public int write(byte[] b, int off, int len) {
        Objects.checkFromIndexSize(off, len, b.length);
        requireWritable();
        int n = Math.min(len, writableBytes());
        if (n == 0) {
            return 0;
        }
        MemorySegment bytes = MemorySegment.ofArray(b).asSlice(off, n);
        if (sendBuffer == null) {
            Mbuf m = tcp.host().pool().get(MbufType.DATA);
            try {
                m.copyBack(0, bytes);
            } catch (NoBufferSpaceException e) {
                m.free();
                throw e;
            }
            m.claim(tcp.bufferOwner());
            sendBuffer = m;
        } else {
            sendBuffer.copyBack(sendBuffered, bytes);
        }
        sendBuffered += n;
        afterUserCall(true);
        return n;
    }

    /** {@link #write(byte[], int, int)} of all of {@code b}. */
    public int write(byte[] b) {
        return write(b, 0, b.length);
    }

    /**
     * Appends {@code data} to the send buffer without copying it, if the buffer has room for all of it
     * (consuming it), and sends what the windows allow. Returns false, leaving {@code data} with the caller,
     * if there is not room for all of it.
     *
     * @throws IllegalStateException if the connection can no longer send
     */
    public boolean send(Mbuf data) {
        requireWritable();
        int n = data.length();
        if (n > writableBytes()) {
            return false;
        }
        data.claim(tcp.bufferOwner());
        if (sendBuffer == null) {
            sendBuffer = data;
        } else {
            sendBuffer.cat(data);
        }
        sendBuffered += n;
        afterUserCall(true);
        return true;
    }

    private void requireWritable() {
        if (failure != null) {
            throw new IllegalStateException("connection " + failure.name().toLowerCase().replace('_', ' '));
        }
        if (!state.acceptsWrites() || finSeq >= 0) {
            throw new IllegalStateException("cannot send: connection is " + state
                    + (finSeq >= 0 ? " and its output is shut down" : ""));
        }
    }

    /**
     * {@code PRU_RCVD}: copies up to {@code len} waiting bytes into {@code b}. Returns how many; 0 if none
     * are waiting yet; -1 at the end of the stream (the peer's FIN, or the connection ended: see
     * {@link #failure()}).
     */
    public int read(byte[] b, int off, int len) {
        Objects.checkFromIndexSize(off, len, b.length);
        if (received == 0) {
            return isEndOfStream() ? -1 : 0;
        }
        int n = Math.min(len, received);
        receiveQueue.copyData(0, n, b, off);
        consumeReceived(n);
        return n;
    }

    /**
     * Takes up to {@code max} waiting bytes as a chain, without copying; the caller owns (and frees) it.
     * Returns null if none are waiting.
     *
     * @throws NoBufferSpaceException if splitting the queue needs a segment the pool refuses
     */
    public Mbuf receive(int max) {
        if (received == 0 || max <= 0) {
            return null;
        }
        Mbuf out;
        if (max >= received) {
            out = receiveQueue;
            receiveQueue = null;
            int n = received;
            received = 0;
            afterRead(n);
        } else {
            Mbuf rest = receiveQueue.split(max);
            out = receiveQueue;
            receiveQueue = rest;
            received -= max;
            afterRead(max);
        }
        return out;
    }

    /** Whether no more data will arrive and none is waiting: the peer's FIN was read, or the connection ended. */
    public boolean isEndOfStream() {
        return received == 0 && (finReceived || state == TcpState.CLOSED);
    }

    private void consumeReceived(int n) {
        received -= n;
        if (received == 0) {
            receiveQueue.free();
            receiveQueue = null;
        } else {
            receiveQueue.adj(n);
        }
        afterRead(n);
    }

    private void afterRead(int n) {
        // a window update when the window grew by two segments or half the buffer (RFC 9293 §3.8.6.2.2)
        if (state.isSynchronized() && !finReceived) {
            long grow = rcvNxt + windowSpace() - rcvAdv;
            if (grow >= 2L * mss || grow >= receiveBufferLimit / 2) {
                ackNow = true;
                tcp.counters().increment(Tcp.TcpCounter.WINDOW_UPDATES);
            }
        }
        afterUserCall(ackNow);
    }

    /**
     * {@code PRU_SHUTDOWN}: no more data will be written; a FIN follows the data already written. Harmless
     * if already shut down or closed.
     */
    public void shutdownOutput() {
        if (finSeq >= 0 || state == TcpState.CLOSED) {
            return;
        }
        switch (state) {
            case SYN_SENT -> {
                release();
                dispatch();
                return;
            }
            case SYN_RECEIVED, ESTABLISHED -> setState(TcpState.FIN_WAIT_1);
            case CLOSE_WAIT -> setState(TcpState.LAST_ACK);
            default -> {
                return;
            }
        }
        finSeq = bufferSeq + sendBuffered;
        afterUserCall(true);
    }

    /**
     * {@code PRU_DISCONNECT}: shuts output down and gives the connection up; it finishes its close on its
     * own (FIN_WAIT_2 lasts at most {@link TcpSettings#finWait2Timeout()}). With unread data waiting, or
     * data arriving afterwards, it is reset instead (RFC 1122 §4.2.2.13). Handlers still hear of it.
     */
    public void close() {
        userClosed = true;
        if (state == TcpState.CLOSED) {
            discardReceived();
            return;
        }
        if (received > 0 || !reassembly.isEmpty()) {
            abort();
            return;
        }
        shutdownOutput();
        if (state == TcpState.FIN_WAIT_2) {
            closeAt = now() + settings.finWait2Timeout().toNanos();
            armTimer();
        }
    }

    /**
     * {@code PRU_ABORT}: resets the connection: sends a RST if the peer knows of it, and frees everything,
     * unread data included.
     */
    public void abort() {
        userClosed = true; // the user gives the connection up: what it has not read goes too
        if (state == TcpState.CLOSED) {
            discardReceived();
            return;
        }
        drop(Failure.ABORTED);
        dispatch();
    }

    // ------------------------------------------------------------------ statistics for tests and tools

    /** The congestion window, in bytes. */
    public long congestionWindow() {
        return cwnd;
    }

    /** The slow-start threshold, in bytes. */
    public long slowStartThreshold() {
        return ssthresh;
    }

    /** The peer's receive window as last advertised, scaled, in bytes. */
    public long sendWindow() {
        return sndWnd;
    }

    /** Data bytes per full-sized segment we send (MSS less the timestamp option, if in use). */
    public int sendMss() {
        return mss;
    }

    /** The smoothed round-trip time in nanoseconds, or 0 before the first sample. */
    public long smoothedRttNanos() {
        return rttValid ? srtt : 0;
    }

    /** The current retransmission timeout in nanoseconds, backoff included. */
    public long rtoNanos() {
        return rto;
    }

    /** The shift applied to the windows we send (ours) and receive (theirs); 0 without window scaling. */
    public int receiveWindowScale() {
        return rcvScale;
    }

    public int sendWindowScale() {
        return sndScale;
    }

    /** Whether SACK was agreed on. */
    public boolean isSackEnabled() {
        return sack;
    }

    /** Whether timestamps were agreed on. */
    public boolean isTimestampsEnabled() {
        return timestamps;
    }

    @Override
    public String toString() {
        return "TcpConnection[" + localAddress() + ":" + localPort() + " -> " + remoteAddress() + ":" + remotePort()
                + ", " + state + (failure != null ? ", " + failure : "") + "]";
    }

    // ================================================================== opening

    /** Active open ({@code tcp_connect}): SYN_SENT, SYN out. */
    void open() {
        iss = tcp.initialSequenceNumber(key);
        initSend(iss);
        rcvScale = windowScaleFor(receiveBufferLimit);
        setState(TcpState.SYN_SENT);
        output();
    }

    /** Passive open from a listener on a SYN ({@code syncache_add}): SYN_RECEIVED, SYN-ACK out. */
    void passiveOpen(TcpSegment seg) {
        iss = tcp.initialSequenceNumber(key);
        initSend(iss);
        negotiate(seg, true);
        initReceive(seg.seq);
        setState(TcpState.SYN_RECEIVED);
        setWindow(seg.window, irsPlus(0), sndUna);
        output();
    }

    /** A connection from a valid SYN cookie ({@code syncookie_lookup}): ESTABLISHED at once. */
    void openFromCookie(TcpSegment seg, int cookie, int cookieMss) {
        iss = cookie;
        initSend(iss);
        sndUna = sndNxt = sndMax = bufferSeq;
        initReceive(seg.seq - 1);
        mss = effectiveMss(cookieMss);
        sndWnd = seg.window;
        maxSndWnd = sndWnd;
        sndWl1 = rcvNxt;
        sndWl2 = sndUna;
        cwnd = initialWindow();
        setState(TcpState.ESTABLISHED);
        tcp.counters().increment(Tcp.TcpCounter.ESTABLISHED);
        events |= EVENT_CONNECTED;
    }

    /** Sets up the receive side from the peer's SYN sequence number. */
    private void initReceive(int synSeq) {
        irs = synSeq;
        rcvNxt = (irs & 0xffffffffL) + 1;
        rcvAdv = rcvNxt + Math.min(windowSpace(), 65535); // what a SYN can offer: its window is never scaled
        lastAckSent = rcvNxt;
    }

    private long irsPlus(int n) {
        return (irs & 0xffffffffL) + n;
    }

    private void initSend(int isn) {
        long s = isn & 0xffffffffL;
        sndUna = sndNxt = sndMax = s;
        bufferSeq = s + 1;
        recover = s;
        highRxt = s;
    }

    /** The options of the peer's SYN: MSS, window scale, SACK-permitted, timestamps (RFC 7323 §2.2, §3.2). */
    private void negotiate(TcpSegment seg, boolean passive) {
        int peerMss = seg.mss >= 0 ? seg.mss : key.remote() instanceof Ipv4Address ? 536 : 1220;
        mss = effectiveMss(peerMss);
        if (passive) {
            rcvScale = windowScaleFor(receiveBufferLimit);
        }
        windowScaling = settings.windowScaling() && seg.windowScale >= 0;
        if (windowScaling) {
            sndScale = seg.windowScale;
        } else {
            sndScale = 0;
            rcvScale = 0;
        }
        sack = settings.sack() && seg.sackPermitted;
        timestamps = settings.timestamps() && seg.hasTimestamp;
        if (timestamps) {
            tsRecent = seg.tsValue;
            tsRecentAge = now();
            tsRecentValid = true;
            mss -= TIMESTAMP_OPTION_LENGTH;
        }
    }

    private int effectiveMss(int peerMss) {
        return Math.max(Math.min(Math.max(peerMss, settings.minMss()), offeredMss), 64);
    }

    private static int windowScaleFor(int buffer) {
        int shift = 0;
        while (shift < TcpOptionCursor.MAX_WINDOW_SCALE && (65535L << shift) < buffer) {
            shift++;
        }
        return shift;
    }

    /**
     * RFC 6298 §5.7: if the SYN or SYN-ACK timed out and no round trip was measured, the timeout starts
     * data transfer at 3 s.
     */
    private void afterHandshake() {
        if (synRetransmitted && !rttValid) {
            rto = Math.clamp(3_000_000_000L, settings.minRto().toNanos(), settings.maxRto().toNanos());
        }
    }

    /** RFC 5681 §3.1's initial window; one segment if the SYN had to be retransmitted. */
    private long initialWindow() {
        if (synRetransmitted) {
            return mss;
        }
        return mss > 2190 ? 2L * mss : mss > 1095 ? 3L * mss : 4L * mss;
    }

    // ================================================================== input

    /** Processes a segment for this connection ({@code tcp_input} after the lookup) and reports the events. */
    void segmentArrived(TcpSegment seg) {
        try {
            process(seg);
        } finally {
            dispatch();
        }
    }

    private void process(TcpSegment seg) {
        if (state == TcpState.SYN_SENT) {
            synSentArrived(seg);
            return;
        }
        if (state == TcpState.CLOSED) {
            tcp.respondWithReset(seg);
            return;
        }
        lastReceived = now();
        keepProbes = 0;
        if (state == TcpState.SYN_RECEIVED && seg.has(TcpHeader.SYN)) {
            if (!seg.has(TcpHeader.ACK) && seg.seq == irs) {
                sndNxt = sndUna; // the peer did not get our SYN-ACK: send it again
                output();
                return;
            }
            if (listener != null) {
                release(); // another SYN: a passive half-open connection goes back to LISTEN (RFC 9293 §3.10.7.4)
                return;
            }
            if (seg.has(TcpHeader.ACK) && seg.seq == irs) {
                // simultaneous open: the peer's SYN-ACK; its SYN we have, its ACK completes ours (RFC 9293
                // figure 8), and its window, a SYN's, is not scaled
                seg.flags &= ~TcpHeader.SYN;
                seg.seq++;
                seg.windowUnscaled = true;
            }
        }
        if (seg.has(TcpHeader.SYN)) {
            // RFC 5961 §4: a SYN on a synchronized connection, whatever its sequence number, gets a
            // (throttled) challenge ACK and is dropped
            if (tcp.mayChallenge()) {
                ackNow = true;
                output();
            }
            return;
        }
        if (timestamps && !seg.hasTimestamp && !seg.has(TcpHeader.RST)) {
            tcp.counters().increment(Tcp.TcpCounter.TIMESTAMP_MISSING); // RFC 7323 §3.2: silently dropped
            return;
        }
        long seq = rcvNxt + (seg.seq - (int) rcvNxt);
        // PAWS (RFC 7323 §5.3); a bare ACK at RCV.NXT is spared, as Linux's tcp_disordered_ack spares
        // ACKs that reordering delayed: it carries no data to corrupt, and its ACK field is checked anyway
        boolean bareAck = seg.dataLength == 0 && seq == rcvNxt
                && !seg.has(TcpHeader.SYN | TcpHeader.FIN | TcpHeader.RST);
        if (timestamps && seg.hasTimestamp && !seg.has(TcpHeader.RST) && !bareAck && tsRecentValid
                && seg.tsValue - tsRecent < 0) {
            if (now() - tsRecentAge > PAWS_IDLE_NANOS) {
                tsRecentValid = false;
            } else {
                tcp.counters().increment(Tcp.TcpCounter.PAWS_DROPS);
                ackNow = true;
                output();
                return;
            }
        }
        // 1. sequence number check (RFC 9293 §3.10.7.4)
        long window = Math.max(0, rcvAdv - rcvNxt);
        int length = seg.sequenceLength();
        boolean acceptable;
        if (length == 0) {
            acceptable = window == 0 ? seq == rcvNxt : seq >= rcvNxt && seq < rcvNxt + window;
        } else {
            acceptable = window > 0 && (seq >= rcvNxt && seq < rcvNxt + window
                    || seq + length - 1 >= rcvNxt && seq + length - 1 < rcvNxt + window);
        }
        boolean zeroWindowProbe = !acceptable && window == 0 && seq == rcvNxt;
        if (!acceptable && !zeroWindowProbe) {
            if (!seg.has(TcpHeader.RST)) {
                tcp.counters().increment(Tcp.TcpCounter.OUT_OF_WINDOW);
                if (seq + length <= rcvNxt) {
                    tcp.counters().add(Tcp.TcpCounter.DUPLICATE_DATA_BYTES, seg.dataLength);
                }
                if (state == TcpState.TIME_WAIT && seg.has(TcpHeader.FIN)) {
                    closeAt = now() + 2 * settings.msl().toNanos(); // the peer's FIN again: restart 2MSL
                }
                ackNow = true;
                output();
            }
            return;
        }
        if (timestamps && seg.hasTimestamp && seq <= lastAckSent && seg.tsValue - tsRecent >= 0) {
            tsRecent = seg.tsValue; // RFC 7323 §4.3
            tsRecentAge = now();
            tsRecentValid = true;
        }
        // 2. RST (RFC 5961 §3.2); ignored in TIME_WAIT against assassination (RFC 1337)
        if (seg.has(TcpHeader.RST) && state == TcpState.TIME_WAIT) {
            return;
        }
        if (seg.has(TcpHeader.RST)) {
            if (seq != rcvNxt) {
                if (tcp.mayChallenge()) {
                    ackNow = true;
                    output();
                }
                return;
            }
            tcp.counters().increment(Tcp.TcpCounter.RESETS_RECEIVED);
            switch (state) {
                case SYN_RECEIVED -> {
                    if (listener != null) {
                        release(); // back to the listener's care: it simply forgets the half-open connection
                    } else {
                        tcp.counters().increment(Tcp.TcpCounter.CONNECT_REFUSED);
                        fail(Failure.REFUSED);
                    }
                }
                case ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT -> fail(Failure.RESET);
                default -> release();
            }
            return;
        }
        // 4. SYN: handled above, before the sequence number check (RFC 5961 §4)
        // 5. ACK
        if (!seg.has(TcpHeader.ACK)) {
            return;
        }
        if (state == TcpState.SYN_RECEIVED) {
            long ack = sndUna + (seg.ack - (int) sndUna);
            if (ack <= sndUna || ack > sndMax) {
                tcp.respondWithReset(seg);
                return;
            }
            setState(TcpState.ESTABLISHED);
            tcp.counters().increment(Tcp.TcpCounter.ESTABLISHED);
            cwnd = initialWindow();
            afterHandshake();
            updateWindow(seg, seq, ack);
            events |= EVENT_CONNECTED;
            if (listener != null) {
                listener.established(this);
            }
        }
        if (!processAck(seg, seq)) {
            return;
        }
        if (state == TcpState.CLOSED) {
            return;
        }
        // 7. text and 8. FIN
        if (seg.dataLength > 0 || seg.has(TcpHeader.FIN)) {
            if (zeroWindowProbe) {
                ackNow = true;
            } else if (seg.dataLength > 0 && userClosed && state.acceptsText()) {
                drop(Failure.ABORTED); // data for a closed socket: reset (RFC 1122 §4.2.2.13)
                return;
            } else if (state.acceptsText()) {
                processData(seg, seq);
            }
        }
        output();
    }

    /** SYN_SENT (RFC 9293 §3.10.7.3). */
    private void synSentArrived(TcpSegment seg) {
        long ack = sndUna + (seg.ack - (int) sndUna);
        boolean hasAck = seg.has(TcpHeader.ACK);
        if (hasAck && (ack <= iss4() || ack > sndMax)) {
            if (!seg.has(TcpHeader.RST)) {
                tcp.sendControl(key.local(), key.localPort(), key.remote(), key.remotePort(), seg.ack, 0,
                        TcpHeader.RST);
            }
            return;
        }
        if (seg.has(TcpHeader.RST)) {
            if (hasAck) {
                tcp.counters().increment(Tcp.TcpCounter.RESETS_RECEIVED);
                tcp.counters().increment(Tcp.TcpCounter.CONNECT_REFUSED);
                fail(Failure.REFUSED);
            }
            return;
        }
        if (!seg.has(TcpHeader.SYN)) {
            return;
        }
        negotiate(seg, false);
        initReceive(seg.seq);
        lastReceived = now();
        if (hasAck) {
            if (timestamps && seg.tsEcho != 0) {
                rttSample(tsNanos(seg.tsEcho));
            } else if (rtTiming && ack > rtSeq) {
                rttSample(now() - rtStart);
            }
            rtTiming = false;
            sndUna = ack;
            sndNxt = Math.max(sndNxt, sndUna);
            retries = 0;
            rexmtAt = 0;
            setState(TcpState.ESTABLISHED);
            tcp.counters().increment(Tcp.TcpCounter.ESTABLISHED);
            cwnd = initialWindow();
            afterHandshake();
            setWindow(seg.window, irsPlus(0), ack);
            events |= EVENT_CONNECTED;
            ackNow = true;
            if (seg.dataLength > 0 || seg.has(TcpHeader.FIN)) {
                processData(seg, irsPlus(1));
            }
            output();
        } else {
            // simultaneous open: our SYN again, now with an ACK
            setState(TcpState.SYN_RECEIVED);
            setWindow(seg.window, irsPlus(0), sndUna);
            sndNxt = sndUna;
            output();
        }
    }

    private long iss4() {
        return iss & 0xffffffffL;
    }

    /**
     * Step 5 for synchronized states: the ACK field (RFC 9293 §3.10.7.4, RFC 5961 §5.2), congestion control
     * and the send window. Returns false if the segment is to be dropped.
     */
    private boolean processAck(TcpSegment seg, long seq) {
        long ack = sndUna + (seg.ack - (int) sndUna);
        if (ack > sndMax) {
            tcp.counters().increment(Tcp.TcpCounter.ACK_TOO_FAR);
            ackNow = true;
            output();
            return false;
        }
        if (ack < sndUna - maxSndWnd) {
            tcp.counters().increment(Tcp.TcpCounter.ACK_TOO_OLD);
            if (tcp.mayChallenge()) {
                ackNow = true;
                output();
            }
            return false;
        }
        boolean newSack = false;
        if (sack && seg.sackBlocks > 0) {
            for (int i = 0; i < seg.sackBlocks; i++) {
                long left = sndUna + (seg.sackEdges[2 * i] - (int) sndUna);
                long right = sndUna + (seg.sackEdges[2 * i + 1] - (int) sndUna);
                newSack |= scoreboard.add(left, right, Math.max(ack, sndUna), sndMax);
            }
        }
        long window = (long) seg.window << sndScale;
        if (ack <= sndUna) {
            // RFC 5681 §2's duplicate ACK; with SACK, RFC 6675 §2's: any ACK that SACKs new data
            boolean duplicate = sack ? newSack && rexmtAt != 0
                    : ack == sndUna && seg.dataLength == 0 && !seg.has(TcpHeader.FIN) && sndMax > sndUna
                            && rexmtAt != 0 && window == sndWnd;
            updateWindow(seg, seq, ack);
            if (duplicate) {
                duplicateAck();
            }
        } else {
            newAck(seg, ack);
            updateWindow(seg, seq, ack);
            if (sack && newSack && !inRecovery && sndMax > sndUna) {
                duplicateAck(); // it moved SND.UNA, and it SACKs new data above: a duplicate ACK too
            }
        }
        if (finSeq >= 0 && sndUna > finSeq) {
            switch (state) {
                case FIN_WAIT_1 -> {
                    setState(TcpState.FIN_WAIT_2);
                    if (userClosed) {
                        closeAt = now() + settings.finWait2Timeout().toNanos();
                    }
                }
                case CLOSING -> enterTimeWait();
                case LAST_ACK -> {
                    release();
                    return false;
                }
                default -> { }
            }
        }
        return true;
    }

    /** The window update rule (RFC 9293 §3.10.7.4, SND.WL1/SND.WL2), the window scaled. */
    private void updateWindow(TcpSegment seg, long seq, long ack) {
        if (sndWl1 < seq || sndWl1 == seq && sndWl2 <= ack) {
            setWindow(seg.windowUnscaled ? seg.window : (long) seg.window << sndScale, seq, ack);
        }
    }

    /** Takes {@code window} as the send window, from the segment at {@code seq} acknowledging {@code ack}. */
    private void setWindow(long window, long seq, long ack) {
        if (sndWnd == 0 && window > 0) {
            persistAt = 0;
            persistShift = 0;
        }
        sndWnd = window;
        sndWl1 = seq;
        sndWl2 = ack;
        maxSndWnd = Math.max(maxSndWnd, window);
    }

    /** An ACK for new data: RTT, congestion window, recovery, the send buffer, the timers. */
    private void newAck(TcpSegment seg, long ack) {
        long acked = ack - sndUna - (sndUna == iss4() ? 1 : 0); // our SYN's sequence number is not data
        if (cwnd == 0) {
            cwnd = initialWindow(); // our SYN is acknowledged only now (closed while in SYN_RECEIVED)
        }
        if (timestamps && seg.hasTimestamp && seg.tsEcho != 0) {
            rttSample(tsNanos(seg.tsEcho));
        } else if (rtTiming && ack > rtSeq) {
            rttSample(now() - rtStart);
        }
        if (rtTiming && ack > rtSeq) {
            rtTiming = false;
        }
        long flightBefore = sndMax - sndUna;
        if (inRecovery) {
            if (ack >= recover) {
                // full acknowledgment (RFC 6582 §3.2 step 3, RFC 6675 §5): deflate the window
                inRecovery = false;
                cwnd = Math.min(ssthresh, Math.max(flightBefore - acked, mss) + mss);
                dupAcks = 0;
            } else if (!sack) {
                // partial acknowledgment (RFC 6582 §3.2 step 5)
                tcp.counters().increment(Tcp.TcpCounter.NEWRENO_PARTIAL_ACKS);
                cwnd = Math.max(cwnd - acked + (acked >= mss ? mss : 0), mss);
                advanceUna(ack);
                retransmit(sndUna, (int) Math.min(segmentData(), sndMax - sndUna));
                rexmtAt = now() + rto;
                return;
            }
        } else {
            dupAcks = 0;
            if (cwnd < ssthresh) {
                cwnd += Math.min(acked, mss);
            } else {
                bytesAcked += acked;
                if (bytesAcked >= cwnd) {
                    bytesAcked -= cwnd;
                    cwnd += mss;
                }
            }
            cwnd = Math.min(cwnd, MAX_CWND);
        }
        advanceUna(ack);
    }

    /** Moves SND.UNA to {@code ack}: frees acknowledged data, resets backoff, rearms the timer. */
    private void advanceUna(long ack) {
        long dataAcked = Math.min(ack, bufferSeq + sendBuffered) - bufferSeq;
        if (dataAcked > 0) {
            if (dataAcked == sendBuffered) {
                sendBuffer.free();
                sendBuffer = null;
            } else {
                sendBuffer.adj((int) dataAcked);
            }
            sendBuffered -= (int) dataAcked;
            bufferSeq += dataAcked;
            events |= EVENT_WRITABLE;
        }
        sndUna = ack;
        sndNxt = Math.max(sndNxt, sndUna);
        scoreboard.advance(sndUna);
        retries = 0;
        // the RTO stays backed off until a new round-trip sample (Karn, RFC 6298 §5): rttSample recomputes it
        rexmtAt = sndUna == sndMax ? 0 : now() + rto;
    }

    /** A duplicate ACK (RFC 5681 §3.2, RFC 6582 §3.2, RFC 6675 §5). */
    private void duplicateAck() {
        tcp.counters().increment(Tcp.TcpCounter.DUPLICATE_ACKS);
        dupAcks++;
        if (inRecovery) {
            if (!sack) {
                cwnd += mss; // inflate: another segment has left the network
            }
            return; // output() after the segment sends what the window now allows
        }
        boolean lost = sack ? dupAcks >= TcpScoreboard.DUP_THRESH || scoreboard.isLost(sndUna, mss)
                : dupAcks == TcpScoreboard.DUP_THRESH;
        if (!lost || sndUna <= recover) {
            // RFC 6582 §3.2 step 2 (and, with SACK, RFC 6675 §5.1 after a timeout): no new recovery until
            // everything sent before the last one (or the timeout) is acknowledged
            return;
        }
        long flight = sndMax - sndUna;
        ssthresh = Math.max(flight / 2, 2L * mss);
        recover = sndMax;
        inRecovery = true;
        rtTiming = false;
        tcp.counters().increment(Tcp.TcpCounter.FAST_RETRANSMITS);
        if (sack) {
            tcp.counters().increment(Tcp.TcpCounter.SACK_RECOVERY_EPISODES);
            cwnd = ssthresh;
            highRxt = sndUna;
            rescueRxt = sndUna;
            long end = scoreboard.nextHole(sndUna, sndUna, mss, false, holeEnd) < 0 ? sndMax : holeEnd[0];
            int len = (int) Math.min(segmentData(), end - sndUna);
            retransmit(sndUna, len);
            highRxt = sndUna + len;
        } else {
            retransmit(sndUna, (int) Math.min(segmentData(), flight));
            cwnd = ssthresh + 3L * mss;
        }
        rexmtAt = now() + rto;
    }

    /** Text and FIN (RFC 9293 §3.10.7.4 steps 7 and 8): in order to the receive queue, else to reassembly. */
    private void processData(TcpSegment seg, long seq) {
        Mbuf data = seg.data;
        seg.data = null;
        int length = seg.dataLength;
        boolean fin = seg.has(TcpHeader.FIN);
        if (seq < rcvNxt) {
            long trim = rcvNxt - seq;
            if (trim >= length) {
                tcp.counters().add(Tcp.TcpCounter.DUPLICATE_DATA_BYTES, length);
                fin &= seq + length >= rcvNxt && !finReceived;
                free(data);
                data = null;
                length = 0;
            } else {
                tcp.counters().add(Tcp.TcpCounter.DUPLICATE_DATA_BYTES, trim);
                data.adj((int) trim);
                length -= (int) trim;
            }
            seq = rcvNxt;
        }
        long rightEdge = Math.max(rcvAdv, rcvNxt);
        if (seq + length > rightEdge) {
            int excess = (int) Math.min(length, seq + length - rightEdge);
            if (excess == length) {
                free(data);
                data = null;
            } else {
                data.adj(-excess);
            }
            length -= excess;
            fin = false;
        }
        if (length == 0 && !fin) {
            free(data);
            ackNow = true;
            return;
        }
        if (seq > rcvNxt) {
            tcp.counters().increment(Tcp.TcpCounter.OUT_OF_ORDER_SEGMENTS);
            if (!reassembly.insert(seq, data, length, fin)) {
                tcp.counters().increment(Tcp.TcpCounter.REASSEMBLY_OVERFLOW);
            }
            ackNow = true; // an immediate duplicate ACK, with SACK blocks (RFC 5681 §4.2)
            return;
        }
        boolean filledHole = !reassembly.isEmpty();
        appendReceived(data, length);
        TcpReassembly.Run run;
        while (!fin && (run = reassembly.take(rcvNxt)) != null) {
            appendReceived(run.data(), run.length());
            fin = run.fin();
        }
        if (fin) {
            finArrived();
        }
        if (filledHole || fin) {
            ackNow = true;
        } else if (length > 0) {
            delayAck();
        }
    }

    private void appendReceived(Mbuf data, int length) {
        if (length == 0) {
            free(data);
            return;
        }
        data.claim(tcp.bufferOwner());
        if (receiveQueue == null) {
            receiveQueue = data;
        } else {
            receiveQueue.cat(data);
        }
        received += length;
        rcvNxt += length;
        tcp.counters().add(Tcp.TcpCounter.DATA_BYTES_RECEIVED, length);
        events |= EVENT_READABLE;
    }

    /** The peer's FIN, in order (step 8). */
    private void finArrived() {
        rcvNxt++;
        finReceived = true;
        reassembly.clear();
        events |= EVENT_READABLE;
        switch (state) {
            case SYN_RECEIVED, ESTABLISHED -> setState(TcpState.CLOSE_WAIT);
            case FIN_WAIT_1 -> {
                if (finSeq >= 0 && sndUna > finSeq) {
                    enterTimeWait();
                } else {
                    setState(TcpState.CLOSING);
                }
            }
            case FIN_WAIT_2 -> enterTimeWait();
            default -> { }
        }
    }

    private void delayAck() {
        unackedSegments++;
        long delay = settings.delayedAck().toNanos();
        if (unackedSegments >= 2 || delay == 0) {
            ackNow = true; // every second full segment at once (RFC 5681 §4.2)
        } else if (delackAt == 0) {
            delackAt = now() + delay;
        }
    }

    private void enterTimeWait() {
        setState(TcpState.TIME_WAIT);
        rexmtAt = 0;
        persistAt = 0;
        keepAt = 0;
        closeAt = now() + 2 * settings.msl().toNanos();
        freeSendBuffer();
    }

    /**
     * Whether a SYN may reopen this TIME_WAIT connection (RFC 6191): its timestamp is newer than the last
     * one seen, or, without timestamps, its sequence number is beyond the last one received.
     */
    boolean acceptsNewIncarnation(TcpSegment seg) {
        if (timestamps && seg.hasTimestamp) {
            return seg.tsValue - tsRecent > 0;
        }
        return seg.seq - (int) rcvNxt > 0;
    }

    // ================================================================== output

    /** {@code tcp_output}: sends what the state, the windows, Nagle and pending ACKs call for. */
    void output() {
        if (state == TcpState.CLOSED || released) {
            return;
        }
        if (inRecovery && sack) {
            sackRecoveryOutput();
        }
        for (int i = 0; i < 1 << 16; i++) {
            if (!outputOne(false)) {
                break;
            }
        }
        armTimer();
    }

    /** One segment from SND.NXT if there is one to send; returns whether one was sent. */
    private boolean outputOne(boolean forceProbe) {
        boolean syn = sndNxt == iss4(); // our SYN again (or first): nothing is acknowledged yet
        if (state == TcpState.SYN_SENT && !syn) {
            return false; // nothing but the SYN until the peer answers
        }
        long dataEnd = bufferSeq + sendBuffered;
        if (sndMax == sndUna && sndMax > iss4() + 1 && now() - lastDataSent > rto) {
            cwnd = Math.min(cwnd, initialWindow()); // restart after idle (RFC 5681 §4.1)
        }
        long allowed = cwnd;
        if (!inRecovery && dupAcks > 0 && dupAcks < TcpScoreboard.DUP_THRESH && sndNxt == sndMax) {
            allowed += (long) dupAcks * mss; // limited transmit: a new segment per early duplicate ACK (RFC 3042)
        }
        long window = Math.min(sndWnd, allowed);
        if (inRecovery && sack) {
            window = Math.max(0, cwnd - scoreboard.pipe(sndUna, sndMax, highRxt, mss)) + (sndNxt - sndUna);
            window = Math.min(window, sndWnd);
        }
        if (forceProbe) {
            window = Math.max(window, sndNxt - sndUna + 1);
        }
        long len = 0;
        int full = segmentData();
        if (!syn && sndUna > iss4() && state != TcpState.SYN_RECEIVED) {
            len = Math.max(0, Math.min(dataEnd - sndNxt, sndUna + window - sndNxt));
            len = Math.min(len, full);
        }
        boolean fin = finSeq >= 0 && sndNxt + len == finSeq && !syn
                && (state == TcpState.FIN_WAIT_1 || state == TcpState.CLOSING || state == TcpState.LAST_ACK);
        boolean send = syn || fin || ackNow || forceProbe;
        if (len > 0) {
            boolean allQueued = sndNxt + len == dataEnd;
            send |= len == full
                    || allQueued && (nodelay || sndMax == sndUna)
                    || maxSndWnd > 0 && len >= maxSndWnd / 2
                    || sndNxt < sndMax;
        }
        if (!send) {
            // data held back with nothing in flight: by a zero window (probe it), or by silly window
            // avoidance (a timeout forces it out, RFC 1122 §4.2.3.4); the persist timer does both
            if (dataEnd > sndNxt && rexmtAt == 0 && persistAt == 0 && state.isSynchronized()) {
                persistAt = now() + (sndWnd == 0 ? persistInterval() : SWS_OVERRIDE_NANOS);
            }
            return false;
        }
        int flags = syn && state == TcpState.SYN_SENT ? TcpHeader.SYN
                : TcpHeader.ACK | (syn ? TcpHeader.SYN : 0) | (fin ? TcpHeader.FIN : 0);
        if (len > 0 && sndNxt + len == dataEnd) {
            flags |= TcpHeader.PSH;
        }
        // a segment without data, SYN or FIN goes at SND.MAX, where the peer expects it even after we went
        // back to retransmit (tcp_output does the same); the peer would drop anything lower as old
        long seq = len == 0 && !syn && !fin ? sndMax : sndNxt;
        if (!sendSegment(seq, (int) len, flags)) {
            return false;
        }
        if (forceProbe && sndWnd == 0) {
            // a probe: SND.NXT stays, no retransmission timer; SND.MAX covers what it carried, FIN included
            sndMax = Math.max(sndMax, seq + len + (fin ? 1 : 0));
            return false;
        }
        long advance = len + (syn ? 1 : 0) + (fin ? 1 : 0);
        boolean newData = seq == sndMax && advance > 0;
        sndNxt += advance;
        if (sndNxt > sndMax) {
            sndMax = sndNxt;
        }
        if (newData && !timestamps && !rtTiming) {
            rtTiming = true;
            rtSeq = seq;
            rtStart = now();
        }
        if (advance > 0 && rexmtAt == 0) {
            rexmtAt = now() + rto;
            persistAt = 0;
        }
        return len > 0;
    }

    /** Retransmits {@code len} bytes at {@code seq} (and the FIN if it falls there), outside SND.NXT's walk. */
    private void retransmit(long seq, int len) {
        int flags = TcpHeader.ACK;
        long dataEnd = bufferSeq + sendBuffered;
        len = (int) Math.max(0, Math.min(len, dataEnd - seq));
        if (finSeq >= 0 && seq + len == finSeq && sndMax > finSeq) {
            flags |= TcpHeader.FIN;
        }
        if (len == 0 && (flags & TcpHeader.FIN) == 0) {
            return;
        }
        sendSegment(seq, len, flags);
    }

    /** RFC 6675 §5's transmission during SACK recovery: NextSeg while {@code cwnd - pipe >= SMSS}. */
    private void sackRecoveryOutput() {
        for (int i = 0; i < 1 << 12; i++) {
            long pipe = scoreboard.pipe(sndUna, sndMax, highRxt, mss);
            if (cwnd - pipe < mss) {
                return;
            }
            long s = scoreboard.nextHole(sndUna, highRxt, mss, true, holeEnd);
            if (s < 0 && bufferSeq + sendBuffered > sndMax && sndMax < sndUna + sndWnd) {
                if (!outputOne(false)) {
                    return; // rule 2: new data (Nagle or the window may hold it back)
                }
                continue;
            }
            if (s < 0) {
                s = scoreboard.nextHole(sndUna, highRxt, mss, false, holeEnd); // rule 3
            }
            if (s < 0 && sndUna < recover && rescueRxt < recover && sndMax > sndUna) {
                // rule 4: one rescue retransmission of the highest outstanding data per recovery
                rescueRxt = recover;
                long top = Math.min(sndMax, bufferSeq + sendBuffered); // the FIN, if sent, comes along
                long start = Math.max(sndUna, top - segmentData());
                retransmit(start, (int) (top - start));
                continue;
            }
            if (s < 0) {
                return;
            }
            int len = (int) Math.min(segmentData(), holeEnd[0] - s);
            retransmit(s, len);
            highRxt = s + len;
        }
    }

    /**
     * Data bytes a segment may carry now: the MSS (already less the timestamp option) less the SACK option
     * the segment will carry (RFC 9293 §3.7.1, RFC 6691: the options sent shrink the data, not the MSS).
     */
    private int segmentData() {
        if (!sack || reassembly.isEmpty()) {
            return mss;
        }
        int blocks = Math.min(reassembly.runCount(), timestamps ? 3 : 4);
        return mss - (blocks == 0 ? 0 : 4 + 8 * blocks);
    }

    /** Builds and sends one segment at {@code seq} with {@code len} bytes of the send buffer. */
    private boolean sendSegment(long seq, int len, int flags) {
        boolean syn = (flags & TcpHeader.SYN) != 0;
        MemorySegment h = tcp.headerScratch();
        int optionLength = writeOptions(h, syn);
        int headerLength = TcpHeader.MIN_LENGTH + optionLength;
        long advertised = advertisedWindow(syn);
        Mbuf packet;
        Mbuf data = null;
        try {
            packet = tcp.header(headerLength);
            if (len > 0) {
                try {
                    data = sendBuffer.copy((int) (seq - bufferSeq), len);
                } catch (NoBufferSpaceException e) {
                    packet.free();
                    throw e;
                }
            }
        } catch (NoBufferSpaceException e) {
            tcp.counters().increment(Tcp.TcpCounter.NO_BUFFERS);
            if (rexmtAt == 0) {
                rexmtAt = now() + rto; // try again later
            }
            return false;
        }
        int windowField = (int) Math.min(0xffff, syn ? advertised : advertised + (1L << rcvScale) - 1 >> rcvScale);
        tcp.writeHeader(headerLength, key.localPort(), key.remotePort(), (int) seq,
                (flags & TcpHeader.ACK) != 0 ? (int) rcvNxt : 0, flags, windowField);
        if ((flags & TcpHeader.ACK) != 0) {
            lastAckSent = rcvNxt;
            ackNow = false;
            delackAt = 0;
            unackedSegments = 0;
            long edge = rcvNxt + (syn ? windowField : (long) windowField << rcvScale);
            rcvAdv = Math.max(rcvAdv, edge);
        }
        if (len > 0) {
            lastDataSent = now();
            tcp.counters().increment(Tcp.TcpCounter.DATA_SEGMENTS_SENT);
            tcp.counters().add(Tcp.TcpCounter.DATA_BYTES_SENT, len);
            if (seq < sndMax) {
                tcp.counters().increment(Tcp.TcpCounter.RETRANSMITTED_SEGMENTS);
                tcp.counters().add(Tcp.TcpCounter.RETRANSMITTED_BYTES, len);
            }
        }
        tcp.transmit(packet, headerLength, data, key.local(), key.remote());
        return true;
    }

    /** Writes the options after the fixed header in {@code h}; returns their length (a multiple of 4). */
    private int writeOptions(MemorySegment h, boolean syn) {
        int p = TcpHeader.MIN_LENGTH;
        if (syn) {
            boolean synAck = state == TcpState.SYN_RECEIVED;
            p = put(h, p, TcpOptionCursor.MSS, 4);
            p = put16(h, p, offeredMss);
            if (settings.windowScaling() && (!synAck || windowScaling)) {
                p = put(h, p, TcpOptionCursor.NOP);
                p = put(h, p, TcpOptionCursor.WINDOW_SCALE, 3);
                p = put(h, p, rcvScale);
            }
            if (settings.sack() && (!synAck || sack)) {
                p = put(h, p, TcpOptionCursor.NOP);
                p = put(h, p, TcpOptionCursor.NOP);
                p = put(h, p, TcpOptionCursor.SACK_PERMITTED, 2);
            }
            if (settings.timestamps() && (!synAck || timestamps)) {
                p = putTimestamp(h, p, synAck ? tsRecent : 0);
            }
        } else {
            if (timestamps) {
                p = putTimestamp(h, p, tsRecent);
            }
            if (sack && !reassembly.isEmpty()) {
                int max = timestamps ? 3 : 4;
                int n = reassembly.sackBlocks(sackEdges, max);
                if (n > 0) {
                    p = put(h, p, TcpOptionCursor.NOP);
                    p = put(h, p, TcpOptionCursor.NOP);
                    p = put(h, p, TcpOptionCursor.SACK, 2 + 8 * n);
                    for (int i = 0; i < 2 * n; i++) {
                        p = put32(h, p, (int) sackEdges[i]);
                    }
                }
            }
        }
        while ((p & 3) != 0) {
            p = put(h, p, TcpOptionCursor.END);
        }
        return p - TcpHeader.MIN_LENGTH;
    }

    private int putTimestamp(MemorySegment h, int p, int echo) {
        p = put(h, p, TcpOptionCursor.NOP);
        p = put(h, p, TcpOptionCursor.NOP);
        p = put(h, p, TcpOptionCursor.TIMESTAMP, 10);
        p = put32(h, p, tsNow());
        return put32(h, p, echo);
    }

    private static int put(MemorySegment h, int p, int b) {
        h.set(java.lang.foreign.ValueLayout.JAVA_BYTE, p, (byte) b);
        return p + 1;
    }

    private static int put(MemorySegment h, int p, int kind, int length) {
        return put(h, put(h, p, kind), length);
    }

    private static int put16(MemorySegment h, int p, int v) {
        return put(h, put(h, p, v >>> 8), v);
    }

    private static int put32(MemorySegment h, int p, int v) {
        return put16(h, put16(h, p, v >>> 16), v & 0xffff);
    }

    /** Free space in the receive buffer: the most we may offer beyond RCV.NXT (up to the scale's limit). */
    private long windowSpace() {
        return Math.min(Math.max(0, receiveBufferLimit - received), 65535L << rcvScale);
    }

    /**
     * The window to offer, in bytes (RFC 9293 §3.8.6.2.2): the free space, but the right edge moves only
     * by at least min(half the buffer, one segment), and never back.
     */
    private long advertisedWindow(boolean syn) {
        long space = windowSpace();
        if (syn) {
            return Math.min(space, 65535);
        }
        long edge = rcvNxt + space;
        int step = Math.min(receiveBufferLimit / 2, Math.max(mss, 1));
        if (edge - rcvAdv < step) {
            edge = rcvAdv; // not worth offering, even from a zero window (RFC 1122 §4.2.3.3)
        }
        return Math.max(edge, rcvAdv) - rcvNxt;
    }

    // ================================================================== timers

    private long now() {
        return tcp.host().timers().clock().nanoTime();
    }

    /** Our TSval: milliseconds on the stack's clock plus a per-connection offset (RFC 7323 §5.4). */
    private int tsNow() {
        return (int) (now() / 1_000_000) + tsOffset;
    }

    /**
     * The time since we sent TSval {@code echo}, in nanoseconds; -1 if {@code echo} cannot be one of ours
     * (in the future, or older than the longest timeout allows): a peer's bogus TSecr must not set the RTO.
     */
    private long tsNanos(int echo) {
        long millis = tsNow() - echo;
        return millis >= 0 && millis <= 2 * settings.maxRto().toMillis() ? millis * 1_000_000 : -1;
    }

    /** RFC 6298 §2: a round-trip sample; a negative one (not a measurement) is ignored. */
    private void rttSample(long r) {
        if (r < 0) {
            return;
        }
        if (!rttValid) {
            srtt = r;
            rttvar = r / 2;
            rttValid = true;
        } else {
            rttvar = (3 * rttvar + Math.abs(srtt - r)) / 4;
            srtt = (7 * srtt + r) / 8;
        }
        rto = computeRto();
    }

    private long computeRto() {
        long value = srtt + Math.max(1_000_000, 4 * rttvar); // G: the 1 ms timestamp clock
        return Math.clamp(value, settings.minRto().toNanos(), settings.maxRto().toNanos());
    }

    private long persistInterval() {
        long base = rttValid ? computeRto() : settings.initialRto().toNanos();
        return Math.clamp(base << Math.min(persistShift, 12), 5_000_000_000L, 60_000_000_000L);
    }

    private void armKeepAlive() {
        keepAt = keepAlive && state.isSynchronized()
                ? lastReceived + settings.keepAliveIdle().toNanos() + (long) keepProbes
                        * settings.keepAliveInterval().toNanos()
                : 0;
        armTimer();
    }

    /** Keeps one callout at the earliest deadline; a later one is found when the callout fires early. */
    private void armTimer() {
        if (released) {
            return;
        }
        long next = earliest(earliest(earliest(rexmtAt, persistAt), earliest(delackAt, keepAt)), closeAt);
        if (next == 0) {
            return;
        }
        if (callout != null && callout.isPending() && callout.deadline() <= next) {
            return;
        }
        if (callout != null) {
            callout.cancel();
        }
        callout = tcp.host().timers().scheduleNanos(next - now(), this::timerFired);
    }

    /** The earlier of two deadlines, 0 meaning none. */
    private static long earliest(long a, long b) {
        return a == 0 ? b : b == 0 ? a : Math.min(a, b);
    }

    private void timerFired() {
        callout = null;
        if (released) {
            return;
        }
        long now = now();
        if (closeAt != 0 && now >= closeAt) {
            closeAt = 0;
            release();
            dispatch();
            return;
        }
        if (rexmtAt != 0 && now >= rexmtAt) {
            rexmtAt = 0;
            retransmitTimeout();
        }
        if (persistAt != 0 && now >= persistAt && !released) {
            persistAt = 0;
            if (sndWnd == 0) {
                tcp.counters().increment(Tcp.TcpCounter.PERSIST_PROBES);
                persistShift++;
            }
            outputOne(true);
            if (sndWnd == 0 && bufferSeq + sendBuffered > sndNxt) {
                persistAt = now + persistInterval();
            }
        }
        if (delackAt != 0 && now >= delackAt && !released) {
            delackAt = 0;
            tcp.counters().increment(Tcp.TcpCounter.DELAYED_ACKS);
            ackNow = true;
            output();
        }
        if (keepAt != 0 && now >= keepAt && !released) {
            keepAliveTimeout();
        }
        if (!released) {
            output();
        }
        dispatch();
    }

    /** RFC 6298 §5.4-5.7 and RFC 5681 §3.1: back off, collapse the window, go back to SND.UNA. */
    private void retransmitTimeout() {
        retries++;
        boolean handshake = sndUna == iss4(); // our SYN is not acknowledged yet
        if (retries > (handshake ? settings.synRetries() : settings.dataRetries())) {
            tcp.counters().increment(Tcp.TcpCounter.TIMEOUT_DROPS);
            drop(Failure.TIMED_OUT);
            return;
        }
        tcp.counters().increment(Tcp.TcpCounter.RETRANSMIT_TIMEOUTS);
        rto = Math.min(rto * 2, settings.maxRto().toNanos());
        if (handshake) {
            synRetransmitted = true;
        } else {
            ssthresh = Math.max((sndMax - sndUna) / 2, 2L * mss);
            cwnd = mss;
            bytesAcked = 0;
        }
        inRecovery = false;
        dupAcks = 0;
        recover = sndMax;
        scoreboard.clear();
        rtTiming = false;
        sndNxt = sndUna;
        highRxt = sndUna;
        if (handshake) {
            rexmtAt = 0; // output() rearms it as the SYN goes out again
        }
        output();
    }

    private void keepAliveTimeout() {
        keepAt = 0;
        if (!keepAlive || !state.isSynchronized()) {
            return;
        }
        long idle = now() - lastReceived;
        long due = settings.keepAliveIdle().toNanos() + (long) keepProbes * settings.keepAliveInterval().toNanos();
        if (idle < due) {
            armKeepAlive();
            return;
        }
        if (keepProbes >= settings.keepAliveProbes()) {
            tcp.counters().increment(Tcp.TcpCounter.KEEPALIVE_DROPS);
            drop(Failure.TIMED_OUT);
            return;
        }
        keepProbes++;
        tcp.counters().increment(Tcp.TcpCounter.KEEPALIVE_PROBES);
        sendSegment(sndUna - 1, 0, TcpHeader.ACK); // a byte the peer already has: it must answer with an ACK
        armKeepAlive();
    }

    // ================================================================== ending

    private void setState(TcpState next) {
        state = next;
        if (keepAlive) {
            armKeepAlive();
        }
    }

    /** {@code tcp_drop}: sends a RST if the peer knows us, records why, and releases everything. */
    private void drop(Failure why) {
        // RFC 9293 §3.10.5 (ABORT): a reset in SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1/2 and CLOSE_WAIT, at the
        // highest sequence number sent (SND.NXT may have gone back to retransmit); none once our FIN is
        // acknowledged or we only wait for it to be (CLOSING, LAST_ACK, TIME_WAIT)
        switch (state) {
            case SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT -> tcp.sendControl(key.local(),
                    key.localPort(), key.remote(), key.remotePort(), (int) sndMax, (int) rcvNxt,
                    TcpHeader.RST | TcpHeader.ACK);
            default -> { }
        }
        fail(why);
    }

    private void fail(Failure why) {
        failure = why;
        tcp.counters().increment(Tcp.TcpCounter.DROPS);
        release();
    }

    /** Frees both buffers and the reassembly queue, leaves the host's table, and becomes CLOSED. */
    void release() {
        if (released) {
            return;
        }
        released = true;
        if (failure == null) {
            tcp.counters().increment(Tcp.TcpCounter.CLOSED);
        }
        state = TcpState.CLOSED;
        if (callout != null) {
            callout.cancel();
            callout = null;
        }
        rexmtAt = persistAt = delackAt = keepAt = closeAt = 0;
        freeSendBuffer();
        if (userClosed && receiveQueue != null) {
            receiveQueue.free();
            receiveQueue = null;
            received = 0;
        }
        reassembly.clear();
        tcp.remove(this);
        if (listener != null) {
            listener.released(this);
        }
        events |= EVENT_CLOSED | EVENT_READABLE;
    }

    private void freeSendBuffer() {
        if (sendBuffer != null) {
            sendBuffer.free();
            sendBuffer = null;
        }
        bufferSeq += sendBuffered;
        sendBuffered = 0;
    }

    /** Frees data still queued for reading, for a user who will not read it. */
    private void discardReceived() {
        if (receiveQueue != null) {
            receiveQueue.free();
            receiveQueue = null;
            received = 0;
        }
    }

    private static void free(Mbuf m) {
        if (m != null) {
            m.free();
        }
    }

    // ================================================================== events

    private void afterUserCall(boolean send) {
        if (send) {
            output();
        }
        dispatch();
    }

    /** Tells the handler what happened, once per event, never reentrantly. */
    void dispatch() {
        if (dispatching) {
            return;
        }
        dispatching = true;
        try {
            while (events != 0) {
                int e = events;
                events = 0;
                if ((e & EVENT_CONNECTED) != 0) {
                    if (listener != null) {
                        listener.notifyAcceptable(); // it may accept us and set our handler
                    }
                    handler.connected(this);
                }
                if ((e & EVENT_READABLE) != 0 && (received > 0 || isEndOfStream())) {
                    handler.readable(this);
                }
                if ((e & EVENT_WRITABLE) != 0 && writableBytes() > 0) {
                    handler.writable(this);
                }
                if ((e & EVENT_CLOSED) != 0) {
                    handler.closed(this);
                }
            }
        } finally {
            dispatching = false;
        }
    }
}
