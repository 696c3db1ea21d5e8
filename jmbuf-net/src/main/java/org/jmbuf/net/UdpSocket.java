package org.jmbuf.net;

import java.util.ArrayDeque;
import java.util.Objects;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.wire.IpAddress;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv6Address;

/**
 * A UDP socket of either family: bind, connect, send, receive with the source address and, for IPv6
 * scoped addresses, its zone. Addresses may be given as text, zone included ({@code "fe80::1%eth0"},
 * {@code "fe80::1%2"}, {@code "2001:db8::1"}, {@code "192.0.2.1"}).
 *
 * <p>{@link #bind(int)} binds the port on the wildcard address of both families (a dual-stack socket);
 * binding an address binds its family only. Received datagrams queue up to
 * {@link #DEFAULT_QUEUE_LIMIT} ({@code so_rcv}); beyond it they are dropped and counted
 * ({@code udps_fullsock}). Runs on the stack's thread: {@link #receive()} returns what has arrived, or
 * null.
 */
public final class UdpSocket implements AutoCloseable {
    /** Datagrams a socket queues before dropping. */
    public static final int DEFAULT_QUEUE_LIMIT = 256;

    /** What became of a datagram handed to {@code send}. */
    public enum SendResult {
        /** Sent, or queued until the next hop's link-layer address is known. */
        SENT,
        /** No route to the destination, or a scoped destination without a zone ({@code EHOSTUNREACH}). */
        NO_ROUTE,
        /** No usable source address ({@code EADDRNOTAVAIL}). */
        NO_SOURCE,
        /** Too big for a datagram ({@code EMSGSIZE}). */
        TOO_BIG,
        /** The pool refused a buffer ({@code ENOBUFS}). */
        NO_BUFFERS
    }

    /**
     * A received datagram. Addresses are plain (no zone inside); {@code zone} is the interface of a scoped
     * IPv6 source (a link-local address), else null. {@code payload} belongs to whoever took the datagram
     * from the socket, who must free it (closing the datagram does).
     */
    public record Datagram(IpAddress source, int sourcePort, IpAddress destination, int destinationPort,
            NetworkInterface zone, Mbuf payload) implements AutoCloseable {
        /** The payload bytes, copied out. */
        public byte[] bytes() {
            return payload.toByteArray();
        }

        /** The source as text, with its zone if it has one: {@code "fe80::1%eth0"}, {@code "192.0.2.1"}. */
        public String sourceText() {
            return zone == null ? source.toString() : source + "%" + zone.name();
        }

        @Override
        public void close() {
            payload.close();
        }
    }

    private static final IpAddress[] DUAL_STACK = {Ipv4Address.ANY, Ipv6Address.UNSPECIFIED};

    private final Udp udp;
    private final ArrayDeque<Datagram> queue = new ArrayDeque<>();
    private IpAddress[] boundAddresses;
    private int localPort;
    private IpAddress remoteAddress;
    private int remotePort;
    private boolean closed;
    private long drops;

    UdpSocket(Udp udp) {
        this.udp = udp;
    }

    /**
     * Binds to {@code port} (0 for an ephemeral one) on {@code address} (the family's wildcard for every
     * address of the host). A scoped IPv6 address needs its zone: use {@link #bind(String, int)}.
     *
     * @throws IllegalStateException if the socket is closed or bound, or the address and port are taken
     */
    public UdpSocket bind(IpAddress address, int port) {
        return bindAll(new IpAddress[] {Objects.requireNonNull(address, "address")}, port);
    }

    /** Binds {@code port} on the wildcard address of both families. */
    public UdpSocket bind(int port) {
        return bindAll(DUAL_STACK, port);
    }

    /**
     * Binds to an address given as text, zone included ({@code "fe80::1%eth0"}).
     *
     * @throws IllegalArgumentException if the text is not an address, or its zone is missing or unknown
     */
    public UdpSocket bind(String address, int port) {
        return bind(resolve(address), port);
    }

    private UdpSocket bindAll(IpAddress[] addresses, int port) {
        open();
        if (boundAddresses != null) {
            throw new IllegalStateException("socket already bound to port " + localPort);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not in 0..65535");
        }
        localPort = udp.bind(this, addresses, port);
        boundAddresses = addresses;
        return this;
    }

    /** Sets the default destination for {@link #send(byte[])}; binds to an ephemeral port if unbound. */
    public UdpSocket connect(IpAddress address, int port) {
        open();
        if (boundAddresses == null) {
            bind(0);
        }
        remoteAddress = Objects.requireNonNull(address, "address");
        remotePort = port;
        return this;
    }

    /** {@link #connect(IpAddress, int)} to an address given as text, zone included. */
    public UdpSocket connect(String address, int port) {
        return connect(resolve(address), port);
    }

    /** Sends {@code payload} to the connected peer. */
    public SendResult send(byte[] payload) {
        if (remoteAddress == null) {
            throw new IllegalStateException("not connected: use send(payload, address, port)");
        }
        return send(payload, remoteAddress, remotePort);
    }

    /** Sends {@code payload} (copied) to {@code address} (text, zone included) and {@code port}. */
    public SendResult send(byte[] payload, String address, int port) {
        return send(payload, resolve(address), port);
    }

    /** Sends {@code payload} (copied) to {@code address}:{@code port}; binds to an ephemeral port if unbound. */
    public SendResult send(byte[] payload, IpAddress address, int port) {
        open();
        Mbuf m;
        try {
            m = OutputBuffers.allocate(udp.host().pool(), payload.length);
            m.copyBack(0, payload);
        } catch (NoBufferSpaceException e) {
            return SendResult.NO_BUFFERS;
        }
        return send(m, address, port);
    }

    /** Sends {@code payload} (consumed, not copied) to {@code address}:{@code port}. */
    public SendResult send(Mbuf payload, IpAddress address, int port) {
        open();
        if (boundAddresses == null) {
            bind(0);
        }
        IpAddress source = null;
        for (IpAddress a : boundAddresses) {
            if (a.version() == address.version()) {
                source = a;
            }
        }
        return udp.output(payload, source, localPort, address, port);
    }

    /** The oldest received datagram, or null if none is waiting. The caller frees it. */
    public Datagram receive() {
        open();
        return queue.pollFirst();
    }

    /** Datagrams waiting. */
    public int available() {
        return queue.size();
    }

    /** Datagrams dropped because the queue was full. */
    public long drops() {
        return drops;
    }

    public int localPort() {
        return localPort;
    }

    /** An address parsed from text, a scoped IPv6 address with its zone embedded the stack's way. */
    private IpAddress resolve(String text) {
        if (text.indexOf(':') >= 0) {
            return Ipv6Scope.parse(udp.host(), text).embedded();
        }
        return Ipv4Address.parse(text);
    }

    boolean deliver(Datagram datagram) {
        if (queue.size() >= DEFAULT_QUEUE_LIMIT) {
            drops++;
            return false;
        }
        queue.addLast(datagram);
        return true;
    }

    /** Unbinds and frees every waiting datagram. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (boundAddresses != null) {
            udp.unbind(boundAddresses, localPort);
        }
        Datagram d;
        while ((d = queue.pollFirst()) != null) {
            d.close();
        }
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("socket closed");
        }
    }
}
