package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.InternetChecksum;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;
import org.jmbuf.wire.TcpHeader;

/**
 * Random segments against an established connection: any flags, sequence and acknowledgment numbers near
 * the connection's or anywhere, random option bytes (well-formed or not), payloads of any length, some
 * with a bad checksum; the clock moves between them so that timers fire. Whatever arrives, no exception
 * escapes the stack, the connection's data stream stays right, and when everything is closed the pool
 * holds nothing. The stream check works because every payload byte is a function of its sequence number:
 * whatever the application reads at stream offset k must be that function at the peer's ISN + 1 + k, so
 * any mistake in trimming, overlap handling or reassembly shows.
 */
class TcpFuzzTest {
    private static final Ipv4Address LOCAL = Ipv4Address.parse("192.0.2.1");
    private static final Ipv4Address PEER = Ipv4Address.parse("192.0.2.2");
    private static final int PEER_ISN = 0x7fff_ff00; // the stream crosses 2^31 early
    private static final int PEER_PORT = 40000;

    /** One random segment, relative to the connection's sequence numbers. */
    record Fuzz(int flags, long seqOffset, long ackOffset, int window, byte[] options, int length,
            boolean badChecksum, int advanceMillis) { }

    @Provide
    Arbitrary<List<Fuzz>> segments() {
        Arbitrary<Long> near = Arbitraries.longs().between(-70_000, 70_000);
        Arbitrary<Long> anywhere = Arbitraries.longs().between(0, 0xffff_ffffL);
        Arbitrary<Long> offset = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.longs().between(-3000, 6000)),
                net.jqwik.api.Tuple.of(2, near), net.jqwik.api.Tuple.of(1, anywhere));
        Arbitrary<Integer> flags = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, Arbitraries.just(TcpHeader.ACK)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(TcpHeader.ACK | TcpHeader.PSH)),
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(0, 0x1ff)));
        Arbitrary<byte[]> options = Arbitraries.integers().between(0, 10).flatMap(words ->
                Arbitraries.bytes().array(byte[].class).ofSize(4 * words));
        Arbitrary<Fuzz> one = Combinators.combine(flags, offset, offset, Arbitraries.integers().between(0, 0xffff),
                options, Arbitraries.integers().between(0, 1460), Arbitraries.integers().between(0, 19),
                Arbitraries.integers().between(0, 300))
                .as((f, s, a, w, o, l, bad, t) -> new Fuzz(f, s, a, w, o, l, bad == 0, t));
        return one.list().ofMinSize(1).ofMaxSize(60);
    }

    @Property(tries = 150)
    void noExceptionNoCorruptionNoLeak(@ForAll("segments") List<Fuzz> fuzz) {
        MbufPool pool = MbufPool.builder().build();
        List<byte[]> sent = new ArrayList<>();
        TcpConnection server;
        try (Simulation sim = new Simulation(pool, 3)) {
            Host host = sim.host("h");
            RawIpInterface tun = host.attach(new RawIpInterface("tun0", 1500, m -> {
                try (m) {
                    sent.add(m.toByteArray());
                }
            }));
            host.addIpv4(tun, LOCAL, 24);
            TcpListener listener = host.tcp().listen(80, 4);
            inject(pool, tun, host, TcpHeader.SYN, PEER_ISN, 0, 65535, mssOption(), 0, false);
            byte[] synAck = sent.getLast();
            int iss = ByteBuffer.wrap(synAck).getInt(20 + 4);
            inject(pool, tun, host, TcpHeader.ACK, PEER_ISN + 1, iss + 1, 65535, new byte[0], 0, false);
            server = listener.accept();
            assertNotNull(server, "the handshake completes");
            byte[] reply = new byte[3000];
            for (int i = 0; i < reply.length; i++) {
                reply[i] = (byte) i;
            }
            server.write(reply, 0, reply.length);
            long streamBase = (PEER_ISN + 1) & 0xffff_ffffL;
            long[] read = {0};
            byte[] buffer = new byte[4096];
            for (Fuzz f : fuzz) {
                int seq = (int) (streamBase + f.seqOffset());
                int ack = (int) (iss + 1 + f.ackOffset());
                inject(pool, tun, host, f.flags(), seq, ack, f.window(), f.options(), f.length(), f.badChecksum());
                sim.run(Duration.ofMillis(f.advanceMillis()));
                for (int n; (n = server.read(buffer, 0, buffer.length)) > 0; ) {
                    for (int i = 0; i < n; i++) {
                        assertEquals(payloadByte(streamBase + read[0] + i), buffer[i],
                                "stream byte " + (read[0] + i) + " of " + server);
                    }
                    read[0] += n;
                }
            }
            server.close();
            listener.close();
        }
        assertTrue(pool.stats().isQuiescent(), () -> "left in use: " + pool.stats() + "\n" + pool.leakReport());
    }

    /** The byte the peer's stream has at (unwrapped) sequence number {@code seq}. */
    private static byte payloadByte(long seq) {
        long x = (seq & 0xffff_ffffL) * 0x9E37_79B9L;
        return (byte) (x >>> 24);
    }

    private static byte[] mssOption() {
        return new byte[] {2, 4, 0x05, (byte) 0xb4};
    }

    private static void inject(MbufPool pool, RawIpInterface tun, Host host, int flags, int seq, int ack, int window,
            byte[] options, int length, boolean badChecksum) {
        int tcpLength = TcpHeader.MIN_LENGTH + options.length + length;
        byte[] packet = new byte[Ipv4Header.MIN_LENGTH + tcpLength];
        MemorySegment bytes = MemorySegment.ofArray(packet);
        new Ipv4Header().initialize(bytes).setTotalLength(packet.length).setTtl(64).setProtocol(IpProtocol.TCP)
                .setSource(PEER).setDestination(LOCAL).fillChecksum();
        ByteBuffer b = ByteBuffer.wrap(packet, Ipv4Header.MIN_LENGTH, tcpLength);
        b.putShort((short) PEER_PORT).putShort((short) 80).putInt(seq).putInt(ack);
        b.putShort((short) ((TcpHeader.MIN_LENGTH + options.length) / 4 << 12 | flags & 0x1ff));
        b.putShort((short) window).putShort((short) 0).putShort((short) 0).put(options);
        for (int i = 0; i < length; i++) {
            b.put(payloadByte((seq & 0xffff_ffffL) + i));
        }
        long sum = InternetChecksum.ipv4PseudoHeader(PEER.bits(), LOCAL.bits(), IpProtocol.TCP, tcpLength)
                + InternetChecksum.sum(bytes, Ipv4Header.MIN_LENGTH, tcpLength);
        int checksum = InternetChecksum.finish(sum) ^ (badChecksum ? 0x0101 : 0);
        ByteBuffer.wrap(packet).putShort(Ipv4Header.MIN_LENGTH + 16, (short) checksum);
        Mbuf m = pool.devget(bytes);
        tun.receive(m);
        host.poll();
    }
}
