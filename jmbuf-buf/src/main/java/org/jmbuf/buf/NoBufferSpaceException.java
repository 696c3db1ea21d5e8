package org.jmbuf.buf;

import java.io.Serial;

/**
 * No buffer space available ({@code ENOBUFS}): a pool could not supply a segment, a cluster or a
 * large contiguous buffer, because its limit was reached, an allocation fault was injected, or the
 * request can never be met (for example {@link Mbuf#copyup(int, int)} of more than fits in a segment).
 *
 * <p>Every operation that throws it leaves its chain exactly as it was before the call: operations
 * allocate everything they need first and only then change the chain.
 */
public final class NoBufferSpaceException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message that says what could not be allocated and why. */
    public NoBufferSpaceException(String message) {
        super(message);
    }
}
