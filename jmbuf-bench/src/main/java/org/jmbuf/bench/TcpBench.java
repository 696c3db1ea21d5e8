package org.jmbuf.bench;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.net.EthernetInterface;
import org.jmbuf.net.Host;
import org.jmbuf.net.ManualClock;
import org.jmbuf.net.NetworkInterface;
import org.jmbuf.net.TcpConnection;
import org.jmbuf.net.TcpListener;
import org.jmbuf.net.TcpState;
import org.jmbuf.net.Timers;
import org.jmbuf.wire.IpAddress;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.MacAddress;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * TCP bulk transfer between two jmbuf hosts in one process, no I/O (issue 5, acceptance 5): 1 MiB from
 * a client to a server over an established connection, per operation. The hosts' Ethernet interfaces are
 * wired back to back: a frame one sends is queued on the other as it is (its clusters shared with the
 * sender's send buffer, read-only), so the cost measured is TCP, IP, Ethernet and the buffers, not a
 * simulated wire. Time is a {@link ManualClock} that moves 1 ms whenever both hosts are idle (delayed
 * ACKs); nothing is lost, so no retransmission timer fires. The writer copies into the send buffer
 * ({@code write}) and the reader copies out ({@code read}), as a socket user would.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Thread)
public class TcpBench {
    /** Bytes moved per operation. */
    public static final int TRANSFER = 1 << 20;
    private static final MacAddress MAC_A = MacAddress.parse("02:00:00:00:00:01");
    private static final MacAddress MAC_B = MacAddress.parse("02:00:00:00:00:02");

    @Param({"IPV4", "IPV6"})
    public String family;

    private final MbufPool pool = Packets.POOL;
    private final ManualClock clock = new ManualClock();
    private final Timers timers = new Timers(clock);
    private final byte[] chunk = Packets.data(64 * 1024);
    private final byte[] sink = new byte[64 * 1024];
    private Host a;
    private Host b;
    private TcpListener listener;
    private TcpConnection client;
    private TcpConnection server;

    @Setup(Level.Trial)
    public void setUp() {
        a = new Host("a", pool, timers);
        b = new Host("b", pool, timers);
        NetworkInterface[] ports = new NetworkInterface[2];
        ports[0] = a.attach(new EthernetInterface("eth0", MAC_A, 1500, frame -> ports[1].receive(frame)));
        ports[1] = b.attach(new EthernetInterface("eth0", MAC_B, 1500, frame -> ports[0].receive(frame)));
        IpAddress serverAddress;
        if (family.equals("IPV4")) {
            a.addIpv4(ports[0], Ipv4Address.parse("192.0.2.1"), 24);
            b.addIpv4(ports[1], Ipv4Address.parse("192.0.2.2"), 24);
            serverAddress = Ipv4Address.parse("192.0.2.2");
        } else {
            a.ipv6().enable(ports[0]);
            b.ipv6().enable(ports[1]);
            a.ipv6().addAddress(ports[0], Ipv6Address.parse("2001:db8::1"), 64);
            b.ipv6().addAddress(ports[1], Ipv6Address.parse("2001:db8::2"), 64);
            serverAddress = Ipv6Address.parse("2001:db8::2");
        }
        settle(Duration.ofSeconds(5), () -> false);
        listener = b.tcp().listen(5001, 1);
        client = a.tcp().connect(serverAddress, 5001);
        settle(Duration.ofSeconds(5), () -> client.state() == TcpState.ESTABLISHED && listener.pending() == 1);
        server = listener.accept();
        if (server == null || client.state() != TcpState.ESTABLISHED) {
            throw new IllegalStateException("no connection: " + client + "\n" + a.netstat() + b.netstat());
        }
    }

    /** Runs both hosts and the timers until {@code done} or {@code limit} of simulated time. */
    private void settle(Duration limit, java.util.function.BooleanSupplier done) {
        long end = clock.nanoTime() + limit.toNanos();
        while (!done.getAsBoolean() && clock.nanoTime() < end) {
            if (a.poll() + b.poll() + timers.runDue() == 0) {
                clock.advance(Duration.ofMillis(1));
            }
        }
    }

    /** Moves {@link #TRANSFER} bytes from client to server; returns the bytes received. */
    @Benchmark
    public long bulkTransfer1MiB() {
        long sent = 0;
        long received = 0;
        int idle = 0;
        while (received < TRANSFER) {
            if (sent < TRANSFER) {
                sent += client.write(chunk, 0, (int) Math.min(chunk.length, TRANSFER - sent));
            }
            int work = a.poll() + b.poll();
            int n;
            while ((n = server.read(sink, 0, sink.length)) > 0) {
                received += n;
                work++;
            }
            if (work == 0) {
                clock.advance(Duration.ofMillis(1));
                work = timers.runDue();
                if (++idle > 100_000) {
                    throw new IllegalStateException("transfer stalled at " + received + ": " + client + "\n"
                            + a.netstat() + b.netstat());
                }
            }
        }
        return received;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        client.close();
        server.close();
        settle(Duration.ofMinutes(5), () -> a.tcp().connections().isEmpty() && b.tcp().connections().isEmpty());
        listener.close();
        a.close();
        b.close();
    }
}
