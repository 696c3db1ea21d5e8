/**
 * jmbuf-wire: typed, flyweight views of protocol headers over contiguous bytes (in the style of
 * smoltcp's wire layer), and the Internet checksum over chain ranges.
 *
 * <p>A view is made with {@code of(segment)}, which checks once that every byte the header's own
 * length fields promise is inside the segment; accessors after that never read outside it. A view over
 * a read-only segment (what {@link org.jmbuf.buf.Mbuf#ptr} returns) cannot be written: setters throw.
 */
module org.jmbuf.wire {
    requires transitive org.jmbuf.buf;
    exports org.jmbuf.wire;
}
