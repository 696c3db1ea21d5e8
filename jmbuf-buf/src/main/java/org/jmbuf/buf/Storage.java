package org.jmbuf.buf;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The bytes behind a segment: its inline area, a pooled cluster, caller-supplied external storage
 * ({@code MEXTADD}) or a large buffer made for one contiguous range longer than a cluster.
 *
 * <p>Clusters, external storage and large buffers are reference counted ({@code ext_refcnt}): every
 * segment that points into them holds one reference, and the storage goes back to its pool, or its
 * free action runs, when the last reference is dropped. The count is atomic because copies of one
 * packet may be freed on different threads. Inline storage belongs to one segment and is never shared.
 */
final class Storage {
    enum Kind {
        INTERNAL(-1), CLUSTER(MbufOwner.CLUSTERS), EXTERNAL(MbufOwner.EXTERNAL), LARGE(MbufOwner.EXTERNAL);

        /** The owner counter that counts segments of this kind ({@link MbufOwner#CLUSTERS}, ...), or -1. */
        final int ownerCounter;

        Kind(int ownerCounter) {
            this.ownerCounter = ownerCounter;
        }
    }

    private static final VarHandle REFERENCES;

    static {
        try {
            REFERENCES = MethodHandles.lookup().findVarHandle(Storage.class, "references", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Kind kind;
    private final MbufPool pool;
    private final MemorySegment memory;
    /** {@link #memory} as a read-only segment, made once so that read-only views cost one slice, not two. */
    private final MemorySegment readOnlyMemory;
    private final boolean writable;
    private final Runnable onFree;
    @SuppressWarnings("unused") // accessed through REFERENCES
    private volatile int references;

    Storage(Kind kind, MbufPool pool, MemorySegment memory, boolean writable, Runnable onFree) {
        this.kind = kind;
        this.pool = pool;
        this.memory = memory;
        this.readOnlyMemory = memory.isReadOnly() ? memory : memory.asReadOnly();
        this.writable = writable;
        this.onFree = onFree;
        this.references = 1;
    }

    Kind kind() {
        return kind;
    }

    /** The pool that made this storage and counts it (the owning segment's pool for inline storage). */
    MbufPool pool() {
        return pool;
    }

    /** The whole buffer, writable unless the storage was handed in read-only. */
    MemorySegment memory() {
        return memory;
    }

    /** The whole buffer, read-only whatever the storage. */
    MemorySegment readOnlyMemory() {
        return readOnlyMemory;
    }

    int capacity() {
        return (int) memory.byteSize();
    }

    boolean isShareable() {
        return kind != Kind.INTERNAL;
    }

    /**
     * M_READONLY for this storage: external storage not marked writable, or any shared storage.
     * Inline storage is never read-only.
     */
    boolean isReadOnly() {
        return kind != Kind.INTERNAL && (!writable || references() > 1);
    }

    int references() {
        return (int) REFERENCES.getVolatile(this);
    }

    void addReference() {
        int before = (int) REFERENCES.getAndAdd(this, 1);
        if (before <= 0) {
            throw new IllegalStateException("reference to released storage " + this);
        }
    }

    /**
     * Drops one reference and returns true if it was the last. The sole holder drops it without an atomic
     * instruction: a count of 1 means no other segment refers to the storage, and only a holder can add a
     * reference, so nothing can change the count between the read and the write.
     */
    boolean dropReference() {
        if ((int) REFERENCES.getAcquire(this) == 1) {
            REFERENCES.setRelease(this, 0);
            return true;
        }
        int before = (int) REFERENCES.getAndAdd(this, -1);
        if (before <= 0) {
            throw new IllegalStateException("storage released twice: " + this);
        }
        return before == 1;
    }

    /**
     * Makes a recycled cluster referenced once again. A release store is enough: the cluster reaches the
     * allocating thread through the pool (its own magazine, or the depot under its lock) after the last
     * {@link #dropReference()}, and reaches any other thread only with the chain that holds it.
     */
    void revive() {
        REFERENCES.setRelease(this, 1);
    }

    Runnable onFree() {
        return onFree;
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + "[" + capacity() + " bytes, refs=" + references()
                + (writable ? "" : ", read-only") + "]";
    }
}
