package org.jmbuf.buf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;

/**
 * One piece of a chain: the C {@code struct mbuf} without the chain-wide parts (those live on
 * {@link Mbuf}). Package-private: users see a chain only through its handle.
 *
 * <pre>
 *   storage.memory()
 *   +----------------+=========================+-----------------+
 *   | leading space  |  data (length bytes)    | trailing space  |
 *   +----------------+=========================+-----------------+
 *   0             offset                offset+length        capacity
 * </pre>
 *
 * Leading and trailing space are zero when the storage is read-only (M_LEADINGSPACE /
 * M_TRAILINGSPACE), because that space may belong to another segment sharing the storage.
 *
 * <p>Each segment owns an inline area of {@link MbufPool#MLEN} bytes; {@link #storage()} is either
 * that area or a shared reference to a cluster, external storage or large buffer. In strict mode a
 * segment also remembers the views it handed out, and revokes those whose bytes leave its data window.
 */
final class Segment {
    final MbufPool pool;
    private final Storage inline;
    private Storage storage;
    /**
     * {@code storage.readOnlyMemory()}, kept beside {@link #storage} so that a read-only view ({@link Mbuf#ptr}'s
     * hot path) is one load from the segment instead of two.
     */
    private MemorySegment readOnlyMemory;
    int offset;
    int length;
    Segment next;
    MbufType type;
    MbufOwner owner;
    boolean free;
    /** Strict mode: where this segment was allocated, for the leak report. */
    Throwable allocationSite;
    /** Strict mode: views handed out over this segment's bytes. */
    private ArrayList<View> views;

    private record View(int from, int to, boolean writable, Arena arena) { }

    Segment(MbufPool pool, MemorySegment inlineArea) {
        this.pool = pool;
        this.inline = new Storage(Storage.Kind.INTERNAL, pool, inlineArea, true, null);
        this.storage = inline;
        this.readOnlyMemory = inline.readOnlyMemory();
    }

    Storage storage() {
        return storage;
    }

    Storage inlineStorage() {
        return inline;
    }

    /** Points this (fresh) segment at shared storage; the caller has already taken the reference. */
    void attach(Storage shared, int offset, int length) {
        this.storage = shared;
        this.readOnlyMemory = shared.readOnlyMemory();
        this.offset = offset;
        this.length = length;
    }

    /** Back to inline storage, empty; used when a segment is recycled. */
    void resetToInline() {
        storage = inline;
        readOnlyMemory = inline.readOnlyMemory();
        offset = 0;
        length = 0;
        next = null;
    }

    boolean isReadOnly() {
        return storage.isReadOnly();
    }

    int leadingSpace() {
        return isReadOnly() ? 0 : offset;
    }

    int trailingSpace() {
        return isReadOnly() ? 0 : storage.capacity() - offset - length;
    }

    int end() {
        return offset + length;
    }

    /** The storage memory of {@code [offset + from, offset + from + len)}, unchecked, writable if the storage is. */
    MemorySegment raw(int from, int len) {
        return storage.memory().asSlice(offset + from, len);
    }

    /** As {@link #raw}, but always read-only (one slice of the storage's read-only twin, no second view). */
    MemorySegment rawReadOnly(int from, int len) {
        return readOnlyMemory.asSlice(offset + from, len);
    }

    /**
     * A view of {@code [from, from + len)} of this segment's data. It is read-only unless {@code writable}
     * and the storage is not read-only. In strict mode the view is revocable: it is tied to an arena
     * that closes when the bytes leave this segment (moved, trimmed, split off or freed).
     */
    MemorySegment view(int from, int len, boolean writable) {
        boolean writableView = writable && !isReadOnly();
        MemorySegment bytes = writableView ? raw(from, len) : rawReadOnly(from, len);
        if (Strict.ENABLED && bytes.isNative()) {
            Arena arena = Arena.ofShared();
            bytes = bytes.reinterpret(arena, null);
            if (views == null) {
                views = new ArrayList<>(4);
            }
            views.add(new View(offset + from, offset + from + len, writableView, arena));
            if (!writableView) {
                bytes = bytes.asReadOnly();
            }
        }
        return bytes;
    }

    /** Removes {@code n} bytes from the front of the data window. */
    void dropFront(int n) {
        offset += n;
        length -= n;
        revokeOutside();
    }

    /** Removes {@code n} bytes from the back of the data window. */
    void dropBack(int n) {
        length -= n;
        revokeOutside();
    }

    /**
     * Strict mode: revokes the writable views, because the storage is about to be shared and so becomes
     * read-only; a write through such a view would change another chain's bytes.
     */
    void revokeWritableViews() {
        if (views != null) {
            views.removeIf(v -> {
                if (v.writable()) {
                    v.arena().close();
                    return true;
                }
                return false;
            });
        }
    }

    /**
     * Strict mode: hands the views of storage bytes {@code [from, to)} to {@code other}, which now holds those
     * same bytes (they did not move, only changed segment), so that they stay valid.
     */
    void moveViewsTo(Segment other, int from, int to) {
        if (views != null) {
            views.removeIf(v -> {
                if (v.from() >= from && v.to() <= to) {
                    if (other.views == null) {
                        other.views = new ArrayList<>(4);
                    }
                    other.views.add(v);
                    return true;
                }
                return false;
            });
        }
    }

    /** Revokes every view (strict mode): the segment is being freed or its storage replaced. */
    void revokeAll() {
        if (views != null) {
            for (View v : views) {
                v.arena().close();
            }
            views.clear();
        }
    }

    private void revokeOutside() {
        if (views != null && !views.isEmpty()) {
            int lo = offset;
            int hi = offset + length;
            views.removeIf(v -> {
                if (v.from() >= lo && v.to() <= hi) {
                    return false;
                }
                v.arena().close();
                return true;
            });
        }
    }

    @Override
    public String toString() {
        return type.label() + " " + storage + " off=" + offset + " len=" + length + " lead=" + leadingSpace()
                + " trail=" + trailingSpace() + (isReadOnly() ? " read-only" : "");
    }
}
