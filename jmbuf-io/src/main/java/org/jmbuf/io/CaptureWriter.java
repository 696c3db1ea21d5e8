package org.jmbuf.io;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jmbuf.buf.Mbuf;

/**
 * Writes packets to a pcap or pcapng file, buffered.
 *
 * <pre>{@code
 * try (CaptureWriter writer = CaptureWriter.builder(CaptureFormat.PCAPNG)
 *         .linkType(LinkType.ETHERNET).precision(TimestampPrecision.NANOSECONDS).open(path)) {
 *     writer.write(frame, Instant.now());
 * }
 * }</pre>
 *
 * <h2>What is written</h2>
 * Classic pcap: the 24-byte file header (version 2.4, magic {@code a1b2c3d4} for microseconds or
 * {@code a1b23c4d} for nanoseconds) with the builder's link type and snapshot length, then one record per
 * packet. pcapng: a Section Header Block ({@code shb_userappl} "jmbuf", section length unknown), an
 * Interface Description Block for interface 0 (link type, snapshot length, {@code if_tsresol} and, if
 * given, {@code if_name}) and one for each {@link #addInterface added interface}, then one Enhanced Packet
 * Block per packet. Both formats are written in the builder's byte order (little-endian by default).
 * A packet longer than its interface's snapshot length is cut to it; the record keeps the original
 * length.
 *
 * <h2>What is copied, what is shared</h2>
 * {@link #write} copies the packet's bytes into the writer's buffer through {@link Mbuf#apply} (read-only,
 * piece by piece, whatever storage holds them). The packet is not changed, not freed and not kept: it is
 * still the caller's when {@code write} returns.
 *
 * <h2>Errors and closing</h2>
 * Invalid arguments throw before anything is buffered. An {@link IOException} from the target leaves the
 * file's end undefined (a record may be half written); close the writer. {@link #close()} flushes the
 * buffer and closes the target (the file, stream or channel), even if flushing fails. A writer belongs to
 * one thread at a time.
 */
public final class CaptureWriter implements AutoCloseable {
    /** The snapshot length libpcap uses by default, and so does jmbuf. */
    public static final int DEFAULT_SNAP_LENGTH = 262_144;

    private static final int BUFFER_SIZE = 64 * 1024;
    private static final long MAX_U32 = 0xFFFF_FFFFL;
    /** The longest {@code if_name} written, in bytes, so a block always fits in the buffer. */
    private static final int MAX_NAME = 4096;

    private final CaptureFormat format;
    private final ByteOrder order;
    private final WritableByteChannel target;
    private final ByteBuffer buffer;
    private final MemorySegment bufferSegment;
    private final List<CaptureInterface> interfaces = new ArrayList<>();
    private long packetsWritten;
    private boolean closed;

    /**
     * A builder for a writer of {@code format}.
     *
     * @throws NullPointerException if {@code format} is null
     */
    public static Builder builder(CaptureFormat format) {
        return new Builder(Objects.requireNonNull(format, "format"));
    }

    /**
     * Configures a {@link CaptureWriter}: the file format, byte order, and interface 0 (the only one of a
     * classic pcap file).
     */
    public static final class Builder {
        private final CaptureFormat format;
        private ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        private LinkType linkType = LinkType.ETHERNET;
        private int snapLength = DEFAULT_SNAP_LENGTH;
        private TimestampPrecision precision = TimestampPrecision.MICROSECONDS;
        private String interfaceName;

        private Builder(CaptureFormat format) {
            this.format = format;
        }

        /** The byte order of every header and block; little-endian by default. */
        public Builder byteOrder(ByteOrder order) {
            this.order = Objects.requireNonNull(order, "order");
            return this;
        }

        /** The link type of interface 0; {@link LinkType#ETHERNET} by default. */
        public Builder linkType(LinkType linkType) {
            this.linkType = Objects.requireNonNull(linkType, "linkType");
            return this;
        }

        /**
         * The snapshot length of interface 0: longer packets are cut to it; {@link #DEFAULT_SNAP_LENGTH} by
         * default.
         *
         * @throws IllegalArgumentException if {@code snapLength} is not positive
         */
        public Builder snapLength(int snapLength) {
            this.snapLength = positiveSnapLength(snapLength);
            return this;
        }

        /** The timestamp resolution of interface 0 (in classic pcap, of the file); microseconds by default. */
        public Builder precision(TimestampPrecision precision) {
            this.precision = Objects.requireNonNull(precision, "precision");
            return this;
        }

