package org.jmbuf.net;

import java.util.ArrayDeque;
import java.util.Objects;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.wire.Ipv4Address;

/**
 * A UDP socket: bind, connect, send, receive. Received datagrams queue up to a limit
 * ({@link #DEFAULT_QUEUE_LIMIT}, {@code so_rcv}); beyond it they are dropped and counted
 * ({@code udps_fullsock}).
 *
 * <p>Runs on the stack's thread: {@link #receive()} returns what has arrived, or null.
 */
public final class UdpSocket implements AutoCloseable {
    /** Datagrams a socket queues before dropping. */
    public static final int DEFAULT_QUEUE_LIMIT = 256;

    /**
     * A received datagram. {@code payload} belongs to whoever took the datagram from the socket, who must
     * free it (closing the datagram does).
     */
    public record Datagram(Ipv4Address source, int sourcePort, Ipv4Address destination, int destinationPort,
            Mbuf payload) implements AutoCloseable {
        /** The payload bytes, copied out. */
        public byte[] bytes() {
            return payload.toByteArray();
        }

        @Override
        public void close() {
            payload.close();
        }
    }

    private final Udp udp;
    private final ArrayDeque<Datagram> queue = new ArrayDeque<>();
    private Ipv4Address localAddress;
    private int localPort;
    private Ipv4Address remoteAddress;
    private int remotePort;
    private boolean closed;
    private long drops;

    UdpSocket(Udp udp) {
        this.udp = udp;
    }

    /**
     * Binds to {@code port} (0 for an ephemeral one) on {@code address} ({@link Ipv4Address#ANY} for
     * every address of the host).
     *
     * @throws IllegalStateException if the socket is closed or bound, or the address and port are taken
     */
    public UdpSocket bind(Ipv4Address address, int port) {
        open();
        if (localPort != 0) {
            throw new IllegalStateException("socket already bound to " + localAddress + ":" + localPort);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not in 0..65535");
        }
        udp.bind(this, Objects.requireNonNull(address, "address"), port);
        return this;
    }

    /** Binds to {@code port} on every address. */
    public UdpSocket bind(int port) {
        return bind(Ipv4Address.ANY, port);
    }

    /** Sets the default destination for {@link #send(byte[])}; binds to an ephemeral port if unbound. */
    public UdpSocket connect(Ipv4Address address, int port) {
        open();
        if (localPort == 0) {
            bind(Ipv4Address.ANY, 0);
        }
        remoteAddress = Objects.requireNonNull(address, "address");
        remotePort = port;
        return this;
    }

    void bound(Ipv4Address address, int port) {
        this.localAddress = address;
        this.localPort = port;
    }

    /** Sends {@code payload} to the connected peer. */
    public Ipv4.OutputResult send(byte[] payload) {
        if (remoteAddress == null) {
            throw new IllegalStateException("not connected: use send(payload, address, port)");
        }
        return send(payload, remoteAddress, remotePort);
    }

    /** Sends {@code payload} (copied) to {@code address}:{@code port}; binds to an ephemeral port if unbound. */
    public Ipv4.OutputResult send(byte[] payload, Ipv4Address address, int port) {
        open();
        Mbuf m;
        try {
            m = OutputBuffers.allocate(udp.host().pool(), payload.length);
            m.copyBack(0, payload);
        } catch (NoBufferSpaceException e) {
            return Ipv4.OutputResult.NO_BUFFERS;
        }
        return send(m, address, port);
    }

    /** Sends {@code payload} (consumed, not copied) to {@code address}:{@code port}. */
    public Ipv4.OutputResult send(Mbuf payload, Ipv4Address address, int port) {
        open();
        if (localPort == 0) {
            bind(Ipv4Address.ANY, 0);
        }
        return udp.output(payload, localAddress, localPort, address, port);
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

    public Ipv4Address localAddress() {
        return localAddress;
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
        if (localPort != 0) {
            udp.unbind(localAddress, localPort);
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
