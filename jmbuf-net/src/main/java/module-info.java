/**
 * jmbuf-net: a userland IPv4/IPv6 stack whose input paths are read-only-mbuf safe: every header is
 * read through {@link org.jmbuf.buf.Mbuf#ptr} and written only through
 * {@link org.jmbuf.buf.Mbuf#ptrRw} or copy on write, so packets on shared or read-only storage are
 * processed without changing their bytes.
 */
module org.jmbuf.net {
    requires transitive org.jmbuf.wire;
    exports org.jmbuf.net;
}
