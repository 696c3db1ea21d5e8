package org.jmbuf.io;

import java.io.Serial;
import java.nio.file.Path;

/**
 * A capture file is malformed or truncated: its bytes contradict the format, or end before a header,
 * record or block does. The message names the file, the byte offset and what was expected there, for
 * example {@code foo.pcap: at offset 1234: packet record claims 70000 captured bytes but only 12 remain}.
 *
 * <p>It is unchecked, like {@link java.io.UncheckedIOException}: a reader hands it out from
 * {@link CaptureReader#next()}, where a damaged file is a property of the input, and the packets read
 * before it stay valid. It is not an {@link java.io.IOException}: the file was read; its contents are
 * wrong.
 */
public final class CaptureFormatException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    /** The byte offset in the file where the problem is. */
    private final long offset;
    /** What was expected and what was found. */
    private final String problem;

    /**
     * Makes the exception; the message is {@code file + ": at offset " + offset + ": " + problem}.
     *
     * @param file    the capture file
     * @param offset  the byte offset in the file where the problem is (the start of the record or block,
     *                or the offending field)
     * @param problem what was expected there and what was found
     */
    public CaptureFormatException(Path file, long offset, String problem) {
        super(file + ": at offset " + offset + ": " + problem);
        this.file = file;
        this.offset = offset;
        this.problem = problem;
    }

    /** The capture file. */
    public Path file() {
        return file;
    }

    /** The byte offset in the file where the problem is. */
    public long offset() {
        return offset;
    }

    /** What was expected and what was found, without the file and offset. */
    public String problem() {
        return problem;
    }
}
