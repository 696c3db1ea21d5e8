package org.jmbuf.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.junit.jupiter.api.Test;

class InternetChecksumTest {
    /** A plain 16-bit word loop, the reference the fast sum must agree with. */
    private static int reference(byte[] data, int off, int len) {
        long sum = 0;
        for (int i = 0; i < len; i += 2) {
            int hi = data[off + i] & 0xff;
            int lo = i + 1 < len ? data[off + i + 1] & 0xff : 0;
            sum += hi << 8 | lo;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return ~(int) sum & 0xffff;
    }

    @Test
    void rfc1071Example() {
        // RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2, so the checksum is 220d.
        byte[] data = HexFormat.of().parseHex("0001f203f4f5f6f7");
        assertEquals(0xddf2, InternetChecksum.fold(InternetChecksum.sum(MemorySegment.ofArray(data))));
        assertEquals(0x220d, InternetChecksum.checksum(MemorySegment.ofArray(data), 0, data.length));
    }

    @Test
    void knownIpv4HeaderChecksum() {
        // 192.0.2.1 -> 198.51.100.7, UDP, total length 0x73, DF, TTL 64; the checksum worked out by hand:
        // 4500 + 0073 + 0000 + 4000 + 4011 + c000 + 0201 + c633 + 6407 = 2b1bf, folded b1c1, complemented 4e3e.
        byte[] header = HexFormat.of().parseHex("450000730000400040110000c0000201c6336407");
        assertEquals(0x4e3e, InternetChecksum.checksum(MemorySegment.ofArray(header), 0, header.length));
    }

    @Property
    void flatSumMatchesTheWordLoop(@ForAll @Size(max = 300) byte[] data, @ForAll @IntRange(max = 3) int skip) {
        int off = Math.min(skip, data.length);
        int len = data.length - off;
        assertEquals(reference(data, off, len), InternetChecksum.checksum(MemorySegment.ofArray(data), off, len));
    }

    @Test
    void aRangeLongerThanOneRunIsSummedWhole() {
        // Past 1 GiB the sum runs in several loops; words either side of the boundary, and the odd tail, count.
        long run = 1L << 30;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment big = arena.allocate(run + 7);
            big.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x12);
            big.set(ValueLayout.JAVA_BYTE, run - 1, (byte) 0x34);
            big.set(ValueLayout.JAVA_BYTE, run, (byte) 0x56);
            big.set(ValueLayout.JAVA_BYTE, run + 6, (byte) 0x78);
            // 0x1200 + 0x0034 + 0x5600 + 0x7800 (the last byte, alone, is a high byte)
            assertEquals(0x1200 + 0x0034 + 0x5600 + 0x7800, InternetChecksum.fold(InternetChecksum.sum(big)));
            // From an odd offset the pairs shift: 0x0000... + 0x3456 + 0x0000 + 0x0078
            assertEquals(0x3456 + 0x0078, InternetChecksum.fold(InternetChecksum.sum(big, 1, run + 6)));
        }
    }

    @Test
    void aRangeOutsideTheSegmentIsRefused() {
        MemorySegment s = MemorySegment.ofArray(new byte[10]);
        assertThrows(IndexOutOfBoundsException.class, () -> InternetChecksum.sum(s, 4, 8));
        assertThrows(IndexOutOfBoundsException.class, () -> InternetChecksum.sum(s, -1, 2));
    }

    @Property(tries = 300)
    void chainSumIsTheSameForEverySegmentation(@ForAll @Size(min = 1, max = 600) byte[] data,
            @ForAll @IntRange(min = 1, max = 599) int cut1, @ForAll @IntRange(min = 1, max = 599) int cut2,
            @ForAll @IntRange(max = 5) int start) {
        MbufPool pool = MbufPool.shared();
        int a = Math.min(cut1, cut2) % data.length;
        int b = Math.max(cut1, cut2) % data.length;
        try (Mbuf m = pool.getPacket()) {
            // three pieces joined with cat, each in its own segment when it does not fit the trailing space
            m.copyBack(0, java.util.Arrays.copyOfRange(data, 0, Math.min(a, b)));
            try (Mbuf second = pool.getCluster(true); Mbuf third = pool.getPacket()) {
                second.copyBack(0, java.util.Arrays.copyOfRange(data, Math.min(a, b), Math.max(a, b)));
                third.copyBack(0, java.util.Arrays.copyOfRange(data, Math.max(a, b), data.length));
                m.cat(second);
                m.cat(third);
            }
            int from = Math.min(start, data.length);
            int len = data.length - from;
            assertEquals(reference(data, from, len), InternetChecksum.finish(InternetChecksum.sum(m, from, len)));
            InternetChecksum.ChainSum reused = new InternetChecksum.ChainSum();
            for (int i = 0; i < 2; i++) { // no state carried from one sum to the next
                assertEquals(reference(data, from, len), InternetChecksum.finish(reused.sum(m, from, len)));
                assertEquals(reference(data, 0, a), InternetChecksum.finish(reused.sum(m, 0, a)));
            }
        }
    }

    @Test
    void ipv4PseudoHeaderOfAKnownUdpDatagram() {
        // UDP 192.0.2.1:5353 -> 198.51.100.7:53, payload "hello, mbuf", checksum computed by hand below.
        byte[] udp = HexFormat.of().parseHex("14e900350013000068656c6c6f2c206d627566");
        long sum = InternetChecksum.ipv4PseudoHeader(Ipv4Address.parse("192.0.2.1").bits(),
                Ipv4Address.parse("198.51.100.7").bits(), 17, udp.length)
                + InternetChecksum.sum(MemorySegment.ofArray(udp));
        int checksum = InternetChecksum.finish(sum);
        udp[6] = (byte) (checksum >>> 8);
        udp[7] = (byte) checksum;
        long verify = InternetChecksum.ipv4PseudoHeader(Ipv4Address.parse("192.0.2.1").bits(),
                Ipv4Address.parse("198.51.100.7").bits(), 17, udp.length)
                + InternetChecksum.sum(MemorySegment.ofArray(udp));
        assertEquals(0xffff, InternetChecksum.fold(verify));
    }

    @Test
    void ipv6PseudoHeaderFromBytesEqualsFromAddresses() {
        Ipv6Address src = Ipv6Address.parse("2001:db8::1");
        Ipv6Address dst = Ipv6Address.parse("fe80::1:2:3:4");
        MemorySegment header = MemorySegment.ofArray(new byte[40]);
        src.write(header, 8);
        dst.write(header, 24);
        assertEquals(InternetChecksum.fold(InternetChecksum.ipv6PseudoHeader(src, dst, 58, 70000)),
                InternetChecksum.fold(InternetChecksum.ipv6PseudoHeader(header, 8, 24, 58, 70000)));
        assertEquals(InternetChecksum.ipv6PseudoHeader(src, dst, 58, 70000),
                InternetChecksum.ipv6PseudoHeader(src.high(), src.low(), dst.high(), dst.low(), 58, 70000));
    }
}
