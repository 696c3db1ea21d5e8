package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.IcmpMessage;
import org.jmbuf.wire.InternetChecksum;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;
import org.junit.jupiter.api.Test;

class RawIpInterfaceTest {
    @Test
    void anEchoRequestInABarePacketIsAnsweredWithABarePacket() {
        MbufPool pool = MbufPool.builder().build();
        List<byte[]> sent = new ArrayList<>();
        try (Simulation sim = new Simulation(pool, 1)) {
            Host h = sim.host("h");
            RawIpInterface tun = h.attach(new RawIpInterface("tun0", 1500, m -> {
                try (m) {
                    sent.add(m.toByteArray());
                }
            }));
            Ipv4Address us = Ipv4Address.parse("198.51.100.2");
            Ipv4Address peer = Ipv4Address.parse("198.51.100.1");
            h.addIpv4(tun, us, 30);
            byte[] packet = new byte[20 + 8 + 4];
            MemorySegment bytes = MemorySegment.ofArray(packet);
            new Ipv4Header().initialize(bytes).setTotalLength(packet.length).setTtl(64).setProtocol(IpProtocol.ICMP)
                    .setSource(peer).setDestination(us).fillChecksum();
            IcmpMessage.of(bytes.asSlice(20)).setType(IcmpMessage.ECHO_REQUEST).setIdentifier(9).setSequence(1);
            IcmpMessage.of(bytes.asSlice(20)).setChecksum(InternetChecksum.checksum(bytes, 20, 12));
            Mbuf m = pool.devget(bytes);
            tun.receive(m);
            sim.run(Duration.ofMillis(10));
            assertEquals(1, sent.size(), h.netstat());
            MemorySegment reply = MemorySegment.ofArray(sent.getFirst());
            Ipv4Header ip = Ipv4Header.of(reply);
            assertEquals(us, ip.source());
            assertEquals(peer, ip.destination());
            assertTrue(ip.isChecksumValid());
            assertEquals(IcmpMessage.ECHO_REPLY, IcmpMessage.of(reply.asSlice(20)).type());
            assertEquals(0, h.arp().counters().get(Arp.ArpCounter.REQUESTS_SENT), "no ARP on a raw IP link");
        }
    }
}
