package org.jmbuf.net;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;
import org.jmbuf.wire.Ipv4OptionCursor;

/**
 * Fragmentation on output ({@code ip_fragment}, RFC 791 §3.2 and RFC 1812 §5.2.6): cuts a datagram
 * into fragments that fit the link. Fragment payloads are {@link Mbuf#copy copies} that share the
 * original's clusters; only headers are written. Options without the copied flag go only into the first
 * fragment.
 */
final class Ipv4Fragmenter {
    private Ipv4Fragmenter() {
    }

    static Ipv4.OutputResult fragment(Ipv4 ipv4, NetworkInterface ifp, Ipv4Address nextHop, Mbuf packet) {
        Counters<Ipv4.Ipv4Counter> counters = ipv4.counters();
        int headerLength = (packet.byteAt(0) & 0xf) * 4;
        byte[] firstHeader = new byte[headerLength];
        packet.copyData(0, headerLength, firstHeader, 0);
        Ipv4Header original = Ipv4Header.of(MemorySegment.ofArray(firstHeader));
        if (original.dontFragment()) {
            counters.increment(Ipv4.Ipv4Counter.CANT_FRAGMENT);
            ipv4.host().icmp().error(packet, org.jmbuf.wire.IcmpMessage.DESTINATION_UNREACHABLE,
                    org.jmbuf.wire.IcmpMessage.UNREACHABLE_NEED_FRAGMENTATION, ifp.mtu());
            packet.free();
            return Ipv4.OutputResult.TOO_BIG;
        }
        byte[] laterHeader = copiedOptionsHeader(firstHeader);
        int payloadLength = packet.length() - headerLength;
        int baseOffset = original.fragmentOffset();
        boolean originalMore = original.moreFragments();
        List<Mbuf> fragments = new ArrayList<>();
        try {
            int done = 0;
            while (done < payloadLength) {
                byte[] hdr = done == 0 ? firstHeader : laterHeader;
                int room = (ifp.mtu() - hdr.length) & ~7;
                if (room <= 0) {
                    throw new IllegalStateException("MTU " + ifp.mtu() + " cannot carry an IPv4 fragment");
                }
                int n = Math.min(room, payloadLength - done);
                boolean last = done + n == payloadLength;
                Mbuf fragment = packet.copy(headerLength + done, n);
                fragments.add(fragment);
                fragment.prepend(hdr.length);
                fragment.copyBackCow(0, hdr);
                Ipv4Header h = Ipv4Header.of(fragment.ptrRw(0, hdr.length));
                h.setTotalLength(hdr.length + n);
                int offsetUnits = (baseOffset + done) / 8;
                h.setFlagsAndFragmentOffset(offsetUnits | (last && !originalMore ? 0 : Ipv4Header.MORE_FRAGMENTS));
                h.fillChecksum();
                done += n;
            }
        } catch (NoBufferSpaceException e) {
            fragments.forEach(Mbuf::free);
            packet.free();
            counters.increment(Ipv4.Ipv4Counter.NO_BUFFERS);
            return Ipv4.OutputResult.NO_BUFFERS;
        }
        packet.free();
        counters.increment(Ipv4.Ipv4Counter.FRAGMENTED);
        counters.add(Ipv4.Ipv4Counter.FRAGMENTS_CREATED, fragments.size());
        for (Mbuf f : fragments) {
            counters.increment(Ipv4.Ipv4Counter.SENT);
            ipv4.transmit(ifp, nextHop, f);
        }
        return Ipv4.OutputResult.SENT;
    }

    /** The header for fragments after the first: the fixed part and the options with the copied flag. */
    private static byte[] copiedOptionsHeader(byte[] header) {
        if (header.length == Ipv4Header.MIN_LENGTH) {
            return header;
        }
        byte[] out = new byte[header.length];
        System.arraycopy(header, 0, out, 0, Ipv4Header.MIN_LENGTH);
        int length = Ipv4Header.MIN_LENGTH;
        Ipv4OptionCursor options = new Ipv4OptionCursor().reset(Ipv4Header.of(MemorySegment.ofArray(header)).options());
        while (options.next()) {
            if (options.isCopied()) {
                MemorySegment.copy(options.option(), 0, MemorySegment.ofArray(out), length, options.length());
                length += options.length();
            }
        }
        int padded = (length + 3) & ~3; // the tail of out is zeros: End of Option List
        byte[] result = java.util.Arrays.copyOf(out, padded);
        new Ipv4Header().initialize(MemorySegment.ofArray(result)).setVersionAndHeaderLength(padded);
        return result;
    }
}