        /**
         * The {@code if_name} of interface 0 (pcapng only); none by default.
         *
         * @throws IllegalArgumentException if {@code name} is longer than 4096 bytes of UTF-8
         * @throws IllegalStateException if the format is classic pcap, which has no interface names
         */
        public Builder interfaceName(String name) {
            if (format == CaptureFormat.PCAP) {
                throw new IllegalStateException("classic pcap files have no interface names");
            }
            this.interfaceName = checkedName(name);
            return this;
        }

        /**
         * Creates (or truncates) the file at {@code path} and writes the file header.
         *
         * @throws IOException if the file cannot be created or written
         */
        public CaptureWriter open(Path path) throws IOException {
            Objects.requireNonNull(path, "path");
            return open(FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING));
        }

        /**
         * Writes to {@code out}, which the writer's {@link CaptureWriter#close()} closes. The file header is
         * buffered, not yet written.
         *
         * @throws IOException never for a stream in practice (the header stays in the buffer)
         */
        public CaptureWriter open(OutputStream out) throws IOException {
            return open(Channels.newChannel(Objects.requireNonNull(out, "out")));
        }

        /**
         * Writes to {@code channel}, which the writer's {@link CaptureWriter#close()} closes. The file
         * header is buffered, not yet written.
         *
         * @throws IOException if writing the header fails (it does not with a buffer this size)
         */
        public CaptureWriter open(WritableByteChannel channel) throws IOException {
            Objects.requireNonNull(channel, "channel");
            CaptureWriter writer = new CaptureWriter(format, order, channel);
            try {
                writer.start(linkType, snapLength, precision, interfaceName);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
            return writer;
        }
    }

    private CaptureWriter(CaptureFormat format, ByteOrder order, WritableByteChannel target) {
        this.format = format;
        this.order = order;
        this.target = target;
        byte[] bytes = new byte[BUFFER_SIZE];
        this.buffer = ByteBuffer.wrap(bytes).order(order);
        this.bufferSegment = MemorySegment.ofArray(bytes);
    }

    private void start(LinkType linkType, int snapLength, TimestampPrecision precision, String name)
            throws IOException {
        if (format == CaptureFormat.PCAP) {
            room(PcapParser.FILE_HEADER);
            buffer.putInt(precision == TimestampPrecision.NANOSECONDS ? 0xA1B23C4D : 0xA1B2C3D4);
            buffer.putShort((short) 2).putShort((short) 4);
            buffer.putInt(0).putInt(0); // thiszone, sigfigs: always 0
            buffer.putInt(snapLength);
            buffer.putInt(linkType.value());
            interfaces.add(new CaptureInterface(0, 0, linkType, snapLength, precision.decimalDigits(), 0, -1, null));
        } else {
            byte[] application = "jmbuf".getBytes(StandardCharsets.UTF_8);
            int options = option(application.length) + 4;
            room(28 + options);
            buffer.putInt(PcapngParser.SECTION_HEADER).putInt(28 + options).putInt(PcapngParser.BYTE_ORDER_MAGIC);
            buffer.putShort((short) 1).putShort((short) 0);
            buffer.putLong(-1L); // section length: not known in advance
            putOption(4, application); // shb_userappl
            buffer.putInt(0); // opt_endofopt
            buffer.putInt(28 + options);
            addInterface(linkType, snapLength, precision, name);
        }
    }

