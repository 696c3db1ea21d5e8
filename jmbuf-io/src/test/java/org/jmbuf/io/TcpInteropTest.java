package org.jmbuf.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.net.TcpStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Linux's TCP against jmbuf's over a TAP device ({@link TapFixture}): curl fetches the page of
 * {@link HttpService} over IPv4, IPv6 and link-local IPv6 with a zone; nc sends 10 MB of random bytes through
 * {@link EchoService} and gets the same bytes back; a jmbuf {@link TcpStream} on the link's thread (the
 * {@link TapLink} as executor) talks to a Linux nc listener; and tshark finds the captures of these sessions
 * free of malformed segments and bad checksums. Each test skips, saying why, without root, /dev/net/tun or the
 * tools; every command is bounded by a timeout.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TcpInteropTest {
    private static final Duration CURL_TIMEOUT = Duration.ofSeconds(20);
    private final MbufPool pool = MbufPool.builder().build();
    private TapFixture fixture;
    private HttpService http;
    private EchoService echo;

    @TempDir
    Path dir;

    @AfterEach
    void tearDown() throws Exception {
        if (fixture != null) {
            Throwable failure = fixture.link.failure();
            if (failure == null && fixture.link.isRunning()) {
                fixture.call(() -> {
                    if (http != null) {
                        http.close();
                    }
                    if (echo != null) {
                        echo.close();
                    }
                    return null;
                });
            }
            fixture.close();
            assertNull(failure, () -> "the link's loop failed: " + failure);
        }
    }

    private TapFixture start(Path capture) throws Exception {
        fixture = TapFixture.start(pool, capture);
        return fixture;
    }

    private String[] curl(String... args) {
        String[] full = new String[args.length + 5];
        full[0] = "curl";
        full[1] = "-sS";
        full[2] = "-g";
        full[3] = "--max-time";
        full[4] = "10";
        System.arraycopy(args, 0, full, 5, args.length);
        return full;
    }

    private String fetch(String url) throws Exception {
        LinuxTools.Result r = LinuxTools.run(CURL_TIMEOUT, LinuxTools.in(fixture.ns, curl(url)));
        assertEquals(0, r.exitStatus(), () -> r + "\n" + netstat());
        return r.output();
    }

    private String netstat() {
        try {
            return fixture.call(() -> fixture.link.host().netstat() + (http == null ? "" : http.counters())
                    + (echo == null ? "" : echo.counters()));
        } catch (Exception e) {
            return "(no netstat: " + e + ")";
        }
    }

    @Test
    void curlFetchesThePageOverIpv4Ipv6AndLinkLocalIpv6() throws Exception {
        LinuxTools.assumeCanRun("curl", "tcpdump", "tshark");
        Path file = dir.resolve("http.pcap");
        TapFixture f = start(file);
        http = f.call(() -> HttpService.start(f.link.host(), 80, 16));
        String v4 = fetch("http://" + TapFixture.JMBUF_V4 + ":80/");
        assertTrue(v4.contains("<h1>Hello from jmbuf</h1>") && v4.contains("over TCP/IPv4"), v4);
        assertTrue(v4.contains("You are " + TapFixture.LINUX_V4 + ":"), v4);

        String v6 = fetch("http://[" + TapFixture.JMBUF_V6 + "]:80/");
        assertTrue(v6.contains("<h1>Hello from jmbuf</h1>") && v6.contains("over TCP/IPv6"), v6);
        assertTrue(v6.contains("You are [" + TapFixture.LINUX_V6 + "]:"), v6);

        // link-local with a zone; in a URL the zone's % is percent-encoded (RFC 6874): %25
        String linkLocal = f.jmbufLinkLocal();
        String ll = fetch("http://[" + linkLocal + "%25" + f.tap + "]:80/");
        assertTrue(ll.contains("<h1>Hello from jmbuf</h1>") && ll.contains("over TCP/IPv6"), ll);
        // the peer's zone is jmbuf's interface (named as the device)
        assertTrue(ll.contains("You are [fe80::") && ll.contains("%" + f.tap + "]:"), ll);
        assertTrue(ll.contains("this is [" + linkLocal + "%" + f.tap + "]:80"), ll);

        // status codes, HEAD, and two requests on one kept-alive connection
        LinuxTools.Result notFound = LinuxTools.run(CURL_TIMEOUT, LinuxTools.in(f.ns, curl("-o", "/dev/null", "-w",
                "%{http_code}", "http://" + TapFixture.JMBUF_V4 + "/nowhere")));
        assertEquals("404", notFound.output(), notFound::toString);
        LinuxTools.Result head = LinuxTools.run(CURL_TIMEOUT, LinuxTools.in(f.ns, curl("-I",
                "http://" + TapFixture.JMBUF_V4 + "/")));
        assertTrue(head.output().startsWith("HTTP/1.1 200 OK") && head.output().contains("Content-Length: "),
                head::toString);
        LinuxTools.Result twice = LinuxTools.run(CURL_TIMEOUT, LinuxTools.in(f.ns, curl("-v",
                "http://" + TapFixture.JMBUF_V4 + "/", "http://" + TapFixture.JMBUF_V4 + "/")));
        assertEquals(0, twice.exitStatus(), twice::toString);
        assertTrue(twice.output().contains("Re-using existing connection"), twice::toString);

        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (f.call(() -> http.activeConnections()) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        String counters = netstat();
        System.out.println(counters);
        assertEquals(0, (int) f.call(() -> http.activeConnections()), counters);
        assertEquals(7, (long) f.call(() -> http.counters().get(HttpService.HttpCounter.REQUESTS)), counters);
        assertEquals(1, (long) f.call(() -> http.counters().get(HttpService.HttpCounter.KEEP_ALIVE)), counters);
        assertEquals(1, (long) f.call(() -> http.counters().get(HttpService.HttpCounter.NOT_FOUND)), counters);
        assertEquals(0, (long) f.call(() -> http.counters().get(HttpService.HttpCounter.FAILED)), counters);
        f.stopCapture();
        assertCleanCapture(file, 20); // SYN-ACK, response, ACK, FIN for each of 6 connections
    }

    @Test
    void netcatSendsTenMegabytesThroughTheEchoServiceAndGetsThemBack() throws Exception {
        LinuxTools.assumeCanRun("nc", "tcpdump", "tshark");
        Path file = dir.resolve("echo.pcap");
        TapFixture f = start(file);
        echo = f.call(() -> EchoService.start(f.link.host(), 7, 16));
        Path in = dir.resolve("random.bin");
        Path out = dir.resolve("echoed.bin");
        byte[] data = new byte[10 * 1024 * 1024];
        new Random(20261122).nextBytes(data);
        Files.write(in, data);
        long start = System.nanoTime();
        // -N: shut the socket's output down at the end of the input, then read until jmbuf closes
        LinuxTools.Result r = LinuxTools.runWithFiles(Duration.ofSeconds(120), in, out,
                LinuxTools.in(f.ns, "nc", "-N", "-w", "15", TapFixture.JMBUF_V4, "7"));
        double seconds = (System.nanoTime() - start) / 1e9;
        String counters = netstat();
        System.out.printf("nc echoed %d bytes in %.2f s (%.1f MB/s each way)%n%s%n", Files.size(out), seconds,
                data.length / seconds / 1e6, counters);
        assertEquals(0, r.exitStatus(), () -> r + "\n" + counters);
        assertEquals(data.length, Files.size(out), counters);
        assertEquals(sha256(in), sha256(out));
        assertArrayEquals(data, Files.readAllBytes(out));
        assertEquals(data.length, (long) f.call(() -> echo.counters().get(EchoService.EchoCounter.BYTES_ECHOED)));

        // and a smaller one over IPv6, to the link-local address with its zone
        Path in6 = dir.resolve("random6.bin");
        Path out6 = dir.resolve("echoed6.bin");
        Files.write(in6, java.util.Arrays.copyOf(data, 1 << 20));
        LinuxTools.Result r6 = LinuxTools.runWithFiles(Duration.ofSeconds(60), in6, out6,
                LinuxTools.in(f.ns, "nc", "-6", "-N", "-w", "15", f.jmbufLinkLocal() + "%" + f.tap, "7"));
        assertEquals(0, r6.exitStatus(), r6::toString);
        assertEquals(sha256(in6), sha256(out6));

        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (f.call(() -> echo.activeConnections()) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, (int) f.call(() -> echo.activeConnections()), netstat());
        assertEquals(2, (long) f.call(() -> echo.counters().get(EchoService.EchoCounter.CLOSED)), netstat());
        f.stopCapture();
        assertCleanCapture(file, 1000);
    }

    @Test
    void aBlockingStreamOnTheTapLinkTalksToALinuxListener() throws Exception {
        LinuxTools.assumeCanRun("nc");
        TapFixture f = start(null);
        Path answer = dir.resolve("answer.txt");
        Path received = dir.resolve("received.txt");
        Files.writeString(answer, "hello from Linux\n");
        // nc listens (bounded: -w, and the process is killed after the timeout), answers, and shuts down
        Process listener = new ProcessBuilder(LinuxTools.in(f.ns, "timeout", "30", "nc", "-l", "-N", "-w", "10",
                TapFixture.LINUX_V4, "9000")).redirectInput(answer.toFile()).redirectOutput(received.toFile())
                .redirectErrorStream(false).start();
        try {
            TcpStream s = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (s == null) {
                try {
                    s = TcpStream.connect(f.link.host(), f.link, TapFixture.LINUX_V4, 9000, Duration.ofSeconds(5));
                } catch (ConnectException notYetListening) {
                    assertTrue(System.nanoTime() < deadline, "nc never listened: " + notYetListening);
                    Thread.sleep(100);
                }
            }
            try (TcpStream stream = s) {
                stream.setReadTimeout(Duration.ofSeconds(10));
                stream.configure(c -> c.setNoDelay(true));
                stream.getOutputStream().write("hello from jmbuf\n".getBytes(StandardCharsets.US_ASCII));
                stream.shutdownOutput();
                InputStream input = stream.getInputStream();
                assertEquals("hello from Linux\n", new String(input.readAllBytes(), StandardCharsets.US_ASCII));
            }
            assertTrue(listener.waitFor(20, TimeUnit.SECONDS), "nc did not finish");
            assertEquals("hello from jmbuf\n", Files.readString(received));
        } finally {
            listener.destroyForcibly();
        }
    }

    private static String sha256(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * tshark, with IP and TCP checksum validation on, finds no malformed packet in {@code file}, and no bad
     * checksum and no expert error in the packets jmbuf sent; at least {@code minFromJmbuf} TCP segments from jmbuf had their checksum
     * verified good. TCP analysis notes (window full, duplicate ACKs...) are printed, not failed on.
     */
    private static void assertCleanCapture(Path file, int minFromJmbuf) throws Exception {
        String keep = System.getProperty("jmbuf.keepCaptures"); // a directory to keep the captures in
        if (keep != null) {
            Files.createDirectories(Path.of(keep));
            Files.copy(file, Path.of(keep).resolve(file.getFileName()),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        String[] prefs = {"-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o",
            "udp.check_checksum:TRUE"};
        // malformed: any packet; checksums and expert errors: jmbuf's packets (Linux sometimes sends a TCP
        // checksum of 0xffff, valid, which Wireshark reports as an error; it is not ours to answer for)
        LinuxTools.Result bad = tshark(file, prefs, "_ws.malformed || eth.src == " + TapFixture.JMBUF_MAC
                + " && (ip.checksum.status == \"Bad\" || tcp.checksum.status == \"Bad\""
                + " || tcp.checksum_bad.expert || _ws.expert.severity == \"Error\")",
                "frame.number", "_ws.col.Info");
        assertEquals(0, bad.exitStatus(), bad::toString);
        assertEquals("", bad.output().strip(), () -> "bad packets in the capture:\n" + bad.output());
        LinuxTools.Result good = tshark(file, prefs, "eth.src == " + TapFixture.JMBUF_MAC
                + " && tcp && tcp.checksum.status == \"Good\"", "frame.number");
        long verified = good.output().lines().filter(l -> !l.isBlank()).count();
        assertTrue(verified >= minFromJmbuf, () -> "only " + verified + " of jmbuf's segments were verified:\n" + good);
        LinuxTools.Result notes = tshark(file, prefs, "tcp.analysis.flags && !tcp.analysis.window_update",
                "frame.number", "eth.src", "_ws.col.Info");
        List<String> lines = notes.output().lines().filter(l -> !l.isBlank()).toList();
        System.out.println("capture " + file.getFileName() + ": " + verified
                + " segments from jmbuf with good checksums; "
                + lines.size() + " TCP analysis notes" + (lines.isEmpty() ? "" : ", the first:\n"
                + String.join("\n", lines.subList(0, Math.min(20, lines.size())))));
    }

    private static LinuxTools.Result tshark(Path file, String[] prefs, String filter, String... fields)
            throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("tshark", "-n", "-r", file.toString()));
        command.addAll(List.of(prefs));
        command.addAll(List.of("-Y", filter, "-T", "fields"));
        for (String field : fields) {
            command.add("-e");
            command.add(field);
        }
        LinuxTools.Result r = LinuxTools.run(Duration.ofSeconds(120), command.toArray(String[]::new));
        String text = r.output().lines().filter(l -> !l.startsWith("Running as user"))
                .map(l -> l + "\n").reduce("", String::concat);
        return new LinuxTools.Result(r.exitStatus(), text, r.command());
    }
}
