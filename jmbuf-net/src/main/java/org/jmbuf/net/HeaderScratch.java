package org.jmbuf.net;

import java.lang.foreign.MemorySegment;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.NoBufferSpaceException;

/**
 * A header read off a chain into memory the protocol keeps ({@code m_copydata} into a header buffer), for
 * the input routines, which must not allocate per packet.
 *
 * <p>Why a copy rather than the view {@link Mbuf#ptr} returns: that view costs nothing only when escape
 * analysis removes it, which needs the caller to keep it in a local and the JIT to inline every method it
 * is passed to; the input routines are large, and some keep a header view in a field, so the view would be
 * a real object on many paths. A copy of a few header bytes allocates nothing whatever the JIT decides, and
 * gives a writable header to routines that change it and write it back with {@link Mbuf#copyBackCow}
 * (forwarding).
 *
 * <p>The copy is taken after the same pull-up the routines always did: a range that straddles segments is
 * first made contiguous with {@link Mbuf#ptr} (which may copy, and may find the pool empty), so the chain
 * leaves input laid out as before and a refusal is counted where it was. A range already contiguous is
 * only copied. One scratch per protocol instance, on the stack's thread; its contents hold until its next
 * {@link #read}.
 */
final class HeaderScratch {
    private final MemorySegment bytes;

    /** A scratch for headers of at most {@code capacity} bytes. */
    HeaderScratch(int capacity) {
        this.bytes = MemorySegment.ofArray(new byte[capacity]);
    }

    /** The scratch's memory, for views made once over it (a view of part of it is made at no cost later). */
    MemorySegment bytes() {
        return bytes;
    }

    /**
     * Copies {@code [off, off + len)} of {@code m} to the start of this scratch and returns the scratch's
     * segment, as long as its capacity (bytes past {@code len} are left from earlier reads; a scratch whose
     * capacity is {@code len} returns exactly the header, as {@link Mbuf#copyBackCow} wants it).
     *
     * @throws IndexOutOfBoundsException if the range is not inside the chain or longer than the scratch
     * @throws NoBufferSpaceException    if the range straddles segments and the pool refuses the storage to
     *                                   make it contiguous
     */
    MemorySegment read(Mbuf m, int off, int len) {
        if (!m.isContiguous(off, len)) {
            m.ptr(off, len);
        }
        m.copyData(off, len, bytes, 0);
        return bytes;
    }
}