    /**
     * Describes one more interface (pcapng only) with an Interface Description Block, written now, and
     * returns its index for {@link #write(Mbuf, Instant, int, long)}. Interface 0 is the builder's.
     *
     * @param snapLength packets longer than this are cut to it
     * @param name       its {@code if_name}, or null for none
     * @return the new interface's index
     * @throws IllegalStateException    if the format is classic pcap (one link type per file), or the writer is
     *                                  closed
     * @throws IllegalArgumentException if {@code snapLength} is not positive, or {@code name} is longer than
     *                                  4096 bytes of UTF-8
     * @throws IOException              if flushing the buffer to make room fails
     */
    public int addInterface(LinkType linkType, int snapLength, TimestampPrecision precision, String name)
            throws IOException {
        requireOpen();
        Objects.requireNonNull(linkType, "linkType");
        Objects.requireNonNull(precision, "precision");
        positiveSnapLength(snapLength);
        if (format == CaptureFormat.PCAP) {
            throw new IllegalStateException("a classic pcap file has one link type; use pcapng for more interfaces");
        }
        byte[] nameBytes = name == null ? null : checkedName(name).getBytes(StandardCharsets.UTF_8);
        int options = (nameBytes == null ? 0 : option(nameBytes.length)) + option(1) + 4;
        int length = 20 + options;
        room(length);
        buffer.putInt(PcapngParser.INTERFACE_DESCRIPTION).putInt(length);
        buffer.putShort((short) linkType.value()).putShort((short) 0).putInt(snapLength);
        if (nameBytes != null) {
            putOption(PcapngParser.IF_NAME, nameBytes);
        }
        putOption(PcapngParser.IF_TSRESOL, new byte[] {(byte) precision.decimalDigits()});
        buffer.putInt(0); // opt_endofopt
        buffer.putInt(length);
        int index = interfaces.size();
        interfaces.add(new CaptureInterface(0, index, linkType, snapLength, precision.decimalDigits(), 0, -1, name));
        return index;
    }

    /**
     * Writes {@code packet} as captured on interface 0 at {@code timestamp}, with its own length as the
     * original length. Copies its bytes; does not free or change it.
     *
     * @throws IllegalArgumentException if the timestamp is before 1970 or beyond what the format holds
     *                                  (classic pcap: 2106; pcapng in nanoseconds: 2262)
     * @throws IllegalStateException    if the writer is closed or the packet was freed
     * @throws IOException              if writing to the target fails
     */
    public void write(Mbuf packet, Instant timestamp) throws IOException {
        Objects.requireNonNull(packet, "packet");
        write(packet, timestamp, 0, packet.length());
    }

    /**
     * Writes {@code packet} as captured on interface {@code interfaceIndex} at {@code timestamp}, cut to the
     * interface's snapshot length. Copies its bytes; does not free or change it.
     *
     * @param originalLength its length on the wire, written as given (normally at least the packet's
     *                       length: more if the packet was already cut by an earlier capture)
     * @throws IllegalArgumentException if the timestamp is before 1970 or beyond what the format holds
     *                                  (classic pcap: 2106; pcapng in nanoseconds: 2262), the interface does
     *                                  not exist, or {@code originalLength} is not an unsigned 32-bit number
     * @throws IllegalStateException    if the writer is closed or the packet was freed
     * @throws IOException              if writing to the target fails
     */
    public void write(Mbuf packet, Instant timestamp, int interfaceIndex, long originalLength) throws IOException {
        requireOpen();
        Objects.requireNonNull(packet, "packet");
        Objects.requireNonNull(timestamp, "timestamp");
        if (interfaceIndex < 0 || interfaceIndex >= interfaces.size()) {
            throw new IllegalArgumentException("no interface " + interfaceIndex + ": " + interfaces.size()
                    + " described");
        }
        if (originalLength < 0 || originalLength > MAX_U32) {
            throw new IllegalArgumentException("original length " + originalLength + " is not an unsigned 32-bit number");
        }
        CaptureInterface captureInterface = interfaces.get(interfaceIndex);
        int captured = (int) Math.min(packet.length(), captureInterface.snapLength());
        long unitsPerSecond = captureInterface.isNanosecond() ? 1_000_000_000L : 1_000_000L;
        long fraction = timestamp.getNano() / (1_000_000_000L / unitsPerSecond);
        long seconds = timestamp.getEpochSecond();
        if (seconds < 0) {
            throw new IllegalArgumentException("timestamp " + timestamp + " is before 1970, which capture files cannot hold");
        }
        int padding = -captured & 3;
        if (format == CaptureFormat.PCAP) {
            if (seconds > MAX_U32) {
                throw new IllegalArgumentException("timestamp " + timestamp + " is beyond 2106, which pcap cannot hold");
            }
            room(PcapParser.RECORD_HEADER);
            buffer.putInt((int) seconds).putInt((int) fraction).putInt(captured).putInt((int) originalLength);
            putPacket(packet, captured);
        } else {
            long units;
            try {
                units = Math.addExact(Math.multiplyExact(seconds, unitsPerSecond), fraction);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("timestamp " + timestamp + " is beyond what pcapng holds at "
                        + unitsPerSecond + " units per second", e);
            }
            long length = 32L + captured + padding; // at most 2^31 + 34: an unsigned 32-bit field
            room(28);
            buffer.putInt(PcapngParser.ENHANCED_PACKET).putInt((int) length).putInt(interfaceIndex);
            buffer.putInt((int) (units >>> 32)).putInt((int) units).putInt(captured).putInt((int) originalLength);
            putPacket(packet, captured);
            room(padding + 4);
            for (int i = 0; i < padding; i++) {
                buffer.put((byte) 0);
            }
            buffer.putInt((int) length);
        }
        packetsWritten++;
    }

