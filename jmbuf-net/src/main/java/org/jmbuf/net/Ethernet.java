package org.jmbuf.net;

import java.lang.foreign.MemorySegment;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.PacketFlags;
import org.jmbuf.wire.EtherType;
import org.jmbuf.wire.EthernetFrame;
import org.jmbuf.wire.MacAddress;

/**
 * Ethernet input and output ({@code ether_input}, {@code ether_output}): checks and strips the link
 * header of received frames and hands the payload to ARP, IPv4 or IPv6; prepends the header to outgoing
 * packets. The header is read from a copy ({@link HeaderScratch}) and built in memory of our own, then
 * copied into the bytes prepended for it, so no view of the chain is made.
 */
final class Ethernet {
    private final Host host;
    /** The view the link header is read and built through: over {@link #in} or {@link #out}, never the chain. */
    private final EthernetFrame frame = new EthernetFrame();
    /** The header of the frame being input ({@code ether_input}'s copy of {@code struct ether_header}). */
    private final HeaderScratch in = new HeaderScratch(EthernetFrame.HEADER_LENGTH);
    /** The header of the frame being output, built here and copied into the prepended bytes. */
    private final MemorySegment out = MemorySegment.ofArray(new byte[EthernetFrame.HEADER_LENGTH]);

    Ethernet(Host host) {
        this.host = host;
    }

    /** {@code ether_input}: consumes {@code m}. */
    void input(NetworkInterface ifp, Mbuf m) {
        Counters<InterfaceCounter> counters = ifp.counters();
        if (m.length() < EthernetFrame.HEADER_LENGTH) {
            counters.increment(InterfaceCounter.INPUT_ERRORS);
            m.free();
            return;
        }
        EthernetFrame header = frame.wrap(in.read(m, 0, EthernetFrame.HEADER_LENGTH));
        int etherType = header.etherType();
        int headerLength = EthernetFrame.HEADER_LENGTH;
        if (etherType == EtherType.VLAN) {
            // No VLAN interfaces: a tagged frame is not for any protocol of ours.
            counters.increment(InterfaceCounter.UNKNOWN_PROTOCOL);
            m.free();
            return;
        }
        MacAddress destination = header.destination();
        if (destination.isMulticast()) {
            counters.increment(InterfaceCounter.MULTICAST_IN);
            m.setPacketFlags(m.packetFlags()
                    | (destination.isBroadcast() ? PacketFlags.LINK_BROADCAST : PacketFlags.LINK_MULTICAST));
        } else if (!destination.equals(ifp.linkAddress())) {
            counters.increment(InterfaceCounter.NOT_FOR_US);
            m.free();
            return;
        }
        m.adj(headerLength);
        switch (etherType) {
            case EtherType.IPV4 -> host.ipv4().input(ifp, m);
            case EtherType.ARP -> host.arp().input(ifp, m);
            case EtherType.IPV6 -> host.ipv6().input(ifp, m);
            default -> {
                counters.increment(InterfaceCounter.UNKNOWN_PROTOCOL);
                m.free();
            }
        }
    }

    /**
     * {@code ether_output} once the destination is resolved: prepends the header and transmits; consumes
     * {@code m}.
     */
    void output(NetworkInterface ifp, Mbuf m, MacAddress destination, int etherType) {
        try {
            m.prepend(EthernetFrame.HEADER_LENGTH);
        } catch (org.jmbuf.buf.NoBufferSpaceException e) {
            ifp.counters().increment(InterfaceCounter.OUTPUT_ERRORS);
            m.free();
            return;
        }
        EthernetFrame header = frame.wrap(out);
        header.setDestination(destination);
        header.setSource(ifp.linkAddress());
        header.setEtherType(etherType);
        m.copyBack(0, out); // the prepended bytes are writable: no copy on write
        ifp.transmit(m);
    }
}
