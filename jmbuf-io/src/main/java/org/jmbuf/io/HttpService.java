package org.jmbuf.io;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jmbuf.net.Counter;
import org.jmbuf.net.Counters;
import org.jmbuf.net.Host;
import org.jmbuf.net.TcpConnection;
import org.jmbuf.net.TcpListener;
import org.jmbuf.net.TcpState;
import org.jmbuf.wire.IpAddress;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv6Address;

/**
 * A tiny HTTP/1.1 server (RFC 9112) on the non-blocking API: {@code GET /} (and {@code /index.html})
 * returns a small HTML page naming the host and both ends of the connection, {@code HEAD} its headers,
 * anything else 404 (other paths), 405 (other methods), 400 (a malformed request) or 431 (headers over
 * {@value #MAX_REQUEST} bytes). Every response has a {@code Content-Length}. Connections persist (HTTP/1.1
 * without {@code Connection: close}, or HTTP/1.0 with {@code Connection: keep-alive}) for up to
 * {@value #MAX_REQUESTS_PER_CONNECTION} requests, pipelined ones included, and close otherwise: our FIN
 * follows the last response, and what the client still sends is read and dropped until its FIN (for at most
 * {@link #LINGER}), so that unread input never turns the close into a reset. A request body announced by
 * {@code Content-Length} is read and discarded; chunked bodies are refused (400).
 *
 * <h2>What is copied</h2>
 * Requests are copied out of the connection into a per-connection array of {@value #MAX_REQUEST} bytes
 * ({@link TcpConnection#read}); responses are copied from their array into the send buffer
 * ({@link TcpConnection#write}), as much as it has room for, the rest when it reports room.
 *
 * <h2>Threads</h2>
 * Everything runs on the host's thread: {@link #start}, {@link #close}, {@link #counters} and
 * {@link #activeConnections} are to be called there; not thread-safe.
 */
public final class HttpService implements AutoCloseable {
    /** The longest request head (request line and headers) accepted. */
    public static final int MAX_REQUEST = 8192;
    /** How long a closing connection reads and drops what the client still sends before it is closed. */
    public static final java.time.Duration LINGER = java.time.Duration.ofSeconds(5);
    /** Requests served on one connection before it is closed. */
    public static final int MAX_REQUESTS_PER_CONNECTION = 100;

    /** The service's events. */
    public enum HttpCounter implements Counter {
        CONNECTIONS("connections accepted"),
        REQUESTS("requests received"),
        OK("200 responses"),
        NOT_FOUND("404 responses"),
        BAD_REQUEST("400 responses (malformed requests)"),
        METHOD_NOT_ALLOWED("405 responses"),
        TOO_LARGE("431 responses (request head too long)"),
        KEEP_ALIVE("requests served on a connection that had served one already"),
        BYTES_SENT("response bytes queued"),
        CLOSED("connections closed in order (by the service, or by the client first)"),
        FAILED("connections that ended with a reset, a timeout or an abort before the service closed them");

        private final String description;

        HttpCounter(String description) {
            this.description = description;
        }

        @Override
        public String description() {
            return description;
        }
    }

    private final Host host;
    private final TcpListener listener;
    private final Counters<HttpCounter> counters = new Counters<>("http", HttpCounter.class);
    private final Map<TcpConnection, Session> sessions = new LinkedHashMap<>();
    private boolean closed;

    private HttpService(Host host, TcpListener listener) {
        this.host = host;
        this.listener = listener;
    }

    /**
     * Starts the service on {@code port} of every address of {@code host} (both families), with an accept
     * backlog of {@code backlog}. On the host's thread.
     *
     * @throws IllegalStateException if the port is taken
     */
    public static HttpService start(Host host, int port, int backlog) {
        Objects.requireNonNull(host, "host");
        HttpService service = new HttpService(host, host.tcp().listen(port, backlog));
        service.listener.onAcceptable(l -> service.acceptAll());
        return service;
    }

    /** The port the service listens on. */
    public int port() {
        return listener.port();
    }

    /** The service's counters; on the host's thread. */
    public Counters<HttpCounter> counters() {
        return counters;
    }

    /**
     * Connections the service still serves: not yet closed by the service (after which they finish their
     * close, TIME_WAIT included, on their own) nor ended by the client.
     */
    public int activeConnections() {
        return sessions.size();
    }

    /** The service is done with {@code c}: counts it once, as closed in order or as failed. */
    private void retire(TcpConnection c, boolean failed) {
        if (sessions.remove(c) != null) {
            counters.increment(failed ? HttpCounter.FAILED : HttpCounter.CLOSED);
        }
    }

