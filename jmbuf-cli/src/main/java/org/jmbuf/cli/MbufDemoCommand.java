package org.jmbuf.cli;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code jmbuf mbuf-demo}: walks one packet through the life of an mbuf chain: built from pieces, shared
 * with a copy, written with copy on write, pulled up, and freed, printing the chain after each step.
 */
@Command(name = "mbuf-demo",
        mixinStandardHelpOptions = true,
        description = {
            "Show an mbuf chain being built, shared, copied on write and pulled up.",
            "The packet is an embedded IPv4/UDP datagram held in read-only storage, as a capture",
            "file or a paravirtual driver would hand it over."},
        footer = {"", "Examples:", "  jmbuf mbuf-demo", "  jmbuf mbuf-demo --pieces 5"})
final class MbufDemoCommand implements Callable<Integer> {
    /** An IPv4/UDP datagram from 192.0.2.1:5353 to 198.51.100.7:53 carrying "hello, mbuf". */
    private static final byte[] DATAGRAM = HexFormat.of().parseHex(
            "45000027" + "1c460000" + "4011" + "0000" + "c0000201" + "c6336407"
                    + "14e90035" + "0013" + "0000" + "68656c6c6f2c206d627566");

    private static final ValueLayout.OfShort BIG_ENDIAN_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    @Option(names = "--pieces", defaultValue = "3",
            description = "Split the datagram into this many segments to start with (1-8, default ${DEFAULT-VALUE}).")
    private int pieces;

    @Override
    public Integer call() {
        if (pieces < 1 || pieces > 8) {
            System.err.println("jmbuf mbuf-demo: --pieces must be between 1 and 8, was " + pieces);
            return 2;
        }
        PrintStream out = System.out;
        MbufPool pool = MbufPool.builder().build();
        Arena arena = Arena.ofConfined();
        try (arena) {
            MemorySegment storage = arena.allocate(DATAGRAM.length);
            storage.copyFrom(MemorySegment.ofArray(DATAGRAM));

            step(out, "1. wrap the datagram's read-only storage (MEXTADD, no copy) and cut it into " + pieces
                    + " segments, as a driver handing over fragments would");
            Mbuf packet = pool.wrap(storage, false, () -> out.println("   (external storage released)"));
            cutIntoPieces(packet, pieces);
            out.print(indent(packet.dump()));

            step(out, "2. ptr(0, 28): a view of the IPv4 and UDP headers, contiguous (copied only if they span"
                    + " segments); the range becomes a guaranteed contiguous region");
            long copied = pool.stats().bytesCopied();
            MemorySegment headers = packet.ptr(0, 28);
            out.printf("   ttl=%d protocol=%d source port=%d; the view is %s; %d bytes copied%n",
                    headers.get(ValueLayout.JAVA_BYTE, 8) & 0xff, headers.get(ValueLayout.JAVA_BYTE, 9),
                    Short.toUnsignedInt(headers.get(BIG_ENDIAN_SHORT, 20)),
                    headers.isReadOnly() ? "read-only" : "writable", pool.stats().bytesCopied() - copied);
            out.print(indent(packet.dump()));

            step(out, "3. copyPacket (m_copypacket): the copy shares the external storage");
            Mbuf copy = packet.copyPacket();
            out.print(indent(copy.dump()));

            step(out, "4. ptrRw(28, 11) on the copy and upper-case the payload: copy on write; the original"
                    + " and the storage keep their bytes");
            MemorySegment payload = copy.ptrRw(28, 11);
            for (int i = 0; i < payload.byteSize(); i++) {
                payload.set(ValueLayout.JAVA_BYTE, i,
                        (byte) Character.toUpperCase(payload.get(ValueLayout.JAVA_BYTE, i)));
            }
            out.printf("   copy: \"%s\"  original: \"%s\"  storage: \"%s\"%n", payloadOf(copy),
                    payloadOf(packet), new String(storage.asSlice(28).toArray(ValueLayout.JAVA_BYTE),
                            StandardCharsets.US_ASCII));
            out.print(indent(copy.dump()));

            step(out, "5. pullup(28) on the original (m_pullup): already contiguous, so nothing moves");
            copied = pool.stats().bytesCopied();
            packet.pullup(28);
            out.printf("   bytes copied by pullup: %d%n", pool.stats().bytesCopied() - copied);

            step(out, "6. free both chains (m_freem)");
            copy.free();
            packet.free();
            out.println();
            out.println("Pool statistics (netstat -m):");
            out.print(indent(pool.stats().toString()));
        }
        return 0;
    }

    /** Cuts the chain into {@code pieces} segments of about equal length with m_split and m_cat. */
    private static void cutIntoPieces(Mbuf packet, int pieces) {
        int size = packet.length() / pieces;
        Mbuf rest = packet.split(size);
        for (int i = 2; i < pieces; i++) {
            Mbuf next = rest.split(size);
            packet.cat(rest);
            rest = next;
        }
        packet.cat(rest);
    }

    private static String payloadOf(Mbuf packet) {
        byte[] bytes = new byte[packet.length() - 28];
        packet.copyData(28, bytes.length, bytes, 0);
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    private static void step(PrintStream out, String what) {
        out.println();
        out.println(what);
    }

    private static String indent(String text) {
        return text.lines().map(l -> "   " + l + "\n").reduce("", String::concat);
    }
}
