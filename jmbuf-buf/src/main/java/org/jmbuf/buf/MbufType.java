package org.jmbuf.buf;

/**
 * What a segment's bytes are for: the mbuf(9) {@code m_type} ({@code MT_DATA}, {@code MT_HEADER}, ...).
 *
 * <p>The type is bookkeeping only: it selects the default {@link MbufOwner} of new segments and the
 * per-type counts of {@link PoolStats#segmentsInUseByType()} ({@code mbstat.m_mtypes}). A segment that
 * an operation creates inside a chain takes the type of the segment it was made from.
 */
public enum MbufType {
    /** {@code MT_DATA}: dynamic data, the type of nearly every packet. */
    DATA("data"),
    /** {@code MT_HEADER}: a packet header. */
    HEADER("header"),
    /** {@code MT_SONAME}: a socket name (address). */
    SONAME("soname"),
    /** {@code MT_SOOPTS}: socket options. */
    SOOPTS("soopts"),
    /** {@code MT_FTABLE}: fragment reassembly header. */
    FTABLE("ftable"),
    /** {@code MT_CONTROL}: extra-data protocol message (ancillary data). */
    CONTROL("control"),
    /** {@code MT_OOBDATA}: expedited (out-of-band) data. */
    OOBDATA("oobdata");

    private final String label;

    MbufType(String label) {
        this.label = label;
    }

    /** The short lower-case name the BSD kernels print for this type ({@code "data"}, {@code "header"}, ...). */
    public String label() {
        return label;
    }
}
