package org.jmbuf.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.io.EchoService;
import org.jmbuf.io.HttpService;
import org.jmbuf.io.TapLink;
import org.jmbuf.net.Host;
import org.jmbuf.net.UdpSocket;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.MacAddress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code jmbuf tap}: a live jmbuf host on a Linux TAP device, answering ping and ping6 (global and
 * link-local) and running a UDP echo service on port 7, and with {@code --http} and {@code --echo} jmbuf's
 * TCP services ({@link HttpService}, {@link EchoService}), until Ctrl-C or {@code --duration}.
 */
@Command(name = "tap",
        mixinStandardHelpOptions = true,
        description = {
            "Run a live jmbuf host on a TAP device (needs root or CAP_NET_ADMIN): it answers ping and ping6",
            "(global and link-local) and echoes UDP datagrams on port 7; with --http and --echo it also serves",
            "a tiny web page and a TCP echo service over jmbuf's own TCP. Counters are printed on exit (Ctrl-C)",
            "and every N seconds with --stats-every. Configure Linux's side of the link yourself, e.g.:",
            "  ip addr add 192.0.2.1/24 dev tap0 && ip -6 addr add 2001:db8::1/64 dev tap0 && ip link set tap0 up"},
        footer = {"", "Examples:",
            "  jmbuf tap --dev tap0 --ip 192.0.2.2/24 --ip6 2001:db8::2/64",
            "  jmbuf tap --dev tap0 --ip 192.0.2.2/24 --stats-every 10",
            "  jmbuf tap --dev tap0 --ip 192.0.2.2/24 --duration 30",
            "  jmbuf tap --dev tap0 --ip 192.0.2.2/24 --ip6 2001:db8::2/64 --http 80 --echo 7",
            "    then: curl http://192.0.2.2/   curl -g 'http://[2001:db8::2]/'   curl -g 'http://[fe80::...%tap0]/'",
            "          head -c 10000000 /dev/urandom | nc -N 192.0.2.2 7 | wc -c"})
final class TapCommand implements Callable<Integer> {
    @Option(names = "--dev", required = true, description = "The TAP device to create and use, e.g. tap0.")
    private String device;

    @Option(names = "--ip", description = "An IPv4 address with its prefix length, e.g. 192.0.2.2/24.")
    private List<String> ipv4 = new ArrayList<>();

    @Option(names = "--ip6", description = "An IPv6 address with its prefix length, e.g. 2001:db8::2/64.")
    private List<String> ipv6 = new ArrayList<>();

    @Option(names = "--mac", defaultValue = "02:6a:6d:62:75:66",
            description = "The host's Ethernet address (default ${DEFAULT-VALUE}).")
    private String mac;

    @Option(names = "--http", paramLabel = "PORT",
            description = "Serve a tiny web page over TCP on this port (GET / answers, anything else 404).")
    private Integer httpPort;

    @Option(names = "--echo", paramLabel = "PORT",
            description = "Run a TCP echo service (RFC 862) on this port: every byte comes back.")
    private Integer echoPort;

    @Option(names = "--stats-every", paramLabel = "SECONDS", description = "Print the counters this often.")
    private int statsEvery;

