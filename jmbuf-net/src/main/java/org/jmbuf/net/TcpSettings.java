package org.jmbuf.net;

import java.time.Duration;
import java.util.Objects;

/**
 * A host's TCP tunables ({@code net.inet.tcp.*} sysctls). Changes apply to connections made afterwards
 * (and to timers armed afterwards). Defaults follow the RFCs: RFC 6298 for the retransmission timer,
 * RFC 9293 for MSL, RFC 1122 §4.2.3.6 for keep-alive. Setters return this; they throw
 * {@link IllegalArgumentException} for values outside the stated range.
 */
public final class TcpSettings {
    private Duration msl = Duration.ofSeconds(30);
    private Duration initialRto = Duration.ofSeconds(1);
    private Duration minRto = Duration.ofSeconds(1);
    private Duration maxRto = Duration.ofSeconds(60);
    private Duration delayedAck = Duration.ofMillis(40);
    private Duration keepAliveIdle = Duration.ofHours(2);
    private Duration keepAliveInterval = Duration.ofSeconds(75);
    private int keepAliveProbes = 8;
    private Duration finWait2Timeout = Duration.ofSeconds(60);
    private int synRetries = 7;
    private int dataRetries = 12;
    private int sendBuffer = 64 * 1024;
    private int receiveBuffer = 64 * 1024;
    private boolean windowScaling = true;
    private boolean sack = true;
    private boolean timestamps = true;
    private int minMss = 216;
    private int reassemblyLimit = 256;
    private int challengeAcksPerSecond = 100;
    private int synBacklog = 128;
    private boolean synCookies = true;

    /** Maximum segment lifetime; TIME_WAIT lasts twice this. Default 30 s. */
    public Duration msl() {
        return msl;
    }

    public TcpSettings setMsl(Duration msl) {
        this.msl = nonNegative(msl, "msl");
        return this;
    }

    /** The retransmission timeout before any RTT sample (RFC 6298 §2.1: 1 s). */
    public Duration initialRto() {
        return initialRto;
    }

    public TcpSettings setInitialRto(Duration rto) {
        this.initialRto = positive(rto, "initialRto");
        return this;
    }

    /** The floor of the computed timeout (RFC 6298 §2.4: 1 s). */
    public Duration minRto() {
        return minRto;
    }

    public TcpSettings setMinRto(Duration rto) {
        this.minRto = positive(rto, "minRto");
        return this;
    }

    /** The ceiling of the timeout after backoff (RFC 6298 §2.5 allows 60 s). */
    public Duration maxRto() {
        return maxRto;
    }

    public TcpSettings setMaxRto(Duration rto) {
        this.maxRto = positive(rto, "maxRto");
        return this;
    }

    /** How long an ACK may be delayed (RFC 9293 §3.8.6.3: under 0.5 s). Default 40 ms; zero acks every segment. */
    public Duration delayedAck() {
        return delayedAck;
    }

    public TcpSettings setDelayedAck(Duration delay) {
        if (nonNegative(delay, "delayedAck").compareTo(Duration.ofMillis(500)) >= 0) {
            throw new IllegalArgumentException("delayedAck must be under 500 ms (RFC 9293 §3.8.6.3): " + delay);
        }
        this.delayedAck = delay;
        return this;
    }

    /** Idle time before the first keep-alive probe on a socket that asked for them (RFC 1122: 2 h). */
    public Duration keepAliveIdle() {
        return keepAliveIdle;
    }

    public TcpSettings setKeepAliveIdle(Duration idle) {
        this.keepAliveIdle = positive(idle, "keepAliveIdle");
        return this;
    }

    /** Time between unanswered keep-alive probes. Default 75 s. */
    public Duration keepAliveInterval() {
        return keepAliveInterval;
    }

    public TcpSettings setKeepAliveInterval(Duration interval) {
        this.keepAliveInterval = positive(interval, "keepAliveInterval");
        return this;
    }

    /** Unanswered probes after which the connection is dropped. Default 8. */
    public int keepAliveProbes() {
        return keepAliveProbes;
    }

    public TcpSettings setKeepAliveProbes(int probes) {
        this.keepAliveProbes = range(probes, 1, 100, "keepAliveProbes");
        return this;
    }

    /** How long a closed socket's connection may wait in FIN_WAIT_2 for the peer's FIN. Default 60 s. */
    public Duration finWait2Timeout() {
        return finWait2Timeout;
    }

