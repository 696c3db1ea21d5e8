package org.jmbuf.io;

import java.time.Instant;

/**
 * Where a parser found the next packet: its record (or block) offset, its bytes and metadata, and where
 * the record after it starts. A parser does not move past a record until the reader has made the chain.
 */
record PacketRecord(long offset, long dataOffset, int capturedLength, long originalLength, Instant timestamp,
        CaptureInterface captureInterface, long next) {
}
