package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv6Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The blocking socket API ({@link TcpStream}, {@link TcpServer}) from virtual threads, on a {@link HostLoop}
 * in real time: many clients echoing over loopback of both families, two hosts on a simulated link, timeouts
 * of every kind, refused connections, resets and half-close. Every wait is bounded.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TcpStreamTest {
    private static final Duration T = Duration.ofSeconds(20);
    private final MbufPool pool = MbufPool.builder().build();
    private HostLoop loop;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
        if (loop != null) {
            Throwable failure = loop.failure();
            loop.close();
            if (failure != null) {
                throw new AssertionError("the loop failed", failure);
            }
        }
    }

    private Host oneHost() {
        loop = new HostLoop("tcp-stream-test");
        Host h = loop.add(new Host("h", pool, loop.timers()));
        loop.start();
        return h;
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        toClose.add(c);
        return c;
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** An echo server: one virtual thread per accepted stream copying input to output, then closing. */
    private Thread echoServer(TcpServer server, AtomicInteger served) {
        return Thread.ofVirtual().name("echo-acceptor").start(() -> {
            while (true) {
                TcpStream s;
                try {
                    s = server.accept();
                } catch (IOException e) {
                    return; // closed
                }
                Thread.ofVirtual().start(() -> {
                    try (s) {
                        s.setReadTimeout(T);
                        s.setWriteTimeout(T);
                        s.getInputStream().transferTo(s.getOutputStream());
                        s.shutdownOutput();
                        served.incrementAndGet();
                    } catch (IOException e) {
                        System.out.println("echo session failed: " + e);
                    }
                });
            }
        });
    }

    private static byte[] echoOnce(TcpStream s, byte[] data) throws Exception {
        s.setReadTimeout(T);
        s.setWriteTimeout(T);
        // write from another virtual thread so that both directions flow at once
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                s.getOutputStream().write(data);
                s.shutdownOutput();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        byte[] got = s.getInputStream().readAllBytes();
        assertTrue(writer.join(T));
        return got;
    }

    @Test
    void manyVirtualThreadsEchoOverLoopbackOfBothFamilies() throws Exception {
        Host h = oneHost();
        TcpServer server = closeLater(TcpServer.listen(h, loop, 7, 128));
        AtomicInteger served = new AtomicInteger();
        Thread acceptor = echoServer(server, served);
        int clients = 64;
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int id = i;
                results.add(threads.submit(() -> {
                    String address = id % 2 == 0 ? "127.0.0.1" : "::1";
                    byte[] data = random(20_000 + id * 997, id);
                    try (TcpStream s = TcpStream.connect(h, loop, address, 7, T)) {
                        assertArrayEquals(data, echoOnce(s, data), "client " + id + " over " + address);
                    }
                    return null;
                }));
            }
            for (Future<?> f : results) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
        server.close();
        assertTrue(acceptor.join(T));
        awaitNoConnections(h);
        assertEquals(clients, served.get());
        long accepts = loop.call(() -> h.tcp().counters().get(Tcp.TcpCounter.ACCEPTS), T);
        assertEquals(clients, accepts);
    }

    private void awaitNoConnections(Host h) throws Exception {
        long deadline = System.nanoTime() + T.toNanos();
        // TIME_WAIT lasts 2 MSL: shorten it for the test by aborting what is left in TIME_WAIT only
        while (true) {
            List<TcpState> states = loop.call(
                    () -> h.tcp().connections().stream().map(TcpConnection::state).toList(), T);
            if (states.stream().allMatch(s -> s == TcpState.TIME_WAIT)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("connections left: " + states);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void twoHostsOnASimulatedLinkOverIpv4AndIpv6() throws Exception {
        loop = new HostLoop("tcp-two-hosts");
        SimulatedLink link = new SimulatedLink(loop.timers(), pool, 1500,
                new SimulatedLink.Conditions(Duration.ofMillis(1), Duration.ZERO, 0, 0), 1);
        Host a = loop.add(new Host("a", pool, loop.timers()));
        Host b = loop.add(new Host("b", pool, loop.timers()));
        NetworkInterface ethA = a.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_A));
        NetworkInterface ethB = b.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_B));
        a.addIpv4(ethA, TwoHostTest.A, 24);
        b.addIpv4(ethB, TwoHostTest.B, 24);
        Ipv6Address a6 = Ipv6Address.parse("2001:db8::a");
        Ipv6Address b6 = Ipv6Address.parse("2001:db8::b");
        a.ipv6().addAddress(ethA, a6, 64);
        b.ipv6().addAddress(ethB, b6, 64);
        loop.start();
        long deadline = System.nanoTime() + T.toNanos();
        while (!loop.call(() -> preferred(ethA, a6) && preferred(ethB, b6), T)) {
            assertTrue(System.nanoTime() < deadline, "DAD did not finish");
            Thread.sleep(20);
        }
        TcpServer server = closeLater(TcpServer.listen(b, loop, 7, 16));
        AtomicInteger served = new AtomicInteger();
        Thread acceptor = echoServer(server, served);
        byte[] data = random(1_000_000, 42);
        try (TcpStream s = TcpStream.connect(a, loop, TwoHostTest.B, 7, T)) {
            assertEquals(TwoHostTest.B + ":7", s.remoteAddress());
            assertArrayEquals(data, echoOnce(s, data));
        }
        try (TcpStream s = TcpStream.connect(a, loop, b6, 7, T)) {
            assertEquals("[2001:db8::b]:7", s.remoteAddress());
            assertArrayEquals(data, echoOnce(s, data));
        }
        String linkLocalB = loop.call(() -> Ipv6Scope.clear(b.nd().linkLocal(ethB)).toString(), T);
        try (TcpStream s = TcpStream.connect(a, loop, linkLocalB + "%eth0", 7, T)) {
            byte[] small = random(10_000, 7);
            assertArrayEquals(small, echoOnce(s, small));
        }
        server.close();
        assertTrue(acceptor.join(T));
        assertEquals(3, served.get());
        System.out.println(loop.call(() -> a.tcp().counters() + "" + b.tcp().counters() + ethA.counters()
                + ethB.counters(), T));
    }

    @Test
    void blockingStreamsSurviveALossyReorderingLink() throws Exception {
        loop = new HostLoop("tcp-lossy");
        SimulatedLink link = new SimulatedLink(loop.timers(), pool, 1500,
                new SimulatedLink.Conditions(Duration.ofMillis(2), Duration.ofMillis(2), 0.02, 0.01), 11);
        Host a = loop.add(new Host("a", pool, loop.timers()));
        Host b = loop.add(new Host("b", pool, loop.timers()));
        for (Host h : List.of(a, b)) {
            h.tcp().settings().setMinRto(Duration.ofMillis(200)).setInitialRto(Duration.ofMillis(200));
        }
        a.addIpv4(a.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_A)), TwoHostTest.A, 24);
        b.addIpv4(b.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_B)), TwoHostTest.B, 24);
        loop.start();
        TcpServer server = closeLater(TcpServer.listen(b, loop, 7, 16));
        AtomicInteger served = new AtomicInteger();
        Thread acceptor = echoServer(server, served);
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int id = i;
                results.add(threads.submit(() -> {
                    byte[] data = random(200_000, 100 + id);
                    try (TcpStream s = TcpStream.connect(a, loop, TwoHostTest.B, 7, T)) {
                        assertArrayEquals(data, echoOnce(s, data), "client " + id);
                    }
                    return null;
                }));
            }
            for (Future<?> f : results) {
                f.get(90, TimeUnit.SECONDS);
            }
        }
        server.close();
        assertTrue(acceptor.join(T));
        assertEquals(4, served.get());
        String counters = loop.call(() -> a.tcp().counters() + "" + b.tcp().counters() + link.counters(), T);
        System.out.println(counters);
        assertTrue(loop.call(() -> link.counters().get(SimulatedLink.LinkCounter.FRAMES_LOST), T) > 0, counters);
        assertTrue(loop.call(() -> a.tcp().counters().get(Tcp.TcpCounter.RETRANSMITTED_SEGMENTS)
                + b.tcp().counters().get(Tcp.TcpCounter.RETRANSMITTED_SEGMENTS), T) > 0, counters);
    }

    @Test
    void aVanishedPeerTimesOutAReaderThroughKeepAlivesAndAWriterThroughRetransmissions() throws Exception {
        loop = new HostLoop("tcp-vanish");
        SimulatedLink link = new SimulatedLink(loop.timers(), pool, 1500, SimulatedLink.Conditions.PERFECT, 1);
        Host a = loop.add(new Host("a", pool, loop.timers()));
        Host b = loop.add(new Host("b", pool, loop.timers()));
        a.tcp().settings().setMinRto(Duration.ofMillis(50)).setMaxRto(Duration.ofMillis(200)).setDataRetries(3)
                .setKeepAliveIdle(Duration.ofMillis(300)).setKeepAliveInterval(Duration.ofMillis(100))
                .setKeepAliveProbes(3);
        a.addIpv4(a.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_A)), TwoHostTest.A, 24);
        b.addIpv4(b.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_B)), TwoHostTest.B, 24);
        java.util.concurrent.atomic.AtomicBoolean vanished = new java.util.concurrent.atomic.AtomicBoolean();
        b.ipv4().addFilter((m, direction, ifp) -> vanished.get() ? PacketFilter.Verdict.DROP
                : PacketFilter.Verdict.PASS);
        loop.start();
        TcpServer server = closeLater(TcpServer.listen(b, loop, 7, 16));
        TcpStream reader = closeLater(TcpStream.connect(a, loop, TwoHostTest.B, 7, T));
        TcpStream writer = closeLater(TcpStream.connect(a, loop, TwoHostTest.B, 7, T));
        closeLater(server.accept(T));
        closeLater(server.accept(T));
        reader.configure(c -> c.setKeepAlive(true));
        vanished.set(true);
        reader.setReadTimeout(T);
        long start = System.nanoTime();
        SocketException k = assertThrows(SocketException.class, () -> reader.getInputStream().read());
        assertEquals("Connection timed out", k.getMessage());
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos());
        writer.getOutputStream().write(new byte[1000]);
        writer.setReadTimeout(T);
        SocketException r = assertThrows(SocketException.class, () -> writer.getInputStream().read());
        assertEquals("Connection timed out", r.getMessage());
        String counters = loop.call(() -> a.tcp().counters().toString(), T);
        assertEquals(1, (long) loop.call(() -> a.tcp().counters().get(Tcp.TcpCounter.KEEPALIVE_DROPS), T), counters);
        assertEquals(1, (long) loop.call(() -> a.tcp().counters().get(Tcp.TcpCounter.TIMEOUT_DROPS), T), counters);
    }

    @Test
    void closeRightAfterABigWriteStillDeliversEverythingThenTheEnd() throws Exception {
        Host h = oneHost();
        TcpServer server = closeLater(TcpServer.listen(h, loop, 7, 4));
        byte[] data = random(1_000_000, 9);
        TcpStream client = TcpStream.connect(h, loop, "::1", 7, T);
        TcpStream peer = closeLater(server.accept(T));
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                client.getOutputStream().write(data);
                client.close(); // returns at once; the data and the FIN follow in the background
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        peer.setReadTimeout(T);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[1000];
        for (int n; (n = peer.read(buf, 0, buf.length)) > 0; ) {
            got.write(buf, 0, n);
            if (got.size() < 100_000) {
                Thread.sleep(1); // a slow reader at first: windows close, the close must wait for them
            }
        }
        assertTrue(writer.join(T));
        assertArrayEquals(data, got.toByteArray());
        // a connection with nothing unread is closed to us in order: shutdownOutput at once is harmless too
        TcpStream quiet = TcpStream.connect(h, loop, "127.0.0.1", 7, T);
        quiet.shutdownOutput();
        TcpStream quietPeer = closeLater(server.accept(T));
        quietPeer.setReadTimeout(T);
        assertEquals(-1, quietPeer.getInputStream().read());
        quiet.close();
    }

    private static boolean preferred(NetworkInterface ifp, Ipv6Address a) {
        NetworkInterface.Ipv6Assignment x = ifp.ipv6Assignment(a);
        return x != null && x.state() == NetworkInterface.Ipv6State.PREFERRED
                && ifp.host().nd().linkLocal(ifp) != null
                && ifp.ipv6Assignment(ifp.host().nd().linkLocal(ifp)).state() == NetworkInterface.Ipv6State.PREFERRED;
    }

    @Test
    void refusedConnectionIsAConnectException() throws Exception {
        Host h = oneHost();
        ConnectException e = assertThrows(ConnectException.class, () -> TcpStream.connect(h, loop, "127.0.0.1", 9, T));
        assertTrue(e.getMessage().startsWith("Connection refused"), e.getMessage());
        ConnectException e6 = assertThrows(ConnectException.class, () -> TcpStream.connect(h, loop, "::1", 9, T));
        assertTrue(e6.getMessage().startsWith("Connection refused"), e6.getMessage());
        awaitNoConnections(h);
    }

    @Test
    void badAddressesAndPortsInUse() throws Exception {
        Host h = oneHost();
        assertThrows(java.net.UnknownHostException.class, () -> TcpStream.connect(h, loop, "fe80::1", 9, T));
        assertThrows(java.net.UnknownHostException.class, () -> TcpStream.connect(h, loop, "fe80::1%nope", 9, T));
        assertThrows(java.net.UnknownHostException.class, () -> TcpStream.connect(h, loop, "example.org", 9, T));
        assertThrows(java.net.NoRouteToHostException.class,
                () -> TcpStream.connect(h, loop, Ipv4Address.parse("192.0.2.9"), 9, T));
        closeLater(TcpServer.listen(h, loop, 80, 4));
        assertThrows(BindException.class, () -> TcpServer.listen(h, loop, 80, 4));
    }

    @Test
    void connectTimesOutWhenNobodyAnswers() throws Exception {
        loop = new HostLoop("tcp-connect-timeout");
        SimulatedLink link = new SimulatedLink(loop.timers(), pool, 1500, SimulatedLink.Conditions.PERFECT, 1);
        Host a = loop.add(new Host("a", pool, loop.timers()));
        a.addIpv4(a.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_A)), TwoHostTest.A, 24);
        loop.start();
        long start = System.nanoTime();
        SocketTimeoutException e = assertThrows(SocketTimeoutException.class,
                () -> TcpStream.connect(a, loop, TwoHostTest.B, 80, Duration.ofMillis(300)));
        long took = System.nanoTime() - start;
        assertTrue(took >= Duration.ofMillis(300).toNanos() && took < Duration.ofSeconds(5).toNanos(), e + " " + took);
        awaitNoConnections(a); // the attempt was aborted
    }

    @Test
    void readWriteAndAcceptTimeoutsLeaveTheStreamUsable() throws Exception {
        Host h = oneHost();
        TcpServer server = closeLater(TcpServer.listen(h, loop, 7, 4));
        assertThrows(SocketTimeoutException.class, () -> server.accept(Duration.ofMillis(100)));
        TcpStream client = closeLater(TcpStream.connect(h, loop, "127.0.0.1", 7, T));
        TcpStream peer = closeLater(server.accept(T));
        client.setReadTimeout(Duration.ofMillis(150));
        long start = System.nanoTime();
        assertThrows(SocketTimeoutException.class, () -> client.getInputStream().read());
        assertTrue(System.nanoTime() - start >= Duration.ofMillis(150).toNanos());
        peer.getOutputStream().write("late".getBytes(StandardCharsets.US_ASCII));
        client.setReadTimeout(T);
        byte[] four = client.getInputStream().readNBytes(4);
        assertEquals("late", new String(four, StandardCharsets.US_ASCII));

        // nobody reads on the peer: the writer fills the connection's buffers, then its own, then times out
        client.setWriteTimeout(Duration.ofMillis(300));
        byte[] chunk = new byte[16 * 1024];
        long written = 0;
        SocketTimeoutException timeout = null;
        for (int i = 0; i < 1000 && timeout == null; i++) {
            try {
                client.getOutputStream().write(chunk);
                written += chunk.length;
            } catch (SocketTimeoutException e) {
                timeout = e;
            }
        }
        assertTrue(timeout != null, "the write never timed out after " + written + " bytes");
        assertTrue(written >= TcpStream.BUFFER_LIMIT, "wrote only " + written);
        // the peer reads everything: the writer can go on
        Thread drain = Thread.ofVirtual().start(() -> {
            try {
                peer.setReadTimeout(T);
                byte[] buf = new byte[8192];
                while (peer.read(buf, 0, buf.length) > 0) {
                    // discard
                }
            } catch (IOException e) {
                System.out.println("drain: " + e);
            }
        });
        client.setWriteTimeout(T);
        client.getOutputStream().write(chunk);
        client.flush();
        client.shutdownOutput();
        assertTrue(drain.join(T));
    }

    @Test
    void singleByteReadsByTwoThreadsGetEveryByteOnce() throws Exception {
        Host h = oneHost();
        TcpServer server = closeLater(TcpServer.listen(h, loop, 7, 4));
        TcpStream client = closeLater(TcpStream.connect(h, loop, "::1", 7, T));
        TcpStream peer = server.accept(T);
        byte[] sent = new byte[3000];
        for (int i = 0; i < sent.length; i++) {
            sent[i] = (byte) (i * 7);
        }
        peer.getOutputStream().write(sent);
        peer.shutdownOutput();
        client.setReadTimeout(T);
        InputStream in = client.getInputStream();
        ExecutorService readers = Executors.newFixedThreadPool(2);
        try {
            List<Future<int[]>> counts = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                counts.add(readers.submit(() -> {
                    int[] seen = new int[256];
                    for (int b = in.read(); b >= 0; b = in.read()) {
                        seen[b]++;
                    }
                    return seen;
                }));
            }
            int[] expected = new int[256];
            for (byte b : sent) {
                expected[b & 0xff]++;
            }
            int[] seen = new int[256];
            for (Future<int[]> f : counts) {
                int[] part = f.get(T.toSeconds(), TimeUnit.SECONDS);
                for (int i = 0; i < 256; i++) {
                    seen[i] += part[i];
                }
            }
            assertArrayEquals(expected, seen, "each byte read once, by one of the two readers");
        } finally {
            readers.shutdownNow();
        }
    }

    @Test
    void resetIsASocketException() throws Exception {
        Host h = oneHost();
        TcpServer server = closeLater(TcpServer.listen(h, loop, 7, 4));
        TcpStream client = closeLater(TcpStream.connect(h, loop, "::1", 7, T));
        TcpStream peer = server.accept(T);
        peer.getOutputStream().write(new byte[] {1, 2, 3});
        peer.abort();
        client.setReadTimeout(T);
        InputStream in = client.getInputStream();
        // what arrived before the reset may be read first; then the reset
        SocketException e = assertThrows(SocketException.class, () -> {
            while (in.read() >= 0) {
                // keep reading
            }
        });
        assertEquals("Connection reset", e.getMessage());
        SocketException w = assertThrows(SocketException.class, () -> client.getOutputStream().write(1));
        assertEquals("Connection reset", w.getMessage());
        awaitNoConnections(h);
    }

    @Test
    void closingWithUnreadDataResetsThePeer() throws Exception {
        Host h = oneHost();
        TcpServer server = closeLater(TcpServer.listen(h, loop, 7, 4));
        TcpStream client = closeLater(TcpStream.connect(h, loop, "127.0.0.1", 7, T));
        TcpStream peer = server.accept(T);
        client.getOutputStream().write("unread".getBytes(StandardCharsets.US_ASCII));
        client.flush();
        long deadline = System.nanoTime() + T.toNanos();
        while (peer.available() == 0) {
            assertTrue(System.nanoTime() < deadline);
            Thread.sleep(5);
        }
        peer.close();
        client.setReadTimeout(T);
        SocketException e = assertThrows(SocketException.class, () -> client.getInputStream().read());
        assertEquals("Connection reset", e.getMessage());
    }

    @Test
    void halfCloseLetsTheServerAnswerAfterTheEndOfTheRequest() throws Exception {
        Host h = oneHost();
        TcpServer server = closeLater(TcpServer.listen(h, loop, 8080, 4));
        Thread serverThread = Thread.ofVirtual().start(() -> {
            try (TcpStream s = server.accept(T)) {
                s.setReadTimeout(T);
                byte[] request = s.getInputStream().readAllBytes(); // until the client's FIN
                s.getOutputStream().write(("got " + request.length + " bytes").getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (TcpStream c = TcpStream.connect(h, loop, "127.0.0.1", 8080, T)) {
            c.setReadTimeout(T);
            c.getOutputStream().write(random(100_000, 3));
            c.shutdownOutput();
            assertThrows(SocketException.class, () -> c.getOutputStream().write(1));
            String answer = new String(c.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertEquals("got 100000 bytes", answer);
            assertEquals(-1, c.getInputStream().read());
        }
        assertTrue(serverThread.join(T));
        awaitNoConnections(h);
    }

    @Test
    void closeWakesABlockedReaderAndServerCloseWakesAnAccepter() throws Exception {
        Host h = oneHost();
        TcpServer server = closeLater(TcpServer.listen(h, loop, 7, 4));
        TcpStream client = TcpStream.connect(h, loop, "127.0.0.1", 7, T);
        TcpStream peer = closeLater(server.accept(T));
        Thread reader = Thread.ofVirtual().start(() -> {
            SocketException e = assertThrows(SocketException.class, () -> client.getInputStream().read());
            assertEquals("Socket closed", e.getMessage());
        });
        Thread.sleep(100);
        client.close();
        assertTrue(reader.join(T));
        peer.setReadTimeout(T);
        assertEquals(-1, peer.getInputStream().read()); // the client's FIN
        Thread accepter = Thread.ofVirtual().start(() ->
                assertThrows(SocketException.class, () -> server.accept(T)));
        Thread.sleep(100);
        server.close();
        assertTrue(accepter.join(T));
    }

    @Test
    void loopRejectsWorkOnceClosedAndStreamsSaySo() throws Exception {
        Host h = oneHost();
        TcpServer server = TcpServer.listen(h, loop, 7, 4);
        TcpStream client = TcpStream.connect(h, loop, "127.0.0.1", 7, T);
        TcpStream peer = server.accept(T);
        peer.getOutputStream().write(new byte[100]);
        loop.close(); // aborts every connection
        client.setReadTimeout(T);
        try {
            client.getInputStream().readNBytes(100); // may or may not have arrived before the abort
        } catch (SocketException expected) {
            assertEquals("Connection aborted", expected.getMessage());
        }
        assertThrows(IOException.class, () -> client.getOutputStream().write(new byte[10]));
        client.close();
        peer.close();
        server.close();
        assertThrows(SocketException.class, () -> TcpStream.connect(h, loop, "127.0.0.1", 7, T));
    }
}
