package org.jmbuf.buf;

/**
 * Who holds pool storage right now: the MBUFTRACE {@code struct mowner}.
 *
 * <p>Each segment is charged to exactly one owner; an owner counts the segments charged to it and,
 * of those, the ones whose storage is a cluster or external storage. New segments are charged to the
 * owner of the chain they join, or to the pool's "unknown" owner of their {@link MbufType} (as
 * NetBSD's {@code unknown_mowners}). {@link Mbuf#claim(MbufOwner)} ({@code m_claimm}) moves a whole
 * chain to an owner, so a protocol that takes a packet over claims it and the counts say which
 * subsystem holds how much.
 *
 * <p>Owners are made by {@link MbufPool#owner(String, String)} ({@code MOWNER_ATTACH}) and listed by
 * {@link MbufPool#owners()}. The counts are safe to read from any thread. As NetBSD's per-CPU
 * {@code mowner} counters, each thread counts the charges it makes without atomic instructions and a read
 * sums the threads' counts: no charge is ever lost, and a count is exact whenever no other thread is
 * allocating, freeing or claiming segments of this owner at the same time and those that did have
 * synchronized with the reader since (a join, a lock, a queue hand-off).
 */
public final class MbufOwner {
    /** The counters an owner has, each thread's count of them at {@code index * COUNTERS + counter}. */
    static final int SEGMENTS = 0;
    static final int CLUSTERS = 1;
    static final int EXTERNAL = 2;
    static final int CLAIMS = 3;
    static final int COUNTERS = 4;

    private final String name;
    private final String description;
    private final MbufPool pool;
    /** This owner's place in its pool's list of owners, and so in each thread's counters. */
    final int index;

    MbufOwner(String name, String description, MbufPool pool, int index) {
        this.name = name;
        this.description = description;
        this.pool = pool;
        this.index = index;
    }

    /** The subsystem's name, for example {@code "ip"} ({@code mo_name}). */
    public String name() {
        return name;
    }

    /** What in the subsystem holds the storage, for example {@code "reassembly"} ({@code mo_descr}). */
    public String description() {
        return description;
    }

    /** Segments charged to this owner now. */
    public int segments() {
        return pool.ownerCount(this, SEGMENTS);
    }

    /** Of {@link #segments()}, those whose storage is a (possibly shared) cluster. */
    public int clusters() {
        return pool.ownerCount(this, CLUSTERS);
    }

    /** Of {@link #segments()}, those whose storage is external ({@link MbufPool#wrap}) or a large buffer. */
    public int external() {
        return pool.ownerCount(this, EXTERNAL);
    }

    /** How many segments have been charged to this owner since it was made ({@code mo_claims}). */
    public int claims() {
        return pool.ownerCount(this, CLAIMS);
    }

    /** Returns {@code "name/description: N segments (C clusters, E external)"}. */
    @Override
    public String toString() {
        return name + "/" + description + ": " + segments() + " segments (" + clusters() + " clusters, "
                + external() + " external)";
    }
}
