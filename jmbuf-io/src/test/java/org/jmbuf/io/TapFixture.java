package org.jmbuf.io;

import static org.jmbuf.io.LinuxTools.check;
import static org.jmbuf.io.LinuxTools.in;
import static org.jmbuf.io.LinuxTools.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.net.NetworkInterface;
import org.jmbuf.net.UdpSocket;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.MacAddress;

/**
 * One jmbuf host on a TAP device whose other end is Linux in a network namespace of its own:
 *
 * <pre>
 *   namespace jmbuf-XXXXXXXX: TAP interface 192.0.2.1/24, 2001:db8::1/64 (nodad)
 *        |  (the JVM's descriptor stays attached when the interface moves)
 *   JVM: TapLink host "jmbuf" 192.0.2.2/24, 2001:db8::2/64, fe80::(EUI-64 of 02:00:5e:00:53:02)
 * </pre>
 *
 * Closing stops the capture, closes the link (deleting the interface) and deletes the namespace; a shutdown
 * hook deletes any namespace a crashed run left.
 */
final class TapFixture implements AutoCloseable {
    static final String LINUX_V4 = "192.0.2.1";
    static final String JMBUF_V4 = "192.0.2.2";
    static final String LINUX_V6 = "2001:db8::1";
    static final String JMBUF_V6 = "2001:db8::2";
    static final MacAddress JMBUF_MAC = MacAddress.parse("02:00:5e:00:53:02");
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

