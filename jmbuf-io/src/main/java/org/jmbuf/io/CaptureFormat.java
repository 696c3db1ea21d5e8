package org.jmbuf.io;

/** The two capture file formats jmbuf reads and writes. */
public enum CaptureFormat {
    /**
     * Classic libpcap: a 24-byte file header (magic {@code a1b2c3d4} for microsecond timestamps,
     * {@code a1b23c4d} for nanosecond ones, in either byte order) with one link type, then records of a
     * 16-byte header and the packet bytes.
     */
    PCAP,
    /**
     * pcapng (draft-ietf-opsawg-pcapng): blocks grouped in sections, each section with its own byte order
     * and its own interfaces, each interface with its own link type, snapshot length and timestamp
     * resolution.
     */
    PCAPNG
}