    @Option(names = "--duration", paramLabel = "SECONDS",
            description = "Stop by itself after this long (default: run until Ctrl-C).")
    private int duration;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        MacAddress address;
        List<Ipv4Address> v4 = new ArrayList<>();
        List<Integer> v4Prefix = new ArrayList<>();
        List<Ipv6Address> v6 = new ArrayList<>();
        List<Integer> v6Prefix = new ArrayList<>();
        try {
            address = MacAddress.parse(mac);
            for (String s : ipv4) {
                String[] parts = split(s, 32);
                v4.add(Ipv4Address.parse(parts[0]));
                v4Prefix.add(Integer.parseInt(parts[1]));
            }
            for (String s : ipv6) {
                String[] parts = split(s, 128);
                v6.add(Ipv6Address.parse(parts[0]));
                v6Prefix.add(Integer.parseInt(parts[1]));
            }
            for (Integer port : new Integer[] {httpPort, echoPort}) {
                if (port != null && (port < 1 || port > 65535)) {
                    throw new IllegalArgumentException("port " + port + " is not in 1..65535");
                }
            }
            if (httpPort != null && httpPort.equals(echoPort)) {
                throw new IllegalArgumentException("--http and --echo need different ports");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("jmbuf tap: " + e.getMessage());
            return 2;
        }
        MbufPool pool = MbufPool.builder().build();
        TapLink link;
        try {
            link = TapLink.open("jmbuf", device, pool, address);
        } catch (IOException e) {
            System.err.println("jmbuf tap: " + e.getMessage());
            return 1;
        }
        CountDownLatch stop = new CountDownLatch(1);
        Thread onInterrupt = new Thread(stop::countDown, "jmbuf-tap-stop");
        Runtime.getRuntime().addShutdownHook(onInterrupt);
        try (link) {
            Host host = link.host();
            link.start();
            UdpSocket echo = link.call(() -> {
                for (int i = 0; i < v4.size(); i++) {
                    host.addIpv4(link.ifp(), v4.get(i), v4Prefix.get(i));
                }
                host.ipv6().enable(link.ifp());
                for (int i = 0; i < v6.size(); i++) {
                    host.ipv6().addAddress(link.ifp(), v6.get(i), v6Prefix.get(i));
                }
                return host.udp().open().bind(7);
            }, Duration.ofSeconds(5));
            HttpService http = httpPort == null ? null
                    : link.call(() -> HttpService.start(host, httpPort, 64), Duration.ofSeconds(5));
            EchoService tcpEcho = echoPort == null ? null
                    : link.call(() -> EchoService.start(host, echoPort, 64), Duration.ofSeconds(5));
            link.addPollHook(() -> {
                for (UdpSocket.Datagram next = echo.receive(); next != null; next = echo.receive()) {
                    try (UdpSocket.Datagram d = next) {
                        echo.send(d.payload().copy(0), d.source(), d.sourcePort());
                    }
                }
            });
            out.printf("jmbuf host on %s (%s): %s %s; UDP echo on port 7%s%s.%s%n", device, address, ipv4, ipv6,
                    http == null ? "" : "; HTTP on TCP port " + httpPort,
                    tcpEcho == null ? "" : "; TCP echo on port " + echoPort,
                    duration > 0 ? " Stopping after " + duration + " s." : " Ctrl-C to stop.");
            long deadline = duration > 0 ? System.nanoTime() + TimeUnit.SECONDS.toNanos(duration) : Long.MAX_VALUE;
            long nextStats = statsEvery > 0 ? System.nanoTime() + TimeUnit.SECONDS.toNanos(statsEvery) : Long.MAX_VALUE;
            while (link.failure() == null) {
                long now = System.nanoTime();
                long wait = Math.max(1, Math.min(deadline, nextStats) - now);
                if (stop.await(Math.min(wait, TimeUnit.SECONDS.toNanos(1)), TimeUnit.NANOSECONDS)
                        || System.nanoTime() >= deadline) {
                    break;
                }
                if (System.nanoTime() >= nextStats) {
                    CounterTable.print(out, null,
                            link.call(() -> counters(host, http, tcpEcho), Duration.ofSeconds(5)));
                    nextStats += TimeUnit.SECONDS.toNanos(statsEvery);
                }
            }
            out.println("Counters:");
            CounterTable.print(out, null, link.call(() -> {
                echo.close();
                if (http != null) {
                    http.close();
                }
                if (tcpEcho != null) {
                    tcpEcho.close();
                }
                return counters(host, http, tcpEcho);
            }, Duration.ofSeconds(5)));
            if (link.failure() != null) {
                System.err.println("jmbuf tap: the host stopped: " + link.failure());
                return 1;
            }
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onInterrupt);
            } catch (IllegalStateException alreadyShuttingDown) {
                // Ctrl-C: the JVM is exiting, and we have printed the counters.
            }
        }
        return 0;
    }

    /** The host's counters, then the services'; on the link's thread. */
    private static List<org.jmbuf.net.Counters<?>> counters(Host host, HttpService http, EchoService echo) {
        List<org.jmbuf.net.Counters<?>> all = new ArrayList<>(host.counters());
        if (http != null) {
            all.add(http.counters());
        }
        if (echo != null) {
            all.add(echo.counters());
        }
        return all;
    }

    private static String[] split(String text, int defaultPrefix) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            return new String[] {text, Integer.toString(defaultPrefix)};
        }
        String prefix = text.substring(slash + 1);
        if (prefix.isEmpty() || !prefix.chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException("bad prefix length in " + text + " (want ADDRESS/LENGTH)");
        }
        return new String[] {text.substring(0, slash), prefix};
    }
}