    private void acceptAll() {
        for (TcpConnection c = listener.accept(); c != null; c = listener.accept()) {
            if (closed) {
                c.abort();
                c.close();
                continue;
            }
            counters.increment(HttpCounter.CONNECTIONS);
            Session s = new Session();
            sessions.put(c, s);
            c.setHandler(s);
            s.readable(c); // the request may have arrived before the accept
        }
    }

    /** The page for {@code GET /}. */
    private byte[] page(TcpConnection c) {
        String family = c.remoteAddress() instanceof Ipv4Address ? "IPv4" : "IPv6";
        String html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>jmbuf</title></head>\n<body>\n"
                + "<h1>Hello from jmbuf</h1>\n"
                + "<p>Served by host " + escape(host.name()) + " over TCP/" + family
                + ", a userland stack on mbufs.</p>\n"
                + "<p>You are " + escape(text(c.remoteAddress(), c.remotePort(), c.zone())) + "; this is "
                + escape(text(c.localAddress(), c.localPort(), c.zone())) + ".</p>\n</body></html>\n";
        return html.getBytes(StandardCharsets.UTF_8);
    }

    /** {@code 192.0.2.1:80}, {@code [2001:db8::1]:80}, {@code [fe80::1%eth0]:80} (the zone is our interface). */
    private static String text(IpAddress a, int port, org.jmbuf.net.NetworkInterface zone) {
        return a instanceof Ipv6Address ? "[" + a + (zone == null ? "" : "%" + zone.name()) + "]:" + port
                : a + ":" + port;
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** One connection: the request bytes read so far, the response being written. */
    private final class Session implements TcpConnection.Handler {
        private final byte[] in = new byte[MAX_REQUEST];
        private int inLength;
        private long bodyToSkip;
        private byte[] out;
        private int outOffset;
        private boolean closeAfterResponse;
        private boolean draining;
        private boolean closing;
        private int served;
        private org.jmbuf.net.Timers.Timer linger;

        @Override
        public void readable(TcpConnection c) {
            work(c);
        }

        @Override
        public void writable(TcpConnection c) {
            work(c);
        }

        @Override
        public void closed(TcpConnection c) {
            retire(c, c.failure() != null);
            if (linger != null) {
                linger.cancel();
            }
            c.close(); // frees anything still queued for reading
        }

        private void work(TcpConnection c) {
            if (draining && !closing && c.state() != TcpState.CLOSED) {
                while (c.read(in, 0, in.length) > 0) {
                    // what the client sends after our last response is read and dropped
                }
                if (c.isEndOfStream()) {
                    closing = true;
                    c.close();
                    retire(c, false);
                }
                return;
            }
            while (!closing && !draining && c.state() != TcpState.CLOSED) {
                if (out != null) {
                    outOffset += c.write(out, outOffset, out.length - outOffset);
                    if (outOffset < out.length) {
                        return; // the rest when the send buffer has room
                    }
                    out = null;
                    if (closeAfterResponse) {
                        finish(c);
                        return;
                    }
                }
                // read what there is room for (a body being skipped is read and dropped)
                while (inLength < in.length) {
                    int n = c.read(in, inLength, in.length - inLength);
                    if (n <= 0) {
                        break;
                    }
                    inLength += n;
                    if (bodyToSkip > 0) {
                        int skip = (int) Math.min(bodyToSkip, inLength);
                        consume(skip);
                        bodyToSkip -= skip;
                    }
                }
                if (bodyToSkip > 0) {
                    if (c.isEndOfStream()) {
                        finish(c);
                    }
                    return;
                }
                int end = headEnd();
                if (end < 0) {
                    if (inLength == in.length) {
                        respond(c, 431, "Request Header Fields Too Large", null, true, false);
                        continue;
                    }
                    if (c.isEndOfStream()) {
                        finish(c); // the client is done (a partial request is dropped)
                    }
                    return;
                }
                String head = new String(in, 0, end, StandardCharsets.ISO_8859_1);
                consume(end + 4);
                handle(c, head);
            }
        }

        /** Where the request head ends (the index of its blank line's CR LF CR LF), or -1. */
        private int headEnd() {
            for (int i = 0; i + 3 < inLength; i++) {
                if (in[i] == '\r' && in[i + 1] == '\n' && in[i + 2] == '\r' && in[i + 3] == '\n') {
                    return i;
                }
            }
            return -1;
        }

        private void consume(int n) {
            System.arraycopy(in, n, in, 0, inLength - n);
            inLength -= n;
        }

        private void handle(TcpConnection c, String head) {
            counters.increment(HttpCounter.REQUESTS);
            if (served > 0) {
                counters.increment(HttpCounter.KEEP_ALIVE);
            }
            served++;
            String[] lines = head.split("\r\n", -1);
            String[] request = lines[0].split(" ", -1);
            if (request.length != 3 || !request[2].matches("HTTP/1\\.[01]") || request[1].isEmpty()) {
                respond(c, 400, "Bad Request", null, true, false);
                return;
            }
            String method = request[0];
            String target = request[1];
            boolean http10 = request[2].equals("HTTP/1.0");
            boolean keepAlive = !http10;
            long contentLength = 0;
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon <= 0) {
                    respond(c, 400, "Bad Request", null, true, false);
                    return;
                }
                String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = lines[i].substring(colon + 1).trim().toLowerCase(Locale.ROOT);
                switch (name) {
                    case "connection" -> {
                        if (value.contains("close")) {
                            keepAlive = false;
                        } else if (value.contains("keep-alive")) {
                            keepAlive = true;
                        }
                    }
                    case "content-length" -> {
                        try {
                            contentLength = Long.parseLong(value);
                        } catch (NumberFormatException e) {
                            contentLength = -1;
                        }
                        if (contentLength < 0) {
                            respond(c, 400, "Bad Request", null, true, false);
                            return;
                        }
                    }
                    case "transfer-encoding" -> {
                        respond(c, 400, "Bad Request", null, true, false);
                        return;
                    }
                    default -> {
                    }
                }
            }
            bodyToSkip = contentLength;
            int skip = (int) Math.min(bodyToSkip, inLength);
            consume(skip);
            bodyToSkip -= skip;
            boolean close = !keepAlive || served >= MAX_REQUESTS_PER_CONNECTION;
            boolean headOnly = method.equals("HEAD");
            if (!method.equals("GET") && !headOnly) {
                respond(c, 405, "Method Not Allowed", null, close, false);
            } else if (target.equals("/") || target.equals("/index.html")) {
                respond(c, 200, "OK", page(c), close, headOnly);
            } else {
                respond(c, 404, "Not Found", null, close, headOnly);
            }
        }