    /**
     * Writes a packet read by a {@link CaptureReader}, with its timestamp and original length: on
     * interface 0 of a classic pcap file, or on interface {@link CapturedPacket#interfaceIndex()} of a pcapng
     * file (which the caller has described with {@link #addInterface}; indexes restart in each section of
     * the file read). Copies its bytes; does not free or change its chain.
     *
     * @throws IllegalArgumentException if the packet has no timestamp (a Simple Packet Block), its interface
     *                                  does not exist here or has another link type, or as
     *                                  {@link #write(Mbuf, Instant, int, long)}
     * @throws IllegalStateException    if the writer is closed or the chain was freed
     * @throws IOException              if writing to the target fails
     */
    public void write(CapturedPacket packet) throws IOException {
        requireOpen();
        Objects.requireNonNull(packet, "packet");
        if (packet.timestamp() == null) {
            throw new IllegalArgumentException("the packet at offset " + packet.fileOffset()
                    + " has no timestamp (a simple packet block); give one with write(Mbuf, Instant, int, long)");
        }
        int index = format == CaptureFormat.PCAP ? 0 : packet.interfaceIndex();
        if (index < interfaces.size() && !interfaces.get(index).linkType().equals(packet.linkType())) {
            throw new IllegalArgumentException("the packet's link type " + packet.linkType() + " is not interface "
                    + index + "'s, " + interfaces.get(index).linkType());
        }
        write(packet.mbuf(), packet.timestamp(), index, packet.originalLength());
    }

    /** The interfaces described so far, interface 0 first. An immutable copy. */
    public List<CaptureInterface> interfaces() {
        return List.copyOf(interfaces);
    }

    /** The file format being written. */
    public CaptureFormat format() {
        return format;
    }

    /** How many packets have been written (to the buffer, at least). */
    public long packetsWritten() {
        return packetsWritten;
    }

    /**
     * Writes the buffer to the target.
     *
     * @throws IllegalStateException if the writer is closed
     * @throws IOException           if writing fails
     */
    public void flush() throws IOException {
        requireOpen();
        drain();
    }

    /**
     * Flushes the buffer and closes the target, which is closed even if flushing fails. Closing twice does
     * nothing.
     *
     * @throws IOException if flushing or closing fails
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try (target) {
            drain();
        }
    }

    private void putPacket(Mbuf packet, int captured) throws IOException {
        try {
            packet.apply(0, captured, chunk -> {
                long done = 0;
                long size = chunk.byteSize();
                while (done < size) {
                    if (!buffer.hasRemaining()) {
                        try {
                            drain();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }
                    int n = (int) Math.min(size - done, buffer.remaining());
                    MemorySegment.copy(chunk, done, bufferSegment, buffer.position(), n);
                    buffer.position(buffer.position() + n);
                    done += n;
                }
                return 0;
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private void putOption(int code, byte[] value) {
        buffer.putShort((short) code).putShort((short) value.length).put(value);
        for (int i = value.length; (i & 3) != 0; i++) {
            buffer.put((byte) 0);
        }
    }

    private static int option(int valueLength) {
        return 4 + ((valueLength + 3) & ~3);
    }

    private void room(int bytes) throws IOException {
        if (buffer.remaining() < bytes) {
            drain();
        }
    }

    private void drain() throws IOException {
        buffer.flip();
        try {
            while (buffer.hasRemaining()) {
                target.write(buffer);
            }
        } finally {
            buffer.compact();
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the capture writer is closed");
        }
    }

    private static int positiveSnapLength(int snapLength) {
        if (snapLength <= 0) {
            throw new IllegalArgumentException("the snapshot length must be positive, was " + snapLength);
        }
        return snapLength;
    }

    private static String checkedName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME) {
            throw new IllegalArgumentException("an interface name may have at most " + MAX_NAME + " bytes of UTF-8");
        }
        return name;
    }
}
