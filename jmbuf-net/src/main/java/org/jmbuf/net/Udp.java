package org.jmbuf.net;

import java.util.HashMap;
import java.util.Map;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.wire.IcmpMessage;
import org.jmbuf.wire.InternetChecksum;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;
import org.jmbuf.wire.UdpHeader;

/**
 * UDP over IPv4 ({@code udp_usrreq.c}, RFC 768 and RFC 1122 §4.1): checks length and checksum,
 * delivers datagrams to the socket bound to their port (a socket bound to the address beats one bound to
 * any), and answers datagrams for unbound ports with Port Unreachable. The payload reaches the socket
 * without a copy: the headers are trimmed off with {@link Mbuf#adj}.
 */
public final class Udp {
    /** UDP events and drop reasons ({@code struct udpstat}). */
    public enum UdpCounter implements Counter {
        RECEIVED("datagrams received"),
        TOO_SHORT("datagrams shorter than the UDP header"),
        BAD_LENGTH("datagrams whose length field disagrees with the packet"),
        BAD_CHECKSUM("datagrams with a bad checksum"),
        NO_CHECKSUM("datagrams without a checksum"),
        NO_PORT("datagrams for a port nobody is bound to"),
        NO_PORT_BROADCAST("broadcast or multicast datagrams for a port nobody is bound to"),
        SOCKET_FULL("datagrams dropped because the socket's queue was full"),
        NO_BUFFERS("datagrams dropped for lack of buffers to read their headers"),
        DELIVERED("datagrams delivered to sockets"),
        SENT("datagrams sent"),
        SEND_FAILED("datagrams not sent (no route, too big, or no buffers)");

        private final String description;

        UdpCounter(String description) {
            this.description = description;
        }

        @Override
        public String description() {
            return description;
        }
    }

    private record Binding(Ipv4Address address, int port) { }

    private final Host host;
    private final Counters<UdpCounter> counters = new Counters<>("udp", UdpCounter.class);
    private final Map<Binding, UdpSocket> bindings = new HashMap<>();
    private final UdpHeader view = new UdpHeader();
    private final org.jmbuf.buf.MbufOwner socketOwner;
    private final Ipv4Header ipView = new Ipv4Header();
    private int nextEphemeral = 49152;

    Udp(Host host) {
        this.host = host;
        this.socketOwner = host.pool().owner("udp", host.name() + ": socket receive queues");
    }

    public Counters<UdpCounter> counters() {
        return counters;
    }

    /** A new, unbound socket. */
    public UdpSocket open() {
        return new UdpSocket(this);
    }

    Host host() {
        return host;
    }

    void bind(UdpSocket socket, Ipv4Address address, int port) {
        if (port == 0) {
            port = ephemeralPort(address);
        }
        Binding binding = new Binding(address, port);
        if (bindings.containsKey(binding)) {
            throw new IllegalStateException("address in use: " + address + ":" + port);
        }
        bindings.put(binding, socket);
        socket.bound(address, port);
    }

    void unbind(Ipv4Address address, int port) {
        bindings.remove(new Binding(address, port));
    }

    private int ephemeralPort(Ipv4Address address) {
        for (int i = 0; i < 16384; i++) {
            int port = nextEphemeral;
            nextEphemeral = nextEphemeral == 65535 ? 49152 : nextEphemeral + 1;
            if (!bindings.containsKey(new Binding(address, port))) {
                return port;
            }
        }
        throw new IllegalStateException("no ephemeral port left");
    }