    private static final Set<String> LIVE_NAMESPACES = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (String ns : LIVE_NAMESPACES) {
                try {
                    new ProcessBuilder("ip", "netns", "del", ns).start().waitFor(5, TimeUnit.SECONDS);
                } catch (IOException | InterruptedException e) {
                    // best effort
                }
            }
        }));
    }

    final String ns;
    final String tap;
    final TapLink link;
    private Process capture;
    private Path captureLog;
    private UdpSocket echo;
    private Runnable echoHook;

    private TapFixture(String ns, String tap, TapLink link) {
        this.ns = ns;
        this.tap = tap;
        this.link = link;
    }

    /**
     * Creates the namespace and the TAP device, configures both sides, starts the host and waits until every
     * address on both sides is usable. With {@code captureTo}, tcpdump records the TAP interface inside the
     * namespace from the moment it is up.
     */
    static TapFixture start(MbufPool pool, Path captureTo) throws Exception {
        String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        String ns = "jmbuf-" + id;
        String tapName = "jmbtap" + id.substring(0, 6);
        check(COMMAND_TIMEOUT, "ip", "netns", "add", ns);
        LIVE_NAMESPACES.add(ns);
        TapLink link = null;
        TapFixture f = null;
        try {
            link = TapLink.open("jmbuf", tapName, pool, JMBUF_MAC);
            f = new TapFixture(ns, link.device().name(), link);
            check(COMMAND_TIMEOUT, "ip", "link", "set", f.tap, "netns", ns);
            check(COMMAND_TIMEOUT, in(ns, "ip", "link", "set", "lo", "up"));
            check(COMMAND_TIMEOUT, in(ns, "ip", "addr", "add", LINUX_V4 + "/24", "dev", f.tap));
            check(COMMAND_TIMEOUT, in(ns, "ip", "-6", "addr", "add", LINUX_V6 + "/64", "dev", f.tap, "nodad"));
            check(COMMAND_TIMEOUT, in(ns, "ip", "link", "set", f.tap, "up"));
            if (captureTo != null) {
                f.startCapture(captureTo);
            }
            NetworkInterface ifp = link.ifp();
            link.host().addIpv4(ifp, Ipv4Address.parse(JMBUF_V4), 24);
            link.host().ipv6().addAddress(ifp, Ipv6Address.parse(JMBUF_V6), 64);
            link.start();
            f.awaitReady();
            return f;
        } catch (Throwable t) {
            if (f != null) {
                f.close();
            } else {
                if (link != null) {
                    link.close();
                }
                deleteNamespace(ns);
            }
            throw t;
        }
    }

    private void awaitReady() throws InterruptedException {
        NetworkInterface ifp = link.ifp();
        await("jmbuf's IPv6 addresses to become preferred", () -> callQuietly(() ->
                preferred(ifp, Ipv6Address.parse(JMBUF_V6)) && preferred(ifp, link.host().nd().linkLocal(ifp))));
        await("Linux's addresses on " + tap + " to leave the tentative state", () -> {
            try {
                LinuxTools.Result r = run(COMMAND_TIMEOUT, in(ns, "ip", "-6", "addr", "show", "dev", tap));
                return r.exitStatus() == 0 && r.output().contains("fe80::") && !r.output().contains("tentative");
            } catch (IOException | InterruptedException e) {
                return false;
            }
        });
    }

    private static boolean preferred(NetworkInterface ifp, Ipv6Address address) {
        NetworkInterface.Ipv6Assignment a = address == null ? null : ifp.ipv6Assignment(address);
        return a != null && a.state() == NetworkInterface.Ipv6State.PREFERRED;
    }

    private boolean callQuietly(java.util.concurrent.Callable<Boolean> check) {
        try {
            return link.call(check, CALL_TIMEOUT);
        } catch (Exception e) {
            throw new AssertionError("the link's loop did not answer: " + link.failure(), e);
        }
    }

    private void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    /** Runs {@code task} on the link's thread and returns its result, failing the test if it throws. */
    <T> T call(java.util.concurrent.Callable<T> task) throws Exception {
        return link.call(task, CALL_TIMEOUT);
    }

    /** jmbuf's link-local address without its zone, as Linux writes it. */
    String jmbufLinkLocal() throws Exception {
        return call(() -> org.jmbuf.net.Ipv6Scope.clear(link.host().nd().linkLocal(link.ifp())).toString());
    }

    /** Runs {@code command} inside the namespace. */
    LinuxTools.Result inNamespace(String... command) throws IOException, InterruptedException {
        return run(COMMAND_TIMEOUT, in(ns, command));
    }

    /** Runs {@code command} inside the namespace with {@code input} on its standard input. */
    LinuxTools.Result inNamespaceWithInput(String input, String... command) throws IOException, InterruptedException {
        return LinuxTools.runWithInput(COMMAND_TIMEOUT, input, in(ns, command));
    }

    /**
     * Starts a UDP echo service on jmbuf: a socket bound to port 7 on both families; every datagram is sent
     * back to where it came from.
     */
    void startUdpEcho() throws Exception {
        echo = call(() -> link.host().udp().open().bind(7));
        UdpSocket socket = echo;
        echoHook = () -> {
            for (UdpSocket.Datagram next = socket.receive(); next != null; next = socket.receive()) {
                try (UdpSocket.Datagram d = next) {
                    UdpSocket.SendResult r = socket.send(d.bytes(), d.sourceText(), d.sourcePort());
                    if (r != UdpSocket.SendResult.SENT) {
                        throw new IllegalStateException("echo to " + d.sourceText() + " failed: " + r);
                    }
                }
            }
        };
        link.addPollHook(echoHook);
    }

    private void startCapture(Path file) throws IOException, InterruptedException {
        captureLog = Files.createTempFile("jmbuf-tcpdump", ".log");
        // --immediate-mode: without it, packets of the last second may still sit in the kernel's capture ring
        // when tcpdump is stopped, and are lost
        capture = new ProcessBuilder(in(ns, LinuxTools.which("tcpdump").toString(), "-i", tap, "-n", "-U",
                "--immediate-mode", "-Z", "root", "-s", "0", "-w", file.toString())).redirectErrorStream(true)
                .redirectOutput(captureLog.toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!Files.readString(captureLog).contains("listening on")) {
            if (!capture.isAlive() || System.nanoTime() > deadline) {
                String log = Files.readString(captureLog);
                capture.destroyForcibly();
                throw new AssertionError("tcpdump did not start:\n" + log);
            }
            Thread.sleep(20);
        }
    }

    /** Stops tcpdump (SIGTERM, so it flushes the file) and returns what it printed. */
    String stopCapture() throws IOException, InterruptedException {
        if (capture == null) {
            return "";
        }
        Thread.sleep(200); // the last replies reach the capture
        capture.destroy();
        if (!capture.waitFor(10, TimeUnit.SECONDS)) {
            capture.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        capture = null;
        String log = Files.readString(captureLog);
        Files.deleteIfExists(captureLog);
        return log;
    }

    @Override
    public void close() {
        try {
            closeAll();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new AssertionError("tearing down " + ns + " failed", e);
        }
    }

    private void closeAll() throws Exception {
        Throwable first = null;
        try {
            stopCapture();
        } catch (Throwable t) {
            first = t;
        }
        try {
            if (echo != null) {
                link.removePollHook(echoHook);
                UdpSocket socket = echo;
                echo = null;
                if (link.isRunning()) {
                    call(() -> {
                        socket.close();
                        return null;
                    });
                } else {
                    link.close(); // joins the dead loop thread: the socket is this thread's now
                    socket.close();
                }
            }
        } catch (Throwable t) {
            first = first == null ? t : first;
        }
        try {
            link.close();
        } catch (Throwable t) {
            first = first == null ? t : first;
        }
        deleteNamespace(ns);
        if (first instanceof Exception e) {
            throw e;
        } else if (first instanceof Error e) {
            throw e;
        }
    }

    private static void deleteNamespace(String ns) throws IOException, InterruptedException {
        LinuxTools.Result r = run(COMMAND_TIMEOUT, "ip", "netns", "del", ns);
        if (r.exitStatus() != 0) {
            throw new AssertionError("could not delete namespace " + ns + ": " + r);
        }
        LIVE_NAMESPACES.remove(ns);
    }
}
