package org.jmbuf.buf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ReadOnlyBufferException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A chain of buffers holding one packet or one piece of data: the handle for a BSD mbuf chain.
 *
 * <h2>The handle</h2>
 * In C a caller holds a pointer to the first mbuf, and {@code m_pullup} or {@code M_PREPEND} may
 * return a different first mbuf, or free the chain and return NULL. An {@code Mbuf} is a handle for the
 * whole chain that never changes identity: operations change the chain behind it. A failed operation
 * throws and leaves the chain exactly as it was (operations allocate everything first, then change the
 * chain), where C would have freed it. After {@link #free()} (or after {@link #cat(Mbuf)} consumed the
 * handle) every method throws {@link IllegalStateException}, except {@link #close()}, which does
 * nothing, and {@link #isAlive()}, {@link #pool()}, {@link #toString()} and {@link #dump()}; in a pool
 * that {@linkplain MbufPool.Builder#recycleHandles recycles handles} that holds only until a later
 * allocation reuses the freed handle for a new chain. A handle is not safe for concurrent use; hand it
 * from thread to thread instead.
 *
 * <h2>Layout</h2>
 * <pre>
 *   packet offset 0                                                     length()
 *   |                                                                       |
 *   [lead| seg 0 data |trail] -> [lead| seg 1 data |trail] -> ... -> [ seg n-1 data |trail]
 *         \_____ guaranteed contiguous region _____/
 *                (never: a region always lies inside one segment)
 * </pre>
 * Each segment holds {@code [offset, offset + length)} of its storage: an inline area of
 * {@link MbufPool#MLEN} bytes, a {@link MbufPool#MCLBYTES} cluster, external storage or a large
 * buffer. {@link #length()} is always the sum of the segment lengths. No segment is empty, except the
 * single segment of an empty chain.
 *
 * <h2>Sharing and read-only storage</h2>
 * {@link #copy}, {@link #copyPacket()} and {@link #split} share clusters and external storage instead of
 * copying them; inline storage is always copied. Storage is <em>read-only</em> ({@code M_READONLY})
 * when it is external storage not marked writable, or when it is shared by more than one segment;
 * inline storage never is. Read-only bytes are only ever exposed through read-only
 * {@link MemorySegment}s, so a stray write throws {@link IllegalArgumentException} ("Attempt to write a read-only
 * segment") instead of
 * changing another packet. To write, make the range writable first: {@link #ptrRw}, {@link #pulldown},
 * {@link #makeWritable} and {@link #copyBackCow} copy read-only bytes into fresh storage (copy on
 * write) and never write the original.
 *
 * <h2>The new API and guaranteed contiguous regions</h2>
 * {@link #ptr(int, int)} ({@code mptr}, {@code m_datarange}) and {@link #ptrRw(int, int)}
 * ({@code mptr_rw}, {@code m_datarange_rw}) return a view of a range, making it contiguous first if it
 * is not (and only then copying), and mark the range as a guaranteed contiguous region. Every later
 * operation that rearranges the chain ({@link #pullup}, {@link #copyup}, {@link #pulldown},
 * {@link #makeWritable}, {@link #copyBackCow}, {@link #split}, {@link #cat}, {@link #prepend},
 * {@link #adj}) keeps each region contiguous, moving it whole when it must move. Regions are packet
 * offsets: {@link #prepend} and {@link #adj} shift them with the data. See docs/mbuf-api.md.
 *
 * <h2>Views</h2>
 * A view returned by {@link #ptr}, {@link #ptrRw}, {@link #pulldown} or {@link #contiguousAt} aliases the
 * chain's storage: writes through a writable view change the packet. A view is valid until an operation
 * moves, trims, splits off or frees the bytes it covers; a writable view also ends when its storage
 * becomes shared ({@link #copy}, {@link #copyPacket}, {@link #split}), because shared storage is
 * read-only. In strict mode ({@code -Djmbuf.strict=true}) such a stale
 * view throws {@link IllegalStateException} on use; without strict mode it silently shows whatever the
 * storage holds, as a stale C pointer would. (Views of heap-backed external storage cannot be revoked.)
 *
 * <h2>Errors</h2>
 * A range outside the chain throws {@link IndexOutOfBoundsException}; an exhausted pool throws
 * {@link NoBufferSpaceException}; a write into read-only storage by a method that does not copy on write
 * ({@link #copyBack}) throws {@link ReadOnlyBufferException}. In each case the chain is unchanged.
 */
public final class Mbuf implements AutoCloseable {
    /** A range of packet offsets, {@code [offset, offset + length)}. */
    public record Range(int offset, int length) {
        /** The offset just after the range. */
        public int end() {
            return offset + length;
        }
    }

    /** The function {@link #apply} calls for each contiguous piece of a range ({@code m_apply}). */
    @FunctionalInterface
    public interface ChunkFunction {
        /**
         * Looks at one piece, a read-only view valid only during the call. Returns 0 to go on to the next
         * piece, or anything else to stop and have {@link #apply} return that value.
         */
        int apply(MemorySegment chunk);
    }

    private static final MemorySegment EMPTY = MemorySegment.ofArray(new byte[0]).asReadOnly();
    private static final MemorySegment EMPTY_WRITABLE = MemorySegment.ofArray(new byte[0]);

    private final MbufPool pool;
    private Segment head;
    private Segment tail;
    private int length;
    private boolean dead;
    /** The guaranteed contiguous regions: {@link Regions#NONE} until the first one, see {@link #ownRegions()}. */
    private Regions regions = Regions.NONE;
    // The packet header (M_PKTHDR); meaningful only when packet is true.
    private boolean packet;
    private int receivingInterface;
    private int checksumFlags;
    private int checksumData;
    private int segmentSize;
    private int packetFlags;
    private List<PacketTag> tags;
    private MbufOwner owner;
    /**
     * The first step of every copy-on-write plan of this handle, reused: a plan lives only inside one
     * operation, and one touching a single segment (the usual case) then allocates no plan object.
     */
    private CowStep spareStep;
    /**
     * The header shortcut: the chain's first guaranteed region {@code [headRegionStart, headRegionEnd)} when
     * it lies in the head segment and the last {@link #ptr} found its range in it, with the head's read-only
     * bytes and data offset. A {@code ptr} inside it (a header read again, the usual case) then reads these
     * four fields of the handle and no segment or region set. Empty ({@code headRegionEnd == 0}) until such a
     * {@code ptr}, and emptied by {@link #willChange()} at the start of every operation that may change the
     * chain; {@link #verify()} checks that a shortcut that is not empty still describes the chain.
     */
    private int headRegionStart;
    private int headRegionEnd;
    private int headRegionBase;
    private MemorySegment headRegionBytes;
    // locate() results
    private Segment found;
    private Segment foundPrevious;
    private int foundStart;

    Mbuf(MbufPool pool, Segment chain, boolean packet) {
        this.pool = pool;
        start(chain, packet);
    }

    /**
     * Makes this freed handle the handle of a new chain ({@link MbufPool.Builder#recycleHandles}): every
     * field as a new handle's.
     */
    void reuse(Segment chain, boolean packet) {
        assert dead && regions.isEmpty();
        dead = false;
        receivingInterface = 0;
        checksumFlags = 0;
        checksumData = 0;
        segmentSize = 0;
        packetFlags = 0;
        owner = null;
        start(chain, packet);
    }

    /**
     * A freed handle that its pool keeps for reuse keeps the region set of its last chain too, {@code cleared},
     * so that its next chain's first region needs no look-up in the pool.
     */
    void keepRegions(Regions cleared) {
        assert dead && cleared.isEmpty();
        regions = cleared;
    }

    private void start(Segment chain, boolean packet) {
        this.head = chain;
        this.packet = packet;
        int total = 0;
        Segment s = chain;
        while (true) {
            total += s.length;
            if (s.next == null) {
                break;
            }
            s = s.next;
        }
        this.tail = s;
        this.length = total;
        check();
    }

    // ================================================================ size and shape

    /** The number of bytes in the chain ({@code m_pkthdr.len}, or {@code m_length}). */
    public int length() {
        alive();
        return length;
    }

    /** Whether the chain carries a packet header ({@code M_PKTHDR}). */
    public boolean isPacket() {
        alive();
        return packet;
    }

    /** The number of segments (mbufs) in the chain. */
    public int segmentCount() {
        alive();
        int n = 0;
        for (Segment s = head; s != null; s = s.next) {
            n++;
        }
        return n;
    }

    /** The pool this chain allocates from. */
    public MbufPool pool() {
        return pool;
    }

    /** {@code M_LEADINGSPACE} of the first segment: bytes {@link #prepend} can use without allocating. */
    public int leadingSpace() {
        alive();
        return head.leadingSpace();
    }

    /** {@code M_TRAILINGSPACE} of the last segment: bytes the chain can grow by without allocating. */
    public int trailingSpace() {
        alive();
        return tail.trailingSpace();
    }

    /**
     * {@code M_READONLY} over a range: true if any byte of {@code [off, off + len)} lies in read-only
     * storage, so writing it needs a copy first.
     *
     * @throws IndexOutOfBoundsException if the range is not inside the chain
     */
    public boolean isReadOnly(int off, int len) {
        alive();
        Objects.checkFromIndexSize(off, len, length);
        if (len == 0) {
            return false;
        }
        int start = 0;
        for (Segment s = head; s != null && start < off + len; start += s.length, s = s.next) {
            if (start + s.length > off && s.isReadOnly()) {
                return true;
            }
        }
        return false;
    }

    /** True if {@code [off, off + len)} lies in one segment now, so {@link #ptr} would not copy. */
    public boolean isContiguous(int off, int len) {
        alive();
        Objects.checkFromIndexSize(off, len, length);
        if (len == 0) {
            return true;
        }
        locate(off);
        return off + len <= foundStart + found.length;
    }

    /** The guaranteed contiguous regions, in order. */
    public List<Range> guaranteedRegions() {
        alive();
        List<Range> out = new ArrayList<>(regions.count());
        for (int i = 0; i < regions.count(); i++) {
            out.add(new Range(regions.start(i), regions.end(i) - regions.start(i)));
        }
        return out;
    }

    /**
     * {@code M_ALIGN} / {@code MH_ALIGN}: on an empty chain, places the data start so that {@code len}
     * bytes end at the end of the segment's storage (rounded down to 8 bytes), leaving the rest as leading
     * space for headers to be prepended.
     *
     * @throws IllegalStateException     if the chain is not empty
     * @throws IndexOutOfBoundsException if {@code len} is negative or more than the storage holds
     * @throws ReadOnlyBufferException   if the chain's storage is read-only (an emptied external segment)
     */
    public void align(int len) {
        willChange();
        if (length != 0) {
            throw new IllegalStateException("align needs an empty chain; this one has " + length + " bytes");
        }
        Objects.checkIndex(len, head.storage().capacity() + 1);
        if (head.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        head.offset = (head.storage().capacity() - len) & ~7;
        check();
    }

    // ================================================================ reading

    /**
     * {@code m_copydata}: copies {@code [off, off + len)} into {@code dst} at {@code dstOff}.
     *
     * @throws IndexOutOfBoundsException if the range is not inside the chain or does not fit in dst
     */
    public void copyData(int off, int len, byte[] dst, int dstOff) {
        alive();
        Objects.checkFromIndexSize(off, len, length);
        Objects.checkFromIndexSize(dstOff, len, dst.length);
        int start = 0;
        for (Segment s = head; s != null && len > 0; start += s.length, s = s.next) {
            if (start + s.length <= off) {
                continue;
            }
            int from = off - start;
            int n = Math.min(s.length - from, len);
            // Straight into the array: no heap segment wrapping it (which escape analysis may not remove)
            MemorySegment.copy(s.storage().memory(), ValueLayout.JAVA_BYTE, s.offset + from, dst, dstOff, n);
            off += n;
            dstOff += n;
            len -= n;
        }
    }

    /**
     * {@code m_copydata} into a memory segment: copies {@code [off, off + len)} to {@code dst} at
     * {@code dstOff}.
     *
     * @throws IndexOutOfBoundsException if the range is not inside the chain or does not fit in dst
     */
    public void copyData(int off, int len, MemorySegment dst, long dstOff) {
        alive();
        Objects.checkFromIndexSize(off, len, length);
        Objects.checkFromIndexSize(dstOff, len, dst.byteSize());
        copyOut(off, len, dst, dstOff);
    }

    /** A copy of every byte of the chain. */
    public byte[] toByteArray() {
        alive();
        byte[] out = new byte[length];
        copyOut(0, length, MemorySegment.ofArray(out), 0);
        return out;
    }

    /** The byte at {@code off}, read wherever it lies. */
    public byte byteAt(int off) {
        alive();
        Objects.checkIndex(off, length);
        locate(off);
        return found.storage().memory().get(ValueLayout.JAVA_BYTE, found.offset + off - foundStart);
    }

    /**
     * {@code m_apply}: calls {@code function} on each contiguous piece of {@code [off, off + len)} in
     * order, as read-only views, and stops early when it returns non-zero. Copies nothing.
     *
     * @return 0, or the first non-zero value {@code function} returned
     * @throws IndexOutOfBoundsException if the range is not inside the chain
     */
    public int apply(int off, int len, ChunkFunction function) {
        alive();
        Objects.checkFromIndexSize(off, len, length);
        Arena scope = Strict.ENABLED ? Arena.ofConfined() : null;
        try {
            int start = 0;
            for (Segment s = head; s != null && len > 0; start += s.length, s = s.next) {
                if (start + s.length <= off) {
                    continue;
                }
                int from = off - start;
                int n = Math.min(s.length - from, len);
                MemorySegment chunk = s.rawReadOnly(from, n);
                if (scope != null && chunk.isNative()) {
                    chunk = chunk.reinterpret(scope, null).asReadOnly();
                }
                int result = function.apply(chunk);
                if (result != 0) {
                    return result;
                }
                off += n;
                len -= n;
            }
            return 0;
        } finally {
            if (scope != null) {
                scope.close();
            }
        }
    }

    /**
     * {@code m_getptr}: a read-only view from {@code off} to the end of the segment holding it, so a
     * caller can walk the chain piece by piece. Empty if {@code off == length()}. Creates no region.
     *
     * @throws IndexOutOfBoundsException if {@code off} is negative or past the end
     */
    public MemorySegment contiguousAt(int off) {
        alive();
        Objects.checkIndex(off, length + 1);
        if (off == length) {
            return EMPTY;
        }
        locate(off);
        return found.view(off - foundStart, found.length - (off - foundStart), false);
    }

    // ================================================================ the new API

    /**
     * {@code mptr} / {@code m_datarange}: a read-only view of {@code [off, off + len)}, contiguous.
     *
     * <p>Copies only if the range is not already contiguous, never because the storage is read-only or
     * shared. The range becomes a guaranteed contiguous region. To make it contiguous the range may be
     * extended to whole regions it overlaps, which then move together into one new segment (views of
     * moved bytes go stale).
     *
     * @throws IndexOutOfBoundsException if the range is not inside the chain
     * @throws NoBufferSpaceException    if making it contiguous needs storage the pool refuses
     */
    public MemorySegment ptr(int off, int len) {
        // The usual case, a header read again: inside the header shortcut (headRegionStart >= 0, so
        // headRegionEnd - off cannot overflow). Strict mode takes the view from the head segment, which
        // makes it revocable, and verifies that the shortcut still describes the chain.
        if (off >= headRegionStart && len > 0 && len <= headRegionEnd - off) {
            if (!Strict.ENABLED) {
                return headRegionBytes.asSlice(headRegionBase + off, len);
            }
            MemorySegment view = head.view(off, len, false);
            check();
            return view;
        }
        Segment holder = head; // null when dead: contiguousHolder() throws then
        int from = off;
        // Next most usual, a range already in a region of the first segment: nothing to change.
        if (holder == null || off < 0 || len <= 0 || len > holder.length - off || !regions.covers(off, off + len)) {
            holder = contiguousHolder(off, len, false, true);
            if (holder == null) {
                return EMPTY;
            }
            from = off - foundStart;
        }
        if (holder == head && regions.firstCovers(off, off + len)) {
            headRegionStart = regions.firstStart();
            headRegionEnd = regions.firstEnd();
            headRegionBase = holder.offset;
            headRegionBytes = holder.storage().readOnlyMemory();
        }
        // One place makes the view, so that a caller that keeps it in a local lets escape analysis remove it.
        MemorySegment view = holder.view(from, len, false);
        check();
        return view;
    }

    /**
     * {@code mptr_rw} / {@code m_datarange_rw}: a writable view of {@code [off, off + len)}, contiguous.
     *
     * <p>As {@link #ptr}, and read-only bytes in the range (with the whole of any region they belong
     * to) are first copied into fresh writable storage; the original storage is never written, and
     * other chains sharing it keep their bytes.
     *
     * @throws IndexOutOfBoundsException if the range is not inside the chain
     * @throws NoBufferSpaceException    if a copy needs storage the pool refuses
     */
    public MemorySegment ptrRw(int off, int len) {
        return viewAfter(contiguousHolder(off, len, true, true), off, len, true);
    }

    /**
     * {@code m_pulldown}: a writable view of {@code [off, off + len)}, contiguous, for code written
     * against KAME's contract. Unlike {@link #ptrRw} it does not create a guaranteed region.
     *
     * <p>It uses KAME's fast paths (append into the trailing space of the segment holding {@code off},
     * or prepend into the leading space of the next one) before copying into a new segment, and copies
     * read-only bytes even when they are already contiguous, because the view is writable.
     *
     * <p>Where it differs from KAME: if a guaranteed region straddles {@code off} (the case of the seed
     * mail: a region {@code [0, 20)} and {@code pulldown(10, 30)}), KAME could not both keep the bytes
     * before {@code off} untouched and keep the region contiguous. jmbuf keeps the region: the copy
     * starts at the region's start and moves it whole. Bytes before {@code off} keep their packet offsets
     * and values, but views of the moved region go stale (strict mode throws on their use); take a
     * fresh view with {@link #ptr} after a pulldown. Code that needs regions should use the new API.
     *
     * @throws IndexOutOfBoundsException if the range is not inside the chain
     * @throws NoBufferSpaceException    if the pool refuses the storage a copy needs
     */
    public MemorySegment pulldown(int off, int len) {
        return viewAfter(contiguousHolder(off, len, true, false), off, len, true);
    }

    /**
     * {@code m_pullup}: makes the first {@code len} bytes contiguous in the first segment. Does nothing
     * (and copies nothing) if the first segment already holds them, whatever its storage; it does not
     * make them writable (use {@link #ptrRw} or {@link #makeWritable}). The range may be extended to the
     * end of a region it overlaps. Unlike C, which refuses more than {@code MHLEN}, any length can be
     * pulled up: beyond {@link MbufPool#MLEN} into a cluster, beyond a cluster into a large buffer.
     *
     * @throws IndexOutOfBoundsException if {@code len} is negative or longer than the chain
     * @throws NoBufferSpaceException    if the pool refuses the new segment
     */
    public void pullup(int len) {
        willChange();
        Objects.checkFromIndexSize(0, len, length);
        if (len <= head.length) {
            return;
        }
        contiguousHolder(0, len, false, false);
        check();
    }

    /**
     * {@code m_copyup}: copies the first {@code len} bytes into a new first segment of inline storage,
     * with {@code dstOff} bytes of leading space for headers to be prepended later. Always copies. The
     * range may be extended to the end of a region it overlaps.
     *
     * @throws IndexOutOfBoundsException if {@code len} is out of the chain or {@code dstOff} is negative
     * @throws NoBufferSpaceException    if {@code dstOff} plus the (extended) length exceeds
     *                                   {@link MbufPool#MLEN}, or the pool refuses the segment
     */
    public void copyup(int len, int dstOff) {
        willChange();
        Objects.checkFromIndexSize(0, len, length);
        if (dstOff < 0) {
            throw new IndexOutOfBoundsException("dstOff " + dstOff + " is negative");
        }
        int end = len == 0 ? 0 : regions.closureEnd(0, len);
        if (dstOff + end > MbufPool.MLEN) {
            throw new NoBufferSpaceException("copyup: " + end + " bytes after " + dstOff
                    + " bytes of leading space do not fit in a segment (MLEN " + MbufPool.MLEN + ")");
        }
        Segment t = pool.allocSegment(head.type, head.owner);
        t.offset = dstOff;
        replaceRange(0, end, t);
        dropEmptySegments();
        check();
    }

    /**
     * {@code m_makewritable}: copies the read-only bytes of {@code [off, off + len)} into fresh writable
     * storage (copy on write), so that every byte of the range can be written. Bytes already writable
     * are not copied; read-only bytes that belong to a guaranteed region are copied together with the
     * whole region so it stays contiguous. The original storage is never written.
     *
     * @throws IndexOutOfBoundsException if the range is not inside the chain
     * @throws NoBufferSpaceException    if the pool refuses the storage for the copies
     */
    public void makeWritable(int off, int len) {
        willChange();
        Objects.checkFromIndexSize(off, len, length);
        commitCopyOnWrite(planCopyOnWrite(off, len, false));
        check();
    }

    // ================================================================ writing

    /**
     * {@code m_copyback}: writes {@code src} at {@code off}, extending the chain if the bytes go past its
     * end; a gap between the old end and {@code off} is filled with zeros. Does not copy on write.
     *
     * @throws IndexOutOfBoundsException if {@code off} is negative or the result would be too long
     * @throws ReadOnlyBufferException   if a byte to overwrite is in read-only storage (nothing is written;
     *                                   use {@link #copyBackCow})
     * @throws NoBufferSpaceException    if extending needs storage the pool refuses
     */
    public void copyBack(int off, byte[] src) {
        copyBack(off, MemorySegment.ofArray(src), false);
    }

    /** {@code m_copyback} from a memory segment; see {@link #copyBack(int, byte[])}. */
    public void copyBack(int off, MemorySegment src) {
        copyBack(off, src, false);
    }

    /**
     * {@code m_copyback_cow}: writes {@code src} at {@code off}, copying read-only bytes it overwrites
     * into fresh storage first (the original storage is never written), and extending the chain if the
     * bytes go past its end (zero-filling a gap), as the seed's version does. Regions are respected as
     * by {@link #makeWritable}.
     *
     * @throws IndexOutOfBoundsException if {@code off} is negative or the result would be too long
     * @throws NoBufferSpaceException    if the pool refuses storage; the chain is unchanged
     */
    public void copyBackCow(int off, byte[] src) {
        copyBack(off, MemorySegment.ofArray(src), true);
    }

    /** {@code m_copyback_cow} from a memory segment; see {@link #copyBackCow(int, byte[])}. */
    public void copyBackCow(int off, MemorySegment src) {
        copyBack(off, src, true);
    }

    private void copyBack(int off, MemorySegment src, boolean copyOnWrite) {
        willChange();
        if (off < 0) {
            throw new IndexOutOfBoundsException("offset " + off + " is negative");
        }
        long end = off + src.byteSize();
        if (end > Integer.MAX_VALUE) {
            throw new IndexOutOfBoundsException("writing " + src.byteSize() + " bytes at " + off
                    + " would make the chain longer than " + Integer.MAX_VALUE);
        }
        int overwrite = (int) Math.min(end, length) - Math.min(off, length);
        CowStep cow = null;
        if (overwrite > 0) {
            if (copyOnWrite) {
                cow = planCopyOnWrite(off, overwrite, false);
            } else if (isReadOnly(off, overwrite)) {
                throw new ReadOnlyBufferException();
            }
        }
        Extension extension;
        try {
            extension = planExtension((int) end - length);
        } catch (NoBufferSpaceException e) {
            releasePlan(cow);
            throw e;
        }
        commitCopyOnWrite(cow);
        commitExtension(extension);
        copyIn(off, src);
        check();
    }

    // ================================================================ rearranging

    /**
     * {@code M_PREPEND}: adds {@code len} bytes, zero-filled, before the data. Uses the first segment's
     * leading space when it has enough (and is writable), else allocates a new first segment with the
     * bytes at its end, leaving leading space for the next prepend. Guaranteed regions shift by
     * {@code len}. The new bytes are contiguous and writable.
     *
     * @throws IllegalArgumentException if {@code len} is negative
     * @throws NoBufferSpaceException    if the pool refuses the new segment
     */
    public void prepend(int len) {
        willChange();
        if (len < 0) {
            throw new IllegalArgumentException("cannot prepend " + len + " bytes");
        }
        if (head.leadingSpace() >= len) {
            head.offset -= len;
            head.length += len;
            head.raw(0, len).fill((byte) 0);
        } else {
            Segment t = pool.allocContiguous(len, head.type, head.owner);
            t.offset = (t.storage().capacity() - len) & ~7;
            t.length = len;
            t.raw(0, len).fill((byte) 0);
            t.next = head;
            head = t;
            dropEmptySegments();
        }
        length += len;
        regions.shift(len);
        check();
    }

    /**
     * {@code m_adj}: trims {@code n} bytes from the head if {@code n > 0}, or {@code -n} bytes from the tail
     * if {@code n < 0}. Regions move with the data, are clipped, or vanish with their bytes. Copies and
     * allocates nothing.
     *
     * @throws IndexOutOfBoundsException if more bytes would be trimmed than the chain has (C trims all)
     */
    public void adj(int n) {
        willChange();
        if (n == Integer.MIN_VALUE || Math.abs(n) > length) {
            throw new IndexOutOfBoundsException("cannot trim " + Math.abs((long) n) + " bytes from a chain of "
                    + length);
        }
        if (n > 0) {
            int remaining = n;
            while (remaining > 0) {
                if (head.length <= remaining && head.next != null) {
                    remaining -= head.length;
                    Segment next = head.next;
                    pool.free(head);
                    head = next;
                } else {
                    head.dropFront(remaining);
                    remaining = 0;
                }
            }
            length -= n;
            regions.trimFront(n);
        } else if (n < 0) {
            truncate(length + n);
            regions.truncate(length);
        }
        check();
    }

    /**
     * {@code m_split}: cuts the chain after {@code len} bytes and returns the tail as a new chain, which
     * is a packet (with this packet's receiving interface) if this is one. Storage that can be shared is
     * shared; only the inline bytes after the cut in the segment that holds it are copied. Regions go
     * with their bytes; one that straddles the cut is cut in two (views of it go stale).
     *
     * @throws IndexOutOfBoundsException if {@code len} is negative or longer than the chain
     * @throws NoBufferSpaceException    if the pool refuses a segment; the chain is unchanged
     */
    public Mbuf split(int len) {
        willChange();
        Objects.checkIndex(len, length + 1);
        Segment tailChain;
        if (len == 0 || len == length) {
            Segment empty = pool.allocSegment(head.type, head.owner);
            if (len == 0) {
                tailChain = head;
                head = empty;
                tail = empty;
            } else {
                tailChain = empty;
            }
        } else {
            locate(len);
            Segment s = found;
            int cut = len - foundStart;
            if (cut == 0) {
                foundPrevious.next = null;
                tail = foundPrevious;
                tailChain = s;
            } else {
                Segment n;
                int remain = s.length - cut;
                if (s.storage().isShareable()) {
                    n = pool.allocSharing(s);
                    n.offset += cut;
                    n.length = remain;
                    s.revokeWritableViews();
                    s.moveViewsTo(n, n.offset, n.end());
                } else {
                    n = pool.allocSegment(s.type, s.owner);
                    MemorySegment.copy(s.storage().memory(), s.offset + cut, n.storage().memory(), 0, remain);
                    n.length = remain;
                    pool.countCopy(remain);
                }
                n.next = s.next;
                s.next = null;
                s.dropBack(remain);
                tail = s;
                tailChain = n;
            }
        }
        int tailLength = length - len;
        length = len;
        Mbuf out = pool.handle(tailChain, packet);
        out.regions = regions.splitOff(len);
        if (packet) {
            out.receivingInterface = receivingInterface;
        }
        out.owner = owner;
        assert out.length == tailLength;
        check();
        out.check();
        return out;
    }

    /**
     * {@code m_cat}: appends {@code tail}'s bytes and consumes {@code tail} (its handle is dead afterwards
     * and its packet header and tags are dropped). Segments small enough to fit in this chain's writable
     * trailing space are copied into it and freed, as in C; the rest are linked as they are. Regions of
     * {@code tail} come along, shifted.
     *
     * @throws IllegalArgumentException if {@code tail} is this handle
     * @throws IllegalStateException    if {@code tail} is dead
     */
    public void cat(Mbuf tail) {
        willChange();
        tail.alive();
        if (tail == this) {
            throw new IllegalArgumentException("cannot append a chain to itself");
        }
        if (!tail.regions.isEmpty()) {
            ownRegions().appendShifted(tail.regions, length);
        }
        Segment n = tail.head;
        while (n != null) {
            Segment last = this.tail;
            if (last.isReadOnly() || n.length > last.trailingSpace()) {
                last.next = n;
                break;
            }
            MemorySegment.copy(n.storage().memory(), n.offset, last.storage().memory(), last.end(), n.length);
            pool.countCopy(n.length);
            last.length += n.length;
            Segment next = n.next;
            pool.free(n);
            n = next;
        }
        length += tail.length;
        pool.recycle(tail.regions);
        tail.kill();
        recomputeTail();
        dropEmptySegments();
        check();
    }

    // ================================================================ copies

    /**
     * {@code m_copym}: a new chain holding {@code [off, off + len)}. Clusters and external storage are
     * shared (so both chains now see them read-only, and a write through either copies first); inline
     * bytes are copied. If {@code off} is 0 and this is a packet, the copy is a packet with a copy of the
     * header and tags ({@code M_COPY_PKTHDR}); otherwise it has no packet header. The copy has no
     * guaranteed regions.
     *
     * @throws IndexOutOfBoundsException if the range is not inside the chain
     * @throws NoBufferSpaceException    if the pool refuses a segment; nothing is left allocated
     */
    public Mbuf copy(int off, int len) {
        alive();
        Objects.checkFromIndexSize(off, len, length);
        Mbuf copy = pool.allocCopyOf(head, off, len);
        revokeWritableViewsOfSharedStorage(off, len);
        return withHeaderOf(copy, off == 0);
    }

    /** {@code m_copym(m, off, M_COPYALL)}: {@link #copy(int, int)} from {@code off} to the end. */
    public Mbuf copy(int off) {
        alive();
        Objects.checkIndex(off, length + 1);
        return copy(off, length - off);
    }

    /**
     * {@code m_copypacket}: {@link #copy(int, int) copy(0, length())} of a packet: the header and tags
     * are copied, clusters and external storage shared.
     *
     * @throws IllegalStateException  if this chain is not a packet
     * @throws NoBufferSpaceException if the pool refuses a segment
     */
    public Mbuf copyPacket() {
        requirePacket();
        return copy(0, length);
    }

    /**
     * {@code m_dup}: a deep copy of {@code [off, off + len)} into fresh writable storage (inline for short
     * data, clusters otherwise); shares nothing. The header and tags are copied as by {@link #copy}.
     *
     * @throws IndexOutOfBoundsException if the range is not inside the chain
     * @throws NoBufferSpaceException    if the pool refuses storage; nothing is left allocated
     */
    public Mbuf dup(int off, int len) {
        alive();
        Objects.checkFromIndexSize(off, len, length);
        Mbuf copy = pool.allocForCopy(len, head.type, head.owner);
        int at = off;
        for (Segment c = copy.head; c != null; c = c.next) {
            copyOut(at, c.length, c.storage().memory(), c.offset);
            at += c.length;
        }
        return withHeaderOf(copy, off == 0);
    }

    /**
     * Strict mode: the storage of the segments holding {@code [off, off + len)} was shared by a copy and is
     * read-only now, so writable views of it must not be used any more.
     */
    private void revokeWritableViewsOfSharedStorage(int off, int len) {
        if (Strict.ENABLED && len > 0) {
            int start = 0;
            for (Segment s = head; s != null && start < off + len; start += s.length, s = s.next) {
                if (start + s.length > off && s.storage().isShareable()) {
                    s.revokeWritableViews();
                }
            }
        }
    }

    private Mbuf withHeaderOf(Mbuf copy, boolean copyHeader) {
        if (copyHeader && packet) {
            copy.packet = true;
            copy.receivingInterface = receivingInterface;
            copy.checksumFlags = checksumFlags;
            copy.checksumData = checksumData;
            copy.segmentSize = segmentSize;
            copy.packetFlags = packetFlags;
            if (tags != null) {
                copy.tags = new ArrayList<>(tags.size());
                for (PacketTag t : tags) {
                    copy.tags.add(t.copyForPacket());
                }
            }
        }
        copy.owner = owner;
        return copy;
    }

    // ================================================================ lifetime and ownership

    /**
     * {@code m_freem}: returns every segment to its pool (dropping references to shared storage) and
     * kills the handle: any later use throws {@link IllegalStateException}.
     *
     * @throws IllegalStateException if the handle is already dead
     */
    public void free() {
        alive();
        Segment chain = head;
        Regions own = regions;
        kill();
        pool.freeChain(chain, own, this);
    }

    /** Frees the chain if it is still alive; does nothing if it was freed or consumed already. */
    @Override
    public void close() {
        if (!dead) {
            free();
        }
    }

    /** Whether this handle is still usable (not freed, not consumed by {@link #cat}). */
    public boolean isAlive() {
        return !dead;
    }

    /** {@code m_claimm}: charges every segment of the chain to {@code owner} (MBUFTRACE). */
    public void claim(MbufOwner owner) {
        alive();
        Objects.requireNonNull(owner, "owner");
        this.owner = owner;
        for (Segment s = head; s != null; s = s.next) {
            if (s.owner != owner) {
                pool.recharge(s, owner);
            }
        }
    }

    /** The owner the chain was last claimed by, or the pool's unknown owner for its first segment's type. */
    public MbufOwner owner() {
        alive();
        return owner != null ? owner : pool.unknownOwner(head.type);
    }

    /** The {@link MbufType} of the first segment. */
    public MbufType type() {
        alive();
        return head.type;
    }

    // ================================================================ the packet header

    /** {@code m_pkthdr.rcvif_index}: the index of the interface the packet arrived on, 0 if none. */
    public int receivingInterface() {
        requirePacket();
        return receivingInterface;
    }

    /** Sets {@link #receivingInterface()}. */
    public void setReceivingInterface(int index) {
        requirePacket();
        receivingInterface = index;
    }

    /** {@code m_pkthdr.csum_flags}: a combination of {@link ChecksumFlags} bits. */
    public int checksumFlags() {
        requirePacket();
        return checksumFlags;
    }

    /** Sets {@link #checksumFlags()}. */
    public void setChecksumFlags(int flags) {
        requirePacket();
        checksumFlags = flags;
    }

    /** {@code m_pkthdr.csum_data}: checksum data that goes with the flags (a partial sum, an offset). */
    public int checksumData() {
        requirePacket();
        return checksumData;
    }

    /** Sets {@link #checksumData()}. */
    public void setChecksumData(int data) {
        requirePacket();
        checksumData = data;
    }

    /** {@code m_pkthdr.segsz}: the segment size for TCP segmentation offload. */
    public int segmentSize() {
        requirePacket();
        return segmentSize;
    }

    /** Sets {@link #segmentSize()}. */
    public void setSegmentSize(int size) {
        requirePacket();
        segmentSize = size;
    }

    /** The packet's {@link PacketFlags} ({@code M_BCAST}, {@code M_MCAST} of {@code m_flags}). */
    public int packetFlags() {
        requirePacket();
        return packetFlags;
    }

    /** Sets {@link #packetFlags()}. */
    public void setPacketFlags(int flags) {
        requirePacket();
        packetFlags = flags;
    }

    /**
     * {@code m_tag_prepend}: attaches {@code tag}, replacing a tag of the same class if there is one.
     *
     * @throws IllegalStateException if this chain is not a packet
     */
    public void addTag(PacketTag tag) {
        requirePacket();
        Objects.requireNonNull(tag, "tag");
        if (tags == null) {
            tags = new ArrayList<>(2);
        }
        tags.removeIf(t -> t.getClass() == tag.getClass());
        tags.add(tag);
    }

    /** {@code m_tag_find}: the tag of class {@code type}, or null. */
    public <T extends PacketTag> T tag(Class<T> type) {
        requirePacket();
        if (tags != null) {
            for (PacketTag t : tags) {
                if (t.getClass() == type) {
                    return type.cast(t);
                }
            }
        }
        return null;
    }

    /** {@code m_tag_delete}: removes the tag of class {@code type}; returns whether there was one. */
    public boolean removeTag(Class<? extends PacketTag> type) {
        requirePacket();
        return tags != null && tags.removeIf(t -> t.getClass() == type);
    }

    /** The tags, in the order they were added ({@code m_tag_first} / {@code m_tag_next}). */
    public List<PacketTag> tags() {
        requirePacket();
        return tags == null ? List.of() : List.copyOf(tags);
    }

    // ================================================================ checking and printing

    /**
     * {@code m_verify_packet}: checks the chain's invariants (segment windows inside their storage, no
     * empty segment but in an empty chain, the length equal to the sum of segment lengths, live storage
     * references, and each guaranteed region inside one segment).
     *
     * @throws IllegalStateException describing the first broken invariant
     */
    public void verify() {
        alive();
        int total = 0;
        Segment last = null;
        for (Segment s = head; s != null; s = s.next) {
            if (s.free) {
                fail("a freed segment is in the chain", s);
            }
            if (s.offset < 0 || s.length < 0 || s.end() > s.storage().capacity()) {
                fail("segment window outside its storage", s);
            }
            if (s.length == 0 && (s != head || s.next != null)) {
                fail("empty segment in a non-empty chain", s);
            }
            if (s.storage().isShareable() && s.storage().references() <= 0) {
                fail("segment points at released storage", s);
            }
            total += s.length;
            last = s;
        }
        if (last != tail) {
            fail("tail is not the last segment", tail);
        }
        if (total != length) {
            fail("length " + length + " is not the sum of segment lengths " + total, null);
        }
        int previousEnd = 0;
        for (int i = 0; i < regions.count(); i++) {
            int start = regions.start(i);
            int end = regions.end(i);
            if (start < previousEnd || end <= start || end > length) {
                fail("region " + start + ".." + end + " out of order or out of the chain", null);
            }
            locate(start);
            if (end > foundStart + found.length) {
                fail("guaranteed region " + start + ".." + end + " is not contiguous", found);
            }
            previousEnd = end;
        }
        if (headRegionEnd != 0 && (headRegionStart != regions.firstStart() || headRegionEnd != regions.firstEnd()
                || headRegionEnd > head.length || headRegionBase != head.offset
                || headRegionBytes != head.storage().readOnlyMemory())) {
            fail("the header shortcut " + headRegionStart + ".." + headRegionEnd + " (data offset " + headRegionBase
                    + ") is not the first region in the head segment", head);
        }
    }

    private void fail(String what, Segment segment) {
        throw new IllegalStateException("broken mbuf chain: " + what + (segment == null ? "" : " (" + segment
                + ")") + "\n" + dump());
    }

    /** One line: length, segment count, packet flag and guaranteed regions. */
    @Override
    public String toString() {
        if (dead) {
            return "Mbuf[dead]";
        }
        return "Mbuf[" + (packet ? "packet, " : "") + "length=" + length + ", segments=" + segmentCount()
                + (regions.isEmpty() ? "" : ", regions=" + regions) + "]";
    }

    /**
     * {@code m_print} with the {@code c} modifier: every segment of the chain, one a line, with its
     * type, storage, data window, leading and trailing space and read-only flag, after the packet header.
     */
    public String dump() {
        if (dead) {
            return "Mbuf[dead]";
        }
        StringBuilder out = new StringBuilder(toString()).append('\n');
        if (packet) {
            out.append(String.format("  pkthdr: rcvif=%d flags=0x%x csum_flags=0x%x csum_data=0x%x segsz=%d tags=%s%n",
                    receivingInterface, packetFlags, checksumFlags, checksumData, segmentSize,
                    tags == null ? "[]" : tags));
        }
        int i = 0;
        for (Segment s = head; s != null; s = s.next) {
            out.append("  [").append(i++).append("] ").append(s).append('\n');
        }
        return out.toString();
    }

    // ================================================================ internals

    private void alive() {
        if (dead) {
            throw new IllegalStateException("mbuf used after it was freed or consumed by cat");
        }
    }

    /** {@link #alive()}, and empties the header shortcut: called first by every operation that may change the chain. */
    private void willChange() {
        alive();
        headRegionEnd = 0;
        headRegionBytes = null;
    }

    private void requirePacket() {
        alive();
        if (!packet) {
            throw new IllegalStateException("not a packet: this chain has no packet header (M_PKTHDR)");
        }
    }

    private void kill() {
        dead = true;
        head = null;
        tail = null;
        tags = null;
        regions = Regions.NONE;
        headRegionEnd = 0;
        headRegionBytes = null;
        found = null;
        foundPrevious = null;
    }

    private void check() {
        if (Strict.ENABLED) {
            verify();
        }
    }

    /** Finds the segment holding byte {@code off} (0 <= off < length) and its predecessor and start. */
    private void locate(int off) {
        Segment previous = null;
        int start = 0;
        Segment s = head;
        while (start + s.length <= off && s.next != null) {
            start += s.length;
            previous = s;
            s = s.next;
        }
        found = s;
        foundPrevious = previous;
        foundStart = start;
    }

    /**
     * This chain's own, writable region set, taken from the pool on the first region ({@code regions} is
     * shared until then) and given back when the chain is freed.
     */
    private Regions ownRegions() {
        if (regions == Regions.NONE) {
            regions = pool.takeRegions();
        }
        return regions;
    }

    private void recomputeTail() {
        Segment s = head;
        while (s.next != null) {
            s = s.next;
        }
        tail = s;
    }

    /** Frees empty segments, keeping one if the chain is empty. */
    private void dropEmptySegments() {
        Segment previous = null;
        Segment s = head;
        while (s != null) {
            Segment next = s.next;
            if (s.length == 0 && (previous != null || next != null)) {
                if (previous == null) {
                    head = next;
                } else {
                    previous.next = next;
                }
                s.next = null;
                pool.free(s);
            } else {
                previous = s;
            }
            s = next;
        }
        recomputeTail();
    }

    private void copyOut(int off, int len, MemorySegment dst, long dstOff) {
        int start = 0;
        for (Segment s = head; s != null && len > 0; start += s.length, s = s.next) {
            if (start + s.length <= off) {
                continue;
            }
            int from = off - start;
            int n = Math.min(s.length - from, len);
            MemorySegment.copy(s.storage().memory(), s.offset + from, dst, dstOff, n);
            off += n;
            dstOff += n;
            len -= n;
        }
    }

    /** Writes {@code src} at {@code off}; the range is inside the chain and writable. */
    private void copyIn(int off, MemorySegment src) {
        long done = 0;
        long len = src.byteSize();
        int start = 0;
        for (Segment s = head; s != null && done < len; start += s.length, s = s.next) {
            if (start + s.length <= off) {
                continue;
            }
            int from = off - start;
            int n = (int) Math.min(s.length - from, len - done);
            MemorySegment.copy(src, done, s.storage().memory(), s.offset + from, n);
            off += n;
            done += n;
        }
    }

    /** Cuts the chain to {@code newLength} bytes, freeing segments past it (keeps one segment). */
    private void truncate(int newLength) {
        if (newLength == length) {
            return;
        }
        locate(Math.max(0, newLength - 1));
        Segment s = found;
        int keep = newLength - foundStart;
        Segment rest = s.next;
        s.next = null;
        s.dropBack(s.length - keep);
        pool.freeSegments(rest);
        tail = s;
        length = newLength;
    }

    /**
     * The view of {@code [off, off + len)} once {@link #contiguousHolder} returned
     * {@code holder}. Made here, in the small public methods that the JIT inlines into their callers, rather
     * than in the large method that rearranges the chain, so that a caller that keeps the view in a local
     * lets escape analysis remove it.
     */
    private MemorySegment viewAfter(Segment holder, int off, int len, boolean writable) {
        if (holder == null) {
            return writable ? EMPTY_WRITABLE : EMPTY;
        }
        MemorySegment view = holder.view(off - foundStart, len, writable);
        check(); // strict mode: after the view is made, since verifying moves foundStart
        return view;
    }

    /**
     * Makes {@code [off, off + len)} contiguous (and writable if asked) and marks it as a region if asked.
     * Returns the segment that holds it, which starts at packet offset {@code foundStart}, or null if
     * {@code len} is 0. The caller verifies the chain ({@link #check()}).
     *
     * <p>One method on purpose: its bytecode is larger than C2's {@code FreqInlineSize} (325 bytes), so the
     * JIT compiles it out of line and {@link #ptr} stays small enough to be inlined into its callers, where
     * the view it returns, kept in a local, is removed by escape analysis (a {@code ptr} that had this
     * inlined was "already compiled into a big method" and was called instead, allocating its view).
     */
    private Segment contiguousHolder(int off, int len, boolean writable, boolean region) {
        willChange();
        Objects.checkFromIndexSize(off, len, length);
        if (len == 0) {
            return null;
        }
        locate(off);
        boolean inOne = off + len <= foundStart + found.length;
        if (inOne && writable && found.isReadOnly()) {
            commitCopyOnWrite(planCopyOnWrite(off, len, true));
            locate(off); // the bytes moved into a copy
        } else if (!inOne) {
            // The range spans segments: make it contiguous in one writable segment, extended to the regions
            // it overlaps; KAME's two fast paths first, else a copy into a new segment.
            int a = regions.closureStart(off, off + len);
            int b = regions.closureEnd(off, off + len);
            locate(a);
            Segment n = found;
            int nStart = foundStart;
            int nEnd = nStart + n.length;
            Segment following = n.next;
            int headPart = nEnd - a;
            if (!n.isReadOnly() && n.trailingSpace() >= b - nEnd) {
                // Fast path 1: the rest fits in n's trailing space.
                int needed = b - nEnd;
                copyOut(nEnd, needed, n.storage().memory(), n.end());
                pool.countCopy(needed);
                n.length += needed;
                removeAfter(n, needed);
            } else if (following != null && !following.isReadOnly() && b <= nEnd + following.length
                    && following.leadingSpace() >= headPart) {
                // Fast path 2: the head part fits in the leading space of the next segment, which holds the rest.
                following.offset -= headPart;
                following.length += headPart;
                MemorySegment.copy(n.storage().memory(), n.offset + (a - nStart), following.storage().memory(),
                        following.offset, headPart);
                pool.countCopy(headPart);
                n.dropBack(headPart);
                if (n.length == 0) {
                    unlink(n, foundPrevious);
                }
            } else {
                replaceRange(a, b, pool.allocContiguous(b - a, n.type, n.owner));
            }
            locate(off); // the bytes moved into one segment
        }
        if (region) {
            ownRegions().add(off, off + len);
        }
        return found;
    }

    /** Removes {@code count} bytes that follow segment {@code n} (they were copied into it). */
    private void removeAfter(Segment n, int count) {
        while (count > 0) {
            Segment s = n.next;
            if (s.length <= count) {
                count -= s.length;
                n.next = s.next;
                s.next = null;
                pool.free(s);
            } else {
                s.dropFront(count);
                count = 0;
            }
        }
        recomputeTail();
    }

    private void unlink(Segment s, Segment previous) {
        if (previous == null) {
            head = s.next;
        } else {
            previous.next = s.next;
        }
        s.next = null;
        pool.free(s);
        recomputeTail();
    }

    /**
     * Copies {@code [a, b)} into the empty segment {@code t} (at its current offset), removes those bytes
     * from the chain, and puts {@code t} in their place. {@code [a, b)} must not lie strictly inside one
     * segment (that would need a split).
     */
    private void replaceRange(int a, int b, Segment t) {
        int n = b - a;
        copyOut(a, n, t.storage().memory(), t.offset);
        t.length = n;
        pool.countCopy(n);
        Segment previous = null;
        Segment s = head;
        int start = 0;
        // skip segments entirely before a
        while (s != null && start + s.length <= a) {
            start += s.length;
            previous = s;
            s = s.next;
        }
        if (s != null && start < a) {
            // s holds bytes before a: keep them, drop the rest of s that lies in [a, b)
            int keep = a - start;
            int drop = Math.min(s.length - keep, b - a);
            if (keep + drop < s.length) {
                throw new AssertionError("replaceRange inside one segment");
            }
            s.dropBack(drop);
            start += keep + drop;
            previous = s;
            s = s.next;
        }
        // remove whole segments inside [a, b)
        while (s != null && start + s.length <= b && start < b) {
            Segment next = s.next;
            start += s.length;
            s.next = null;
            pool.free(s);
            s = next;
        }
        if (s != null && start < b) {
            s.dropFront(b - start);
        }
        t.next = s;
        if (previous == null) {
            head = t;
        } else {
            previous.next = t;
        }
        recomputeTail();
    }

    // ---------------------------------------------------------------- copy on write

    /**
     * One read-only segment whose bytes {@code [from, to)} (relative to its data) get writable copies: the
     * copies, linked by {@code next} from {@code firstCopy} to {@code lastCopy}, and {@code right}, a segment
     * sharing the storage for the bytes after {@code to} when bytes are kept on both sides. A plan is the
     * steps in chain order, linked by {@code nextStep}, so planning allocates one object per step besides
     * the segments.
     */
    private static final class CowStep {
        Segment segment;
        int from;
        int to;
        Segment firstCopy;
        Segment lastCopy;
        Segment right;
        CowStep nextStep;

        /** Makes this the (empty) step for bytes {@code [from, to)} of {@code segment}. */
        CowStep start(Segment segment, int from, int to) {
            this.segment = segment;
            this.from = from;
            this.to = to;
            firstCopy = null;
            lastCopy = null;
            right = null;
            nextStep = null;
            return this;
        }

        void addCopy(Segment copy) {
            if (firstCopy == null) {
                firstCopy = copy;
            } else {
                lastCopy.next = copy;
            }
            lastCopy = copy;
        }
    }

    /**
     * Plans and allocates the copies that make {@code [off, off + len)} writable, and returns the plan's first
     * step, or null if no byte of the range is read-only. With {@code single}, each segment's read-only bytes
     * go into one copy however long (for a contiguous view); otherwise into copies of at most a cluster, cut
     * only between regions.
     */
    private CowStep planCopyOnWrite(int off, int len, boolean single) {
        CowStep first = null;
        CowStep last = null;
        try {
            int start = 0;
            int end = off + len;
            for (Segment s = head; s != null && start < end; start += s.length, s = s.next) {
                int sEnd = start + s.length;
                if (sEnd <= off || !s.isReadOnly()) {
                    continue;
                }
                if (Math.max(off, start) >= Math.min(end, sEnd)) {
                    continue; // an empty range touches no byte of this segment
                }
                int pa = regions.closureStart(Math.max(off, start), Math.min(end, sEnd));
                int pb = regions.closureEnd(Math.max(off, start), Math.min(end, sEnd));
                CowStep step;
                if (first == null) { // linked first, so a failure frees what it holds
                    if (spareStep == null) {
                        spareStep = new CowStep();
                    }
                    step = spareStep.start(s, pa - start, pb - start);
                    first = step;
                } else {
                    step = new CowStep().start(s, pa - start, pb - start);
                    last.nextStep = step;
                }
                last = step;
                int pos = pa;
                while (pos < pb) {
                    int chunkEnd = single ? pb : chunkEnd(pos, pb);
                    Segment c = pool.allocContiguous(chunkEnd - pos, s.type, s.owner);
                    c.length = chunkEnd - pos;
                    step.addCopy(c);
                    pos = chunkEnd;
                }
                if (pa > start && pb < sEnd) {
                    step.right = pool.allocSharing(s);
                }
            }
        } catch (NoBufferSpaceException e) {
            releasePlan(first);
            throw e;
        }
        return first;
    }

    private int chunkEnd(int pos, int limit) {
        if (limit - pos <= MbufPool.MCLBYTES) {
            return limit;
        }
        int end = pos + MbufPool.MCLBYTES;
        if (regions.cuts(end)) {
            int r = regions.cutRegion(end);
            end = regions.start(r) > pos ? regions.start(r) : regions.end(r);
        }
        return end;
    }

    /** Frees what a plan allocated (its copies and right-hand segments); the chain is untouched. */
    private void releasePlan(CowStep step) {
        for (; step != null; step = step.nextStep) {
            pool.freeSegments(step.firstCopy);
            if (step.right != null) {
                pool.free(step.right);
            }
        }
    }

    private void commitCopyOnWrite(CowStep plan) {
        if (plan == null) {
            return;
        }
        CowStep step = plan;
        Segment previous = null;
        Segment s = head;
        while (s != null && step != null) {
            Segment after = s.next;
            if (s != step.segment) {
                previous = s;
                s = after;
                continue;
            }
            int pos = step.from;
            for (Segment c = step.firstCopy; c != null; c = c.next) {
                MemorySegment.copy(s.storage().memory(), s.offset + pos, c.storage().memory(), c.offset, c.length);
                pos += c.length;
            }
            pool.countCopy(pos - step.from); // once per step: counting looks up the thread's cache
            Segment firstCopy = step.firstCopy;
            Segment lastCopy = step.lastCopy;
            boolean keepLeft = step.from > 0;
            boolean keepRight = step.to < s.length;
            if (step.right != null) {
                Segment right = step.right;
                right.offset = s.offset + step.to;
                right.length = s.length - step.to;
                s.moveViewsTo(right, right.offset, right.end());
                s.dropBack(s.length - step.from);
                s.next = firstCopy;
                lastCopy.next = right;
                right.next = after;
                previous = right;
            } else if (keepLeft) {
                s.dropBack(s.length - step.from);
                s.next = firstCopy;
                lastCopy.next = after;
                previous = lastCopy;
            } else if (keepRight) {
                s.dropFront(step.to);
                link(previous, firstCopy);
                lastCopy.next = s;
                previous = s;
            } else {
                link(previous, firstCopy);
                lastCopy.next = after;
                s.next = null;
                pool.free(s);
                previous = lastCopy;
            }
            step = step.nextStep;
            s = after;
        }
        recomputeTail();
    }

    private void link(Segment previous, Segment s) {
        if (previous == null) {
            head = s;
        } else {
            previous.next = s;
        }
    }

    // ---------------------------------------------------------------- extension (m_copyback's EXTEND)

    private record Extension(int grow, int inTail, List<Segment> added) { }

    /** The plan of a write that does not grow the chain. */
    private static final Extension NO_EXTENSION = new Extension(0, 0, List.of());

    private Extension planExtension(int grow) {
        if (grow <= 0) {
            return NO_EXTENSION;
        }
        int inTail = Math.min(grow, tail.trailingSpace());
        List<Segment> added = new ArrayList<>();
        try {
            int remaining = grow - inTail;
            while (remaining > 0) {
                Segment s = remaining >= MbufPool.MINCLSIZE ? pool.allocClusterSegment(tail.type, tail.owner)
                        : pool.allocSegment(tail.type, tail.owner);
                s.length = Math.min(remaining, s.storage().capacity());
                remaining -= s.length;
                added.add(s);
            }
        } catch (NoBufferSpaceException e) {
            for (Segment s : added) {
                pool.free(s);
            }
            throw e;
        }
        return new Extension(grow, inTail, added);
    }

    private void commitExtension(Extension extension) {
        if (extension.grow() == 0) {
            return;
        }
        if (extension.inTail() > 0) {
            tail.storage().memory().asSlice(tail.end(), extension.inTail()).fill((byte) 0);
            tail.length += extension.inTail();
        }
        for (Segment s : extension.added()) {
            s.raw(0, s.length).fill((byte) 0);
            tail.next = s;
            tail = s;
        }
        length += extension.grow();
        dropEmptySegments();
    }
}