    /** {@code udp_input}: consumes {@code m}, an IPv4 packet whose UDP header starts at {@code offset}. */
    void input(NetworkInterface ifp, Mbuf m, int offset) {
        counters.increment(UdpCounter.RECEIVED);
        int ipPayload = m.length() - offset;
        if (ipPayload < UdpHeader.LENGTH) {
            drop(m, UdpCounter.TOO_SHORT);
            return;
        }
        UdpHeader udp;
        Ipv4Address source;
        Ipv4Address destination;
        try {
            Ipv4Header ip = ipView.wrap(m.ptr(0, offset));
            source = ip.source();
            destination = ip.destination();
            udp = view.wrap(m.ptr(offset, UdpHeader.LENGTH));
        } catch (NoBufferSpaceException e) {
            drop(m, UdpCounter.NO_BUFFERS);
            return;
        }
        int length = udp.length();
        if (length < UdpHeader.LENGTH || length > ipPayload) {
            drop(m, UdpCounter.BAD_LENGTH);
            return;
        }
        int sourcePort = udp.sourcePort();
        int destinationPort = udp.destinationPort();
        int checksum = udp.checksum();
        if (length < ipPayload) {
            m.adj(length - ipPayload);
        }
        if (checksum == 0) {
            counters.increment(UdpCounter.NO_CHECKSUM);
        } else {
            long sum = InternetChecksum.ipv4PseudoHeader(source.bits(), destination.bits(), IpProtocol.UDP, length)
                    + InternetChecksum.sum(m, offset, length);
            if (InternetChecksum.fold(sum) != 0xffff) {
                drop(m, UdpCounter.BAD_CHECKSUM);
                return;
            }
        }
        UdpSocket socket = bindings.get(new Binding(destination, destinationPort));
        if (socket == null) {
            socket = bindings.get(new Binding(Ipv4Address.ANY, destinationPort));
        }
        if (socket == null) {
            if (destination.isMulticast() || host.ipv4().isBroadcast(ifp, destination)) {
                drop(m, UdpCounter.NO_PORT_BROADCAST);
                return;
            }
            counters.increment(UdpCounter.NO_PORT);
            host.icmp().error(m, IcmpMessage.DESTINATION_UNREACHABLE, IcmpMessage.UNREACHABLE_PORT, 0);
            m.free();
            return;
        }
        m.adj(offset + UdpHeader.LENGTH);
        m.claim(socketOwner);
        if (socket.deliver(new UdpSocket.Datagram(source, sourcePort, destination, destinationPort, m))) {
            counters.increment(UdpCounter.DELIVERED);
        } else {
            drop(m, UdpCounter.SOCKET_FULL);
        }
    }

    /** {@code udp_output}: prepends the header to {@code payload} (consumed) and sends it. */
    Ipv4.OutputResult output(Mbuf payload, Ipv4Address source, int sourcePort, Ipv4Address destination,
            int destinationPort) {
        int length = payload.length() + UdpHeader.LENGTH;
        if (length > 0xffff - Ipv4Header.MIN_LENGTH) {
            payload.free();
            counters.increment(UdpCounter.SEND_FAILED);
            return Ipv4.OutputResult.TOO_BIG;
        }
        Ipv4Address from = source == null || source.isAny() ? host.sourceAddressFor(destination) : source;
        if (from == null) {
            payload.free();
            counters.increment(UdpCounter.SEND_FAILED);
            return Ipv4.OutputResult.NO_ROUTE;
        }
        try {
            payload.prepend(UdpHeader.LENGTH);
            UdpHeader udp = view.wrap(payload.ptrRw(0, UdpHeader.LENGTH));
            udp.setSourcePort(sourcePort).setDestinationPort(destinationPort).setLength(length).setChecksum(0);
            long sum = InternetChecksum.ipv4PseudoHeader(from.bits(), destination.bits(), IpProtocol.UDP, length)
                    + InternetChecksum.sum(payload, 0, length);
            int checksum = InternetChecksum.finish(sum);
            view.wrap(payload.ptrRw(0, UdpHeader.LENGTH)).setChecksum(checksum == 0 ? 0xffff : checksum);
        } catch (NoBufferSpaceException e) {
            payload.free();
            counters.increment(UdpCounter.SEND_FAILED);
            return Ipv4.OutputResult.NO_BUFFERS;
        }
        Ipv4.OutputResult result = host.ipv4().output(payload, from, destination, IpProtocol.UDP, Ipv4.DEFAULT_TTL,
                false);
        counters.increment(result == Ipv4.OutputResult.SENT ? UdpCounter.SENT : UdpCounter.SEND_FAILED);
        return result;
    }

    private void drop(Mbuf m, UdpCounter reason) {
        counters.increment(reason);
        m.free();
    }
}
