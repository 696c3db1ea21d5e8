package org.jmbuf.net;

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
 * null; {@link #receive(Source)} does the same without allocating.
 *
 * <p>The queue holds no object per datagram but the payload chain: the addresses, ports and zone of each
 * are kept in a ring of primitive arrays (and one array of interfaces), which grows by doubling up to the
 * limit and never shrinks.
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

    /**
     * Where a datagram taken with {@link #receive(Source)} came from: a holder the caller makes once and
     * passes to every call, which overwrites it (as {@link java.net.DatagramPacket} is reused). The address
     * is held as bits, so filling it allocates nothing; {@link #address()} makes a record when one is
     * wanted. A new holder holds the IPv4 address 0.0.0.0, port 0; a {@code receive} that finds nothing
     * leaves the holder as it was. Not thread-safe.
     */
    public static final class Source {
        private int version = 4;
        private long high;
        private long low;
        private int port;
        private NetworkInterface zone;

        /** A holder for {@link #receive(Source)}, holding 0.0.0.0 port 0 until filled. */
        public Source() {
        }

        /** The address family: 4 or 6. */
        public int version() {
            return version;
        }

        /**
         * The IPv4 address, as {@link Ipv4Address#bits()}.
         *
         * @throws IllegalStateException if the source is an IPv6 address
         */
        public int ipv4Bits() {
            if (version != 4) {
                throw new IllegalStateException("not an IPv4 source: " + this);
            }
            return (int) low;
        }

        /**
         * Bytes 0-7 of the IPv6 address, as {@link Ipv6Address#high()}: plain, no zone inside.
         *
         * @throws IllegalStateException if the source is an IPv4 address
         */
        public long ipv6High() {
            ipv6();
            return high;
        }

        /**
         * Bytes 8-15 of the IPv6 address, as {@link Ipv6Address#low()}.
         *
         * @throws IllegalStateException if the source is an IPv4 address
         */
        public long ipv6Low() {
            ipv6();
            return low;
        }

        private void ipv6() {
            if (version != 6) {
                throw new IllegalStateException("not an IPv6 source: " + this);
            }
        }

        /** The source port. */
        public int port() {
            return port;
        }

        /** The interface of a scoped IPv6 source (a link-local address), else null: the address's zone. */
        public NetworkInterface zone() {
            return zone;
        }

        /** The address as a record (made by this call), plain: the zone is {@link #zone()}. */
        public IpAddress address() {
            return version == 4 ? new Ipv4Address((int) low) : new Ipv6Address(high, low);
        }

        /** The address as text, with its zone if it has one, and the port: {@code fe80::1%eth0 port 7}. */
        @Override
        public String toString() {
            return address() + (zone == null ? "" : "%" + zone.name()) + " port " + port;
        }

        void set(int version, long high, long low, int port, NetworkInterface zone) {
            this.version = version;
            this.high = high;
            this.low = low;
            this.port = port;
            this.zone = zone;
        }
    }

    private static final IpAddress[] DUAL_STACK = {Ipv4Address.ANY, Ipv6Address.UNSPECIFIED};
    /** The ring's first capacity: it doubles from here up to {@link #DEFAULT_QUEUE_LIMIT}. */
    private static final int FIRST_CAPACITY = 16;
    /** The words a slot takes in {@link #words}: version and ports, source high and low, destination high and low. */
    private static final int WORDS = 5;

    private final Udp udp;
    /** The queue ({@code so_rcv}): a ring of {@link #count} slots from {@link #head}; null until the first datagram. */
    private Mbuf[] payloads;
    /** Slot {@code i}'s words are {@code [WORDS * i, WORDS * i + WORDS)}: see {@link #WORDS}. */
    private long[] words;
    private NetworkInterface[] zones;
    private int head;
    private int count;
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

    /**
     * The oldest received datagram, or null if none is waiting. The caller frees it. Makes the record and its
     * address records; {@link #receive(Source)} takes a datagram without allocating.
     */
    public Datagram receive() {
        open();
        if (count == 0) {
            return null;
        }
        int i = head;
        long first = words[WORDS * i];
        IpAddress source = address(first, words[WORDS * i + 1], words[WORDS * i + 2]);
        IpAddress destination = address(first, words[WORDS * i + 3], words[WORDS * i + 4]);
        NetworkInterface zone = zones[i];
        return new Datagram(source, (int) first >>> 16, destination, (int) first & 0xffff, zone, take());
    }

    /**
     * Takes the oldest received datagram without allocating ({@code soreceive} into a caller's buffer): returns
     * its payload, which the caller now owns and must free, and writes its source address, port and zone into
     * {@code from}, overwriting what the holder held. Returns null, and leaves {@code from} as it was, if no
     * datagram is waiting. The destination address is not reported: {@link #receive()} gives it.
     *
     * @throws IllegalStateException if the socket is closed
     */
    public Mbuf receive(Source from) {
        Objects.requireNonNull(from, "from");
        open();
        if (count == 0) {
            return null;
        }
        int i = head;
        long first = words[WORDS * i];
        from.set((int) (first >>> 32), words[WORDS * i + 1], words[WORDS * i + 2], (int) first >>> 16, zones[i]);
        return take();
    }

    /** Removes the oldest slot and returns its payload. */
    private Mbuf take() {
        Mbuf payload = payloads[head];
        payloads[head] = null;
        zones[head] = null;
        head = (head + 1) & (payloads.length - 1);
        count--;
        return payload;
    }

    private static IpAddress address(long first, long high, long low) {
        return (first >>> 32) == 4 ? new Ipv4Address((int) low) : new Ipv6Address(high, low);
    }

    /** Datagrams waiting. */
    public int available() {
        return count;
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

    /**
     * Queues an IPv4 datagram, {@code payload} (headers trimmed), from {@code source}:{@code sourcePort} to
     * {@code destination}:{@code destinationPort} (address bits; the {@code sbappendaddr} of
     * {@code udp_input}). Returns false, queueing nothing and counting a drop, if the queue is full; the
     * caller then still owns {@code payload}.
     */
    boolean deliver4(Mbuf payload, int source, int sourcePort, int destination, int destinationPort) {
        return enqueue(payload, 4, 0, Integer.toUnsignedLong(source), sourcePort, 0,
                Integer.toUnsignedLong(destination), destinationPort, null);
    }

    /**
     * Queues an IPv6 datagram as {@link #deliver4} does, its addresses plain (no zone inside) as two halves
     * each; {@code zone} is the interface of a scoped source, else null.
     */
    boolean deliver6(Mbuf payload, long sourceHigh, long sourceLow, int sourcePort, long destinationHigh,
            long destinationLow, int destinationPort, NetworkInterface zone) {
        return enqueue(payload, 6, sourceHigh, sourceLow, sourcePort, destinationHigh, destinationLow,
                destinationPort, zone);
    }

    private boolean enqueue(Mbuf payload, int version, long sourceHigh, long sourceLow, int sourcePort,
            long destinationHigh, long destinationLow, int destinationPort, NetworkInterface zone) {
        if (count >= DEFAULT_QUEUE_LIMIT) {
            drops++;
            return false;
        }
        if (payloads == null || count == payloads.length) {
            grow();
        }
        int i = (head + count) & (payloads.length - 1);
        payloads[i] = payload;
        zones[i] = zone;
        words[WORDS * i] = (long) version << 32 | (long) sourcePort << 16 | destinationPort;
        words[WORDS * i + 1] = sourceHigh;
        words[WORDS * i + 2] = sourceLow;
        words[WORDS * i + 3] = destinationHigh;
        words[WORDS * i + 4] = destinationLow;
        count++;
        return true;
    }

    /** Makes the ring (or doubles it, its slots moved to the front in order); the capacity stays a power of two. */
    private void grow() {
        int capacity = payloads == null ? FIRST_CAPACITY : payloads.length * 2;
        Mbuf[] newPayloads = new Mbuf[capacity];
        long[] newWords = new long[WORDS * capacity];
        NetworkInterface[] newZones = new NetworkInterface[capacity];
        for (int n = 0; n < count; n++) {
            int i = (head + n) & (payloads.length - 1);
            newPayloads[n] = payloads[i];
            newZones[n] = zones[i];
            System.arraycopy(words, WORDS * i, newWords, WORDS * n, WORDS);
        }
        payloads = newPayloads;
        words = newWords;
        zones = newZones;
        head = 0;
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
        while (count > 0) {
            take().free();
        }
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("socket closed");
        }
    }
}
