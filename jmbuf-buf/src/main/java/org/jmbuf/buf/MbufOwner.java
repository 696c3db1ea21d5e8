package org.jmbuf.buf;

import java.util.concurrent.atomic.AtomicInteger;

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
 * {@link MbufPool#owners()}. The counts are exact and safe to read from any thread.
 */
public final class MbufOwner {
    private final String name;
    private final String description;
    private final AtomicInteger segments = new AtomicInteger();
    private final AtomicInteger clusters = new AtomicInteger();
    private final AtomicInteger external = new AtomicInteger();
    private final AtomicInteger claims = new AtomicInteger();

    MbufOwner(String name, String description) {
        this.name = name;
        this.description = description;
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
        return segments.get();
    }

    /** Of {@link #segments()}, those whose storage is a (possibly shared) cluster. */
    public int clusters() {
        return clusters.get();
    }

    /** Of {@link #segments()}, those whose storage is external ({@link MbufPool#wrap}) or a large buffer. */
    public int external() {
        return external.get();
    }

    /** How many segments have been charged to this owner since it was made ({@code mo_claims}). */
    public int claims() {
        return claims.get();
    }

    /** Adds ({@code sign} +1) or removes (-1) a segment's charge, by its current storage kind. */
    void charge(Segment segment, int sign) {
        segments.addAndGet(sign);
        kindCounter(segment.storage().kind(), sign);
    }

    /** A segment of this owner changed its storage from {@code from} to {@code to}. */
    void recount(Storage.Kind from, Storage.Kind to) {
        if (from != to) {
            kindCounter(from, -1);
            kindCounter(to, +1);
        }
    }

    private void kindCounter(Storage.Kind kind, int sign) {
        switch (kind) {
            case CLUSTER -> clusters.addAndGet(sign);
            case EXTERNAL, LARGE -> external.addAndGet(sign);
            case INTERNAL -> { }
        }
    }

    /** Counts a segment newly charged to this owner (a new segment, or one moved here by a claim). */
    void countClaim() {
        claims.incrementAndGet();
    }

    /** Returns {@code "name/description: N segments (C clusters, E external)"}. */
    @Override
    public String toString() {
        return name + "/" + description + ": " + segments() + " segments (" + clusters() + " clusters, "
                + external() + " external)";
    }
}
