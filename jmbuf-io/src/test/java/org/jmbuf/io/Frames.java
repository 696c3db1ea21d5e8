package org.jmbuf.io;

import java.nio.ByteBuffer;

/** Well-formed frames of each link type (IPv4 and IPv6 UDP inside), for round trips and tshark. */
final class Frames {
    private Frames() {
    }

    static byte[] ipv4Udp(int payload) {
        int total = 20 + 8 + payload;
        ByteBuffer b = ByteBuffer.allocate(total);
        b.put((byte) 0x45).put((byte) 0).putShort((short) total).putShort((short) 1).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 17).putShort((short) 0).put(new byte[] {10, 0, 0, 1})
                .put(new byte[] {10, 0, 0, 2});
        b.putShort(2, (short) total);
        int sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += b.getShort(i) & 0xFFFF;
        }
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        b.putShort(10, (short) ~sum);
        b.putShort((short) 4000).putShort((short) 9).putShort((short) (8 + payload)).putShort((short) 0);
        for (int i = 0; i < payload; i++) {
            b.put((byte) ('a' + i % 26));
        }
        return b.array();
    }

    static byte[] ipv6Udp(int payload) {
        ByteBuffer b = ByteBuffer.allocate(40 + 8 + payload);
        b.putInt(0x6000_0000).putShort((short) (8 + payload)).put((byte) 17).put((byte) 64);
        b.put(new byte[] {(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
        b.put(new byte[] {(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
        // UDP over IPv6 needs a checksum; 0 is "none", which Wireshark reports but does not call malformed
        b.putShort((short) 4000).putShort((short) 9).putShort((short) (8 + payload)).putShort((short) 0);
        for (int i = 0; i < payload; i++) {
            b.put((byte) ('A' + i % 26));
        }
        return b.array();
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
