package org.jmbuf.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;

/**
 * Reads the packets of a pcap or pcapng file, zero copy: the file is mapped read-only, and each packet is
 * handed out as an {@link Mbuf} whose one segment is read-only external storage over the packet's bytes
 * in the mapping ({@link MbufPool#wrap}{@code (slice, false, onFree)}, the {@code MEXTADD} of a mapped
 * file).
 *
 * <pre>{@code
 * try (CaptureReader reader = CaptureReader.open(path)) {
 *     for (CapturedPacket next = reader.next(); next != null; next = reader.next()) {
 *         try (CapturedPacket p = next) {
 *             input(p.mbuf(), p.linkType());
 *         }
 *     }
 * }
 * }</pre>
 *
 * <h2>Formats</h2>
 * The format is told by the magic number: classic pcap with microsecond ({@code a1b2c3d4}) or nanosecond
 * ({@code a1b23c4d}) timestamps in either byte order, or pcapng ({@code 0a0d0d0a}) with any number of
 * sections, each in its own byte order. pcapng packets come from Enhanced Packet Blocks, Simple Packet
 * Blocks (which have no timestamp) and the obsolete Packet Blocks; Interface Description Blocks give each
 * interface its link type, snapshot length, {@code if_tsresol}, {@code if_tsoffset}, {@code if_fcslen}
 * and {@code if_name}; every other block is skipped whole. Any link type is read; {@link LinkType} knows
 * the common ones.
 *
 * <h2>What is shared, what is copied</h2>
 * Packet bytes are never copied and never written: a packet's chain shares them read-only with the
 * mapping, so the first write through {@link Mbuf#ptrRw} or {@link Mbuf#makeWritable} copies the bytes
 * it changes (copy on write) and a stray write through a read-only view throws. Metadata (timestamps,
 * lengths, interface names) are copied into plain values. The file must not be truncated or rewritten
 * by anyone while it is mapped: the mapping would change under the packets, or fault.
 *
 * <h2>Closing, and the packets still alive</h2>
 * The mapping is reference counted: the reader holds one reference and every packet handed out holds one
 * (copies made with {@link Mbuf#copy} share it). {@link #close()} drops the reader's reference and never
 * fails; the file is unmapped when the last reference is dropped, so a packet may outlive its reader
 * and stay valid until it is freed. {@link #outstandingPackets()} counts the packets not yet freed;
 * {@link #isMapped()} says whether the mapping is still there. A packet that is never freed keeps the
 * mapping forever, which strict-mode leak checks report as external storage in use.
 *
 * <h2>Damaged files</h2>
 * {@link #open} checks the file header (pcap) or first section header (pcapng); {@link #next()} checks
 * each record or block before it makes a chain. A truncated or malformed file yields every complete
 * packet before the damage, then {@link #next()} throws {@link CaptureFormatException} naming the file,
 * the offset and what was expected; a truncated last record is such damage, not a silent end (unlike a
 * capture that simply ends at a record boundary). The reader then stays failed: every later call to
 * {@link #next()} throws the same exception. The packets already handed out stay valid. A record whose
 * captured length exceeds its snapshot length or original length, or whose microseconds exceed a
 * second, is not an error: it is read as it is, since its bytes are in the file.
 *
 * <h2>Threads</h2>
 * A reader belongs to one thread at a time. Its packets may be freed on any thread; the last free (or
 * {@link #close()}) unmaps the file on the thread that makes it.
 */
