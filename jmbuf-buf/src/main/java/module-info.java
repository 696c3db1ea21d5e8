/**
 * jmbuf-buf: the BSD mbuf packet-buffer system with the 2006 "new mbuf API".
 *
 * <p>Start at {@link org.jmbuf.buf.Mbuf} (a chain handle) and {@link org.jmbuf.buf.MbufPool}
 * (where chains come from).
 */
module org.jmbuf.buf {
    exports org.jmbuf.buf;
}
