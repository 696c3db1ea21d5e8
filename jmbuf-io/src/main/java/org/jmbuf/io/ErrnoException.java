package org.jmbuf.io;

import java.io.IOException;

/**
 * A system call failed: the message says what was attempted, libc's text for the error with its symbolic
 * name, and what to do about it where that is known, for example
 * {@code "cannot open /dev/net/tun: Operation not permitted (EPERM): run as root or grant CAP_NET_ADMIN"}.
 */
public final class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int errno;

    /**
     * An exception for {@code errno}, with the message {@code what + ": " + strerror + " (NAME)"} and, if
     * {@code hint} is not null, {@code ": " + hint}.
     */
    public ErrnoException(String what, int errno, String hint) {
        super(what + ": " + Posix.describe(errno) + (hint == null ? "" : ": " + hint));
        this.errno = errno;
    }

    /** The {@code errno} value the call left (Linux numbering). */
    public int errno() {
        return errno;
    }
}