public final class CaptureReader implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(CaptureReader.class.getName());

    private final Path path;
    private final MbufPool pool;
    private final Arena arena;
    private final CaptureBytes input;
    private final RecordParser parser;
    private final AtomicInteger references = new AtomicInteger(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Runnable release = this::release;
    private CaptureFormatException failure;
    private long packetsRead;

    private CaptureReader(Path path, MbufPool pool, Arena arena, CaptureBytes input, RecordParser parser) {
        this.path = path;
        this.pool = pool;
        this.arena = arena;
        this.input = input;
        this.parser = parser;
    }

    /**
     * Opens {@code path} with packets from {@link MbufPool#shared()}; see {@link #open(Path, MbufPool)}.
     *
     * @throws IOException            if the file cannot be opened or mapped
     * @throws CaptureFormatException if the file is empty, its magic number is unknown, or its file header
     *                                (pcap) or first section header block (pcapng) is truncated or malformed
     */
    public static CaptureReader open(Path path) throws IOException {
        return open(path, MbufPool.shared());
    }

    /**
     * Maps the regular file {@code path} read-only, tells its format by its magic number and checks its
     * header. Nothing is copied. An empty file (0 bytes) is malformed: it has no magic number.
     *
     * @param pool where the packets' chain handles come from (their bytes stay in the mapping)
     * @throws IOException            if the file cannot be opened or mapped (it is not a regular file, say)
     * @throws CaptureFormatException if the file is empty, its magic number is unknown, or its file header
     *                                (pcap) or first section header block (pcapng) is truncated or malformed;
     *                                the file is unmapped before it is thrown
     */
    public static CaptureReader open(Path path, MbufPool pool) throws IOException {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(pool, "pool");
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            MemorySegment bytes = size == 0 ? MemorySegment.ofArray(new byte[0]).asReadOnly()
                    : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            CaptureBytes input = new CaptureBytes(path, bytes);
            return new CaptureReader(path, pool, arena, input, parserFor(input));
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private static RecordParser parserFor(CaptureBytes input) {
        if (input.size < 4) {
            throw input.error(0, (input.size == 0 ? "the file is empty" : "the file has only " + input.size
                    + " bytes") + ": expected the 4-byte magic number of a pcap or pcapng file");
        }
        int magic = input.bits32(0, ByteOrder.BIG_ENDIAN);
        return switch (magic) {
            case 0xA1B2C3D4 -> new PcapParser(input, ByteOrder.BIG_ENDIAN, false);
            case 0xD4C3B2A1 -> new PcapParser(input, ByteOrder.LITTLE_ENDIAN, false);
            case 0xA1B23C4D -> new PcapParser(input, ByteOrder.BIG_ENDIAN, true);
            case 0x4D3CB2A1 -> new PcapParser(input, ByteOrder.LITTLE_ENDIAN, true);
            case PcapngParser.SECTION_HEADER -> new PcapngParser(input);
            default -> throw input.error(0, String.format("unknown magic number 0x%08x: expected a pcap file "
                    + "(a1b2c3d4 or a1b23c4d, in either byte order) or a pcapng file (0a0d0d0a)", magic));
        };
    }

    /**
     * The next packet, or null at the end of the file. The packet's chain is new and the caller's to free
     * (with {@link CapturedPacket#close()} or {@link Mbuf#free()}); its bytes are shared read-only with
     * the mapping, never copied. If the pool refuses a chain, nothing is consumed: the same packet is read
     * by the next call.
     *
     * @throws CaptureFormatException if the record or block at the current position is truncated or
     *                                malformed; every later call throws it again
     * @throws IllegalStateException  if the reader is closed
     * @throws org.jmbuf.buf.NoBufferSpaceException if the pool has no segment for the chain handle
     */
    public CapturedPacket next() {
        if (closed.get()) {
            throw new IllegalStateException(path + ": the capture reader is closed");
        }
        if (failure != null) {
            throw failure;
        }
        PacketRecord record;
        try {
            record = parser.peek();
        } catch (CaptureFormatException e) {
            failure = e;
            throw e;
        }
        if (record == null) {
            return null;
        }
        references.incrementAndGet();
        Mbuf mbuf;
        try {
            mbuf = pool.wrap(input.slice(record.dataOffset(), record.capturedLength()), false, release);
        } catch (RuntimeException e) {
            references.decrementAndGet(); // the reader's own reference keeps it above zero
            throw e;
        }
        parser.advance(record);
        packetsRead++;
        return new CapturedPacket(mbuf, record.timestamp(), record.capturedLength(), record.originalLength(),
                record.captureInterface(), record.offset());
    }

    /** The file being read, as it was given to {@link #open}. */
    public Path path() {
        return path;
    }

    /** The size of the file in bytes, as mapped. */
    public long size() {
        return input.size;
    }

    /** The file's format. */
    public CaptureFormat format() {
        return parser.format();
    }

    /** The byte order of the file (pcap) or of the section being read (pcapng). */
    public ByteOrder byteOrder() {
        return parser.byteOrder();
    }

    /**
     * The interfaces of the file (pcap: exactly one) or of the pcapng section being read, as described
     * so far (an Interface Description Block is read when {@link #next()} reaches it). An immutable copy.
     */
    public List<CaptureInterface> interfaces() {
        return parser.interfaces();
    }

    /** The byte offset of the next record or block {@link #next()} will read. */
    public long position() {
        return parser.position();
    }

    /** How many packets {@link #next()} has handed out. */
    public long packetsRead() {
        return packetsRead;
    }

    /** How many packets handed out still hold the mapping (not yet freed, or shared by a live copy). */
    public int outstandingPackets() {
        int count = references.get();
        return closed.get() ? count : count - 1;
    }

    /** Whether the file is still mapped: until {@link #close()} and the last packet's free. */
    public boolean isMapped() {
        return arena.scope().isAlive();
    }

    /**
     * Stops reading and drops the reader's reference to the mapping. Never fails: if packets are still
     * alive the mapping stays until the last of them is freed, then it is unmapped (on the freeing
     * thread). Closing twice does nothing.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            release();
        }
    }

    /** Drops one reference to the mapping: the reader's ({@link #close()}) or a packet's (its onFree). */
    private void release() {
        if (references.decrementAndGet() == 0) {
            try {
                arena.close();
            } catch (RuntimeException e) {
                // Runs inside a pool's free: an exception here must not leave the pool half-updated.
                LOG.log(System.Logger.Level.WARNING, "could not unmap " + path, e);
            }
        }
    }

    /** The file, the format and how far reading has come, for logs. */
    @Override
    public String toString() {
        return "CaptureReader[" + path + ", " + parser.format() + ", position " + parser.position() + " of "
                + input.size + ", " + packetsRead + " packets read, " + outstandingPackets() + " outstanding"
                + (closed.get() ? ", closed" : "") + "]";
    }
}
