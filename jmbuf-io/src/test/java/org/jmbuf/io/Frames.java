package org.jmbuf.io;

import java.nio.ByteBuffer;

/** Well-formed frames of each link type (IPv4 and IPv6 UDP inside), for round trips and tshark. */
final class Frames {
    private Frames() {
    }

    /** 192.0.2.1 and 198.51.100.2, documentation addresses (RFC 5737). */
    static final byte[] V4_SOURCE = {(byte) 192, 0, 2, 1};
    static final byte[] V4_DESTINATION = {(byte) 198, 51, 100, 2};
    /** 2001:db8::1 and 2001:db8::2 (RFC 3849). */
    static final byte[] V6_SOURCE = {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static final byte[] V6_DESTINATION = {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

    /** An IPv4/UDP datagram, 4000 to 9, with correct header and UDP checksums. */
    static byte[] ipv4Udp(int payload) {
        int total = 20 + 8 + payload;
        ByteBuffer b = ByteBuffer.allocate(total);
        b.put((byte) 0x45).put((byte) 0).putShort((short) total).putShort((short) 1).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 17).putShort((short) 0).put(V4_SOURCE).put(V4_DESTINATION);
        b.putShort(10, (short) ~fold(sum(b.array(), 0, 20)));
        b.putShort((short) 4000).putShort((short) 9).putShort((short) (8 + payload)).putShort((short) 0);
        for (int i = 0; i < payload; i++) {
            b.put((byte) ('a' + i % 26));
        }
        long pseudo = sum(V4_SOURCE, 0, 4) + sum(V4_DESTINATION, 0, 4) + 17 + 8 + payload;
        b.putShort(26, (short) udpChecksum(pseudo + sum(b.array(), 20, 8 + payload)));
        return b.array();
    }

    /** An IPv6/UDP datagram, 4000 to 9, with a correct UDP checksum. */
    static byte[] ipv6Udp(int payload) {
        ByteBuffer b = ByteBuffer.allocate(40 + 8 + payload);
        b.putInt(0x6000_0000).putShort((short) (8 + payload)).put((byte) 17).put((byte) 64);
        b.put(V6_SOURCE).put(V6_DESTINATION);
        b.putShort((short) 4000).putShort((short) 9).putShort((short) (8 + payload)).putShort((short) 0);
        for (int i = 0; i < payload; i++) {
            b.put((byte) ('A' + i % 26));
        }
        long pseudo = sum(V6_SOURCE, 0, 16) + sum(V6_DESTINATION, 0, 16) + 8 + payload + 17;
        b.putShort(46, (short) udpChecksum(pseudo + sum(b.array(), 40, 8 + payload)));
        return b.array();
    }

    private static long sum(byte[] data, int off, int len) {
        long sum = 0;
        for (int i = 0; i < len; i += 2) {
            sum += (data[off + i] & 0xff) << 8 | (i + 1 < len ? data[off + i + 1] & 0xff : 0);
        }
        return sum;
    }

    private static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) sum;
    }

    private static int udpChecksum(long sum) {
        int c = ~fold(sum) & 0xffff;
        return c == 0 ? 0xffff : c;
    }

    static byte[] ethernet(int etherType, byte[] payload, int... vlanTags) {
        ByteBuffer b = ByteBuffer.allocate(14 + 4 * vlanTags.length + payload.length);
        b.put(new byte[] {2, 0, 0, 0, 0, 2}).put(new byte[] {2, 0, 0, 0, 0, 1});
        for (int tpid : vlanTags) {
            b.putShort((short) tpid).putShort((short) 7);
        }
        return b.putShort((short) etherType).put(payload).array();
    }

    static byte[] sll(int protocol, byte[] payload) {
        return ByteBuffer.allocate(16 + payload.length).putShort((short) 0).putShort((short) 1).putShort((short) 6)
                .put(new byte[] {2, 0, 0, 0, 0, 1, 0, 0}).putShort((short) protocol).put(payload).array();
    }

    static byte[] sll2(int protocol, byte[] payload) {
        return ByteBuffer.allocate(20 + payload.length).putShort((short) protocol).putShort((short) 0).putInt(3)
                .putShort((short) 1).put((byte) 0).put((byte) 6).put(new byte[] {2, 0, 0, 0, 0, 1, 0, 0})
                .put(payload).array();
    }

    /** A frame of {@code type} carrying {@code ip} (an IPv4 or IPv6 packet). */
    static byte[] frame(LinkType type, byte[] ip) {
        int etherType = (ip[0] >> 4) == 6 ? LinkType.ETHERTYPE_IPV6 : LinkType.ETHERTYPE_IPV4;
        return switch (type.value()) {
            case 1 -> ethernet(etherType, ip);
            case 113 -> sll(etherType, ip);
            case 276 -> sll2(etherType, ip);
            default -> ip;
        };
    }
}
