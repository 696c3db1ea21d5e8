package org.jmbuf.buf;

/**
 * The strict-mode switch, {@code -Djmbuf.strict=true}, read once.
 *
 * <p>Strict mode verifies each chain after every operation ({@code m_verify_packet}), poisons freed
 * storage and detects writes to it, revokes views whose bytes moved so that a stale view throws, and
 * records the allocation site of every segment so a leak report can name it. It is a static final
 * constant so that, when it is off, the JIT removes every check it guards.
 */
final class Strict {
    static final boolean ENABLED = Boolean.getBoolean("jmbuf.strict");

    private Strict() {
    }
}
