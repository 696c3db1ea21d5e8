package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.IpProtocol;
import org.junit.jupiter.api.Test;

/** The tiny-fragment attacks of RFC 1858 §3 (with RFC 3128) are refused by IPv4 reassembly. */
class TinyFragmentTest {
    private static Ipv4ReassemblyTest.Bench bench() {
        return new Ipv4ReassemblyTest.Bench(MbufPool.builder().build(), SimulatedLink.Delivery.COPY, 1500);
    }

    private static long tiny(Ipv4ReassemblyTest.Bench b) {
        return b.b.ipv4().reassembly().counters().get(Ipv4Reassembly.ReassemblyCounter.TINY_FRAGMENT);
    }

    @Test
    void aFirstFragmentTooShortForItsTransportHeaderIsDropped() {
        try (Ipv4ReassemblyTest.Bench b = bench()) {
            byte[] tcp = Ipv4ReassemblyTest.filled(64, 1);
            // 8 bytes of a TCP segment: the ports and sequence number, but not the flags a filter must see.
            b.inject(Ipv4ReassemblyTest.piece(new Ipv4ReassemblyTest.Packet().protocol(IpProtocol.TCP).id(5), tcp, 0,
                    8, true));
            assertEquals(1, tiny(b));
            assertEquals(0, b.b.ipv4().reassembly().pending());
        }
    }

    @Test
    void aTcpFragmentAtOffsetEightIsDropped() {
        try (Ipv4ReassemblyTest.Bench b = bench()) {
            byte[] tcp = Ipv4ReassemblyTest.filled(64, 1);
            b.inject(Ipv4ReassemblyTest.piece(new Ipv4ReassemblyTest.Packet().protocol(IpProtocol.TCP).id(6), tcp, 8,
                    64, false));
            assertEquals(1, tiny(b));
        }
    }

    @Test
    void aFirstFragmentHoldingTheWholeUdpHeaderIsAccepted() {
        try (Ipv4ReassemblyTest.Bench b = bench()) {
            byte[] udp = Ipv4ReassemblyTest.udpAtoB(Ipv4ReassemblyTest.PORT, Ipv4ReassemblyTest.filled(40, 2));
            b.inject(Ipv4ReassemblyTest.piece(Ipv4ReassemblyTest.udpPacket().id(7), udp, 0, 8, true));
            assertEquals(0, tiny(b));
            assertEquals(1, b.b.ipv4().reassembly().pending(), Arrays.toString(udp));
        }
    }
}
