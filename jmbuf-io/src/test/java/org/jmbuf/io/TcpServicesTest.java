package org.jmbuf.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.net.Host;
import org.jmbuf.net.HostLoop;
import org.jmbuf.net.TcpStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link HttpService} and {@link EchoService} without a TAP device: one host on a {@link HostLoop}, clients
 * are {@link TcpStream}s over loopback of both families (so these run anywhere, as any user).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TcpServicesTest {
    private static final Duration T = Duration.ofSeconds(20);
    private final MbufPool pool = MbufPool.builder().build();
    private HostLoop loop;
    private Host host;
    private HttpService http;
    private EchoService echo;

    @BeforeEach
    void setUp() throws Exception {
        loop = new HostLoop("services");
        host = loop.add(new Host("jmbuf", pool, loop.timers()));
        loop.start();
        http = loop.call(() -> HttpService.start(host, 80, 16), T);
        echo = loop.call(() -> EchoService.start(host, 7, 16), T);
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            loop.call(() -> {
                http.close();
                echo.close();
                return null;
            }, T);
        } finally {
            Throwable failure = loop.failure();
            loop.close();
            if (failure != null) {
                throw new AssertionError("the loop failed", failure);
            }
        }
    }

    private String exchange(String address, String request) throws IOException {
        try (TcpStream s = TcpStream.connect(host, loop, address, 80, T)) {
            s.setReadTimeout(T);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    private void awaitIdle() throws Exception {
        long deadline = System.nanoTime() + T.toNanos();
        while (loop.call(() -> http.activeConnections() + echo.activeConnections(), T) > 0) {
            assertTrue(System.nanoTime() < deadline, "connections stay open");
            Thread.sleep(10);
        }
    }

    @Test
    void httpAnswersGetHeadAndErrorsAndKeepsConnectionsAlive() throws Exception {
        String page = exchange("127.0.0.1", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(page.startsWith("HTTP/1.1 200 OK\r\n"), page);
        assertTrue(page.contains("Connection: close\r\n") && page.contains("Content-Type: text/html"), page);
        String body = page.substring(page.indexOf("\r\n\r\n") + 4);
        assertTrue(page.contains("Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n"), page);
        assertTrue(body.contains("over TCP/IPv4") && body.contains("You are 127.0.0.1:"), body);

        String six = exchange("::1", "GET /index.html HTTP/1.0\r\n\r\n"); // HTTP/1.0: closes by default
        assertTrue(six.startsWith("HTTP/1.1 200 OK\r\n") && six.contains("over TCP/IPv6"), six);
        assertTrue(six.contains("You are [::1]:"), six);

        String missing = exchange("127.0.0.1", "GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n");
        assertTrue(missing.startsWith("HTTP/1.1 404 Not Found\r\n"), missing);
        String head = exchange("127.0.0.1", "HEAD / HTTP/1.1\r\nConnection: close\r\n\r\n");
        assertTrue(head.startsWith("HTTP/1.1 200 OK\r\n") && head.endsWith("\r\n\r\n"), head);
        String post = exchange("127.0.0.1", "POST / HTTP/1.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        assertTrue(post.startsWith("HTTP/1.1 405 Method Not Allowed\r\n") && post.contains("Allow: GET, HEAD"), post);
        String garbage = exchange("127.0.0.1", "HELLO\r\n\r\n");
        assertTrue(garbage.startsWith("HTTP/1.1 400 Bad Request\r\n") && garbage.contains("Connection: close"),
                garbage);
        String huge = exchange("127.0.0.1", "GET / HTTP/1.1\r\nX: " + "y".repeat(HttpService.MAX_REQUEST) + "\r\n\r\n");
        assertTrue(huge.startsWith("HTTP/1.1 431 "), huge);

        // three pipelined requests on one connection, the last one closing it
        String pipelined = exchange("127.0.0.1", "GET / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n"
                + "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
        assertEquals(3, pipelined.split("HTTP/1.1 ", -1).length - 1, pipelined);
        assertTrue(pipelined.contains("Connection: keep-alive") && pipelined.contains("404 Not Found"), pipelined);

        awaitIdle();
        String counters = loop.call(() -> http.counters().toString(), T);
        // the 431 is not counted as a request: its head never ended
        assertEquals(9, (long) loop.call(() -> http.counters().get(HttpService.HttpCounter.REQUESTS), T), counters);
        assertEquals(2, (long) loop.call(() -> http.counters().get(HttpService.HttpCounter.KEEP_ALIVE), T), counters);
        assertEquals(0, (long) loop.call(() -> http.counters().get(HttpService.HttpCounter.FAILED), T), counters);
        assertEquals(8, (long) loop.call(() -> http.counters().get(HttpService.HttpCounter.CLOSED), T), counters);
    }

    @Test
    void echoSendsEveryByteBackWithoutCopyingAndPausesWhenTheSendBufferIsFull() throws Exception {
        byte[] data = new byte[3_000_000];
        new Random(5).nextBytes(data);
        for (String address : new String[] {"127.0.0.1", "::1"}) {
            try (TcpStream s = TcpStream.connect(host, loop, address, 7, T)) {
                s.setReadTimeout(T);
                s.setWriteTimeout(T);
                Thread writer = Thread.ofVirtual().start(() -> {
                    try {
                        s.getOutputStream().write(data);
                        s.shutdownOutput();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                // read slowly at first, so the echo's send buffer fills and it stops reading
                Thread.sleep(200);
                assertArrayEquals(data, s.getInputStream().readAllBytes(), address);
                assertTrue(writer.join(T));
            }
        }
        awaitIdle();
        String counters = loop.call(() -> echo.counters().toString() + host.tcp().counters(), T);
        assertEquals(2L * data.length,
                (long) loop.call(() -> echo.counters().get(EchoService.EchoCounter.BYTES_ECHOED), T), counters);
        assertTrue(loop.call(() -> echo.counters().get(EchoService.EchoCounter.SEND_BUFFER_FULL), T) > 0, counters);
        assertEquals(2, (long) loop.call(() -> echo.counters().get(EchoService.EchoCounter.CLOSED), T), counters);
    }

    @Test
    void closingTheServicesClosesTheirConnections() throws Exception {
        TcpStream s = TcpStream.connect(host, loop, "127.0.0.1", 7, T);
        try (s) {
            s.setReadTimeout(T);
            s.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
            assertEquals("ping", new String(s.getInputStream().readNBytes(4), StandardCharsets.US_ASCII));
            loop.call(() -> {
                echo.close();
                return null;
            }, T);
            assertEquals(-1, s.getInputStream().read()); // the service's FIN
        }
        awaitIdle();
    }
}