        /** Queues a response (written by {@link #work}); {@code body} null for a short text one. */
        private void respond(TcpConnection c, int status, String reason, byte[] body, boolean close,
                boolean headOnly) {
            counters.increment(switch (status) {
                case 200 -> HttpCounter.OK;
                case 404 -> HttpCounter.NOT_FOUND;
                case 405 -> HttpCounter.METHOD_NOT_ALLOWED;
                case 431 -> HttpCounter.TOO_LARGE;
                default -> HttpCounter.BAD_REQUEST;
            });
            boolean html = body != null;
            byte[] content = html ? body : (status + " " + reason + "\n").getBytes(StandardCharsets.US_ASCII);
            StringBuilder h = new StringBuilder().append("HTTP/1.1 ").append(status).append(' ').append(reason)
                    .append("\r\nServer: jmbuf\r\nContent-Type: ")
                    .append(html ? "text/html; charset=utf-8" : "text/plain; charset=us-ascii")
                    .append("\r\nContent-Length: ").append(content.length);
            if (status == 405) {
                h.append("\r\nAllow: GET, HEAD");
            }
            h.append("\r\nConnection: ").append(close ? "close" : "keep-alive").append("\r\n\r\n");
            byte[] headBytes = h.toString().getBytes(StandardCharsets.US_ASCII);
            byte[] response = headBytes;
            if (!headOnly) {
                response = new byte[headBytes.length + content.length];
                System.arraycopy(headBytes, 0, response, 0, headBytes.length);
                System.arraycopy(content, 0, response, headBytes.length, content.length);
            }
            counters.add(HttpCounter.BYTES_SENT, response.length);
            out = response;
            outOffset = 0;
            closeAfterResponse = close;
            if (close) {
                inLength = 0; // nothing more is read from this connection
            }
        }

        /**
         * Closes after the last response, the way servers linger (RFC 9112 §9.6): our FIN follows the response
         * at once, then whatever the client still sends is read and dropped until its FIN, so that a request
         * we did not read cannot turn our close into a reset that destroys the response in flight. After
         * {@link #LINGER} the connection is closed regardless.
         */
        private void finish(TcpConnection c) {
            if (closing || draining) {
                return;
            }
            draining = true;
            inLength = 0;
            bodyToSkip = 0;
            c.shutdownOutput();
            linger = host.timers().schedule(LINGER, () -> {
                if (!closing) {
                    closing = true;
                    c.close();
                    retire(c, false);
                }
            });
            work(c);
        }
    }

    /**
     * Stops listening and closes every connection (responses already queued are still sent). On the host's
     * thread. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        listener.close();
        for (TcpConnection c : new ArrayList<>(sessions.keySet())) {
            c.close();
            retire(c, false);
        }
    }
}