    public TcpSettings setFinWait2Timeout(Duration timeout) {
        this.finWait2Timeout = positive(timeout, "finWait2Timeout");
        return this;
    }

    /**
     * Retransmissions of a SYN or SYN-ACK before giving up. Default 7: with the initial 1 s timeout doubling,
     * the SYN is retried for 255 s, over the 3 minutes RFC 1122 §4.2.3.5 asks for.
     */
    public int synRetries() {
        return synRetries;
    }

    public TcpSettings setSynRetries(int retries) {
        this.synRetries = range(retries, 0, 30, "synRetries");
        return this;
    }

    /** Retransmissions of data (or probes) before the connection is dropped (R2). Default 12. */
    public int dataRetries() {
        return dataRetries;
    }

    public TcpSettings setDataRetries(int retries) {
        this.dataRetries = range(retries, 1, 30, "dataRetries");
        return this;
    }

    /** Default send buffer of new sockets, in bytes. Default 64 KiB. */
    public int sendBuffer() {
        return sendBuffer;
    }

    public TcpSettings setSendBuffer(int bytes) {
        this.sendBuffer = range(bytes, 1, 1 << 30, "sendBuffer");
        return this;
    }

    /** Default receive buffer (the largest window offered) of new sockets, in bytes. Default 64 KiB. */
    public int receiveBuffer() {
        return receiveBuffer;
    }

    public TcpSettings setReceiveBuffer(int bytes) {
        this.receiveBuffer = range(bytes, 1, 1 << 30, "receiveBuffer");
        return this;
    }

    /** Whether to offer window scaling (RFC 7323). Default on. */
    public boolean windowScaling() {
        return windowScaling;
    }

    public TcpSettings setWindowScaling(boolean on) {
        this.windowScaling = on;
        return this;
    }

    /** Whether to offer SACK (RFC 2018). Default on. */
    public boolean sack() {
        return sack;
    }

    public TcpSettings setSack(boolean on) {
        this.sack = on;
        return this;
    }

    /** Whether to offer timestamps (RFC 7323). Default on. */
    public boolean timestamps() {
        return timestamps;
    }

    public TcpSettings setTimestamps(boolean on) {
        this.timestamps = on;
        return this;
    }

    /**
     * The smallest MSS a peer may make us use ({@code net.inet.tcp.minmss}); a smaller MSS option is raised
     * to it, so a peer cannot make us cut data into tiny segments. Default 216.
     */
    public int minMss() {
        return minMss;
    }

    public TcpSettings setMinMss(int mss) {
        this.minMss = range(mss, 64, 1460, "minMss");
        return this;
    }

    /** Out-of-order segments a connection holds before dropping more ({@code tcp_reass_maxqueuelen}). Default 256. */
    public int reassemblyLimit() {
        return reassemblyLimit;
    }

    public TcpSettings setReassemblyLimit(int segments) {
        this.reassemblyLimit = range(segments, 1, 1 << 16, "reassemblyLimit");
        return this;
    }

    /** Challenge ACKs (RFC 5961 §7) the host sends per second, all connections together. Default 100. */
    public int challengeAcksPerSecond() {
        return challengeAcksPerSecond;
    }

    public TcpSettings setChallengeAcksPerSecond(int perSecond) {
        this.challengeAcksPerSecond = range(perSecond, 1, 1_000_000, "challengeAcksPerSecond");
        return this;
    }

    /** Half-open connections a listener holds before it answers with SYN cookies (or drops). Default 128. */
    public int synBacklog() {
        return synBacklog;
    }

    public TcpSettings setSynBacklog(int connections) {
        this.synBacklog = range(connections, 1, 1 << 20, "synBacklog");
        return this;
    }

    /** Whether a listener whose SYN backlog is full answers with SYN cookies instead of dropping. Default on. */
    public boolean synCookies() {
        return synCookies;
    }

    public TcpSettings setSynCookies(boolean on) {
        this.synCookies = on;
        return this;
    }

    private static Duration nonNegative(Duration d, String name) {
        if (Objects.requireNonNull(d, name).isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative: " + d);
        }
        return d;
    }

    private static Duration positive(Duration d, String name) {
        if (Objects.requireNonNull(d, name).isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + d);
        }
        return d;
    }

    private static int range(int value, int min, int max, String name) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + "]: " + value);
        }
        return value;
    }
}
