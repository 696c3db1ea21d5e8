package org.jmbuf.buf;

/**
 * Room around what a thread writes on every allocation and free, so that no other data shares its cache
 * lines. Without it a thread's caches and counters can land, wherever the allocator or a garbage collection
 * puts them, in a line that also holds another thread's, or the pool's own read-mostly fields; every write
 * then takes the line away from the other core (false sharing). That cost two threads sharing a pool about
 * a fifth of their throughput (docs/benchmarks.md, "false sharing between threads removed").
 *
 * <p>For fields, a class extends this one: HotSpot lays out a superclass's fields first, so the class's own
 * fields start at least {@link #BYTES} after the object header. A final subclass then declares
 * {@link #BYTES} of padding fields of its own, laid out after them. For arrays, slots in use start at
 * {@link #INT_SLOTS} or {@link #REFERENCE_SLOTS} and as many follow the last. The tests check both layouts.
 */
abstract class Padding {
    /** Two 64-byte lines, as the JDK's own {@code @Contended}: some processors fetch lines in pairs. */
    static final int BYTES = 128;
    /** The {@code int} slots that fill {@link #BYTES}. */
    static final int INT_SLOTS = BYTES / Integer.BYTES;
    /** The reference slots that fill at least {@link #BYTES}: 4 bytes each with compressed references, 8 without. */
    static final int REFERENCE_SLOTS = BYTES / 4;

    /** Fills the gap a 12-byte object header leaves before the first {@code long}, where a subclass field could go. */
    @SuppressWarnings("unused")
    private int headerGap;
    @SuppressWarnings("unused")
    private long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}
