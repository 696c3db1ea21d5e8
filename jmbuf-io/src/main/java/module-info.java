/**
 * jmbuf-io: capture files. {@link org.jmbuf.io.CaptureReader} reads classic pcap (microsecond and
 * nanosecond, either byte order) and pcapng (any number of sections, interfaces and byte orders) by
 * mapping the file read-only and handing each packet out as read-only external storage of an
 * {@link org.jmbuf.buf.Mbuf}: zero copy, and no byte of the file can be written through it.
 * {@link org.jmbuf.io.CaptureWriter} writes both formats from chains.
 *
 * <p>A malformed or truncated file is reported by {@link org.jmbuf.io.CaptureFormatException}, naming the
 * file, the byte offset and what was expected there; reading never throws an index exception.
 *
 * <p>{@link org.jmbuf.io.TapDevice} opens a Linux TAP interface through the Foreign Function &amp; Memory API
 * (the module needs {@code --enable-native-access=org.jmbuf.io}), and {@link org.jmbuf.io.TapLink} runs a
 * jmbuf {@link org.jmbuf.net.Host} on one, so real Linux tools talk to the stack; it is also the executor that
 * gives the host's blocking sockets ({@link org.jmbuf.net.TcpStream}, {@link org.jmbuf.net.TcpServer}) to
 * other threads. {@link org.jmbuf.io.HttpService} and {@link org.jmbuf.io.EchoService} are TCP services on
 * the non-blocking API, for curl and nc to talk to.
 */
module org.jmbuf.io {
    requires transitive org.jmbuf.buf;
    requires transitive org.jmbuf.net;
    exports org.jmbuf.io;
}
