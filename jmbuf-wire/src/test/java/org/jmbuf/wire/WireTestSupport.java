package org.jmbuf.wire;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import java.util.function.Consumer;
import java.util.function.IntUnaryOperator;

/** Shared checks and helpers for the view tests: the "truncated at every length" check (smoltcp's habit), hex. */
final class WireTestSupport {
    private WireTestSupport() {
    }

    /**
     * Asserts that {@code parse} rejects every prefix of {@code full} shorter than {@code fullLength} with a
     * {@link MalformedPacketException} (never another exception) carrying {@code expectedOffset.applyAsInt(n)}
     * for a prefix of {@code n} bytes, and accepts the prefix of {@code fullLength} bytes.
     */
    static void assertRejectedBelow(byte[] full, int fullLength, Consumer<MemorySegment> parse,
            IntUnaryOperator expectedOffset) {
        for (int n = 0; n < fullLength; n++) {
            MemorySegment cut = MemorySegment.ofArray(full).asSlice(0, n);
            try {
                parse.accept(cut);
                fail("a prefix of " + n + " bytes was accepted");
            } catch (MalformedPacketException e) {
                assertNotNull(e.getMessage());
                assertEquals(expectedOffset.applyAsInt(n), e.offset(), "offset for a prefix of " + n + " bytes");
            } catch (RuntimeException e) {
                fail("a prefix of " + n + " bytes threw " + e + " instead of MalformedPacketException", e);
            }
        }
        assertDoesNotThrow(() -> parse.accept(MemorySegment.ofArray(full).asSlice(0, fullLength)));
    }

    /** As {@link #assertRejectedBelow} with the whole of {@code full}. */
    static void assertRejectedBelow(byte[] full, Consumer<MemorySegment> parse, IntUnaryOperator expectedOffset) {
        assertRejectedBelow(full, full.length, parse, expectedOffset);
    }

    /** A writable copy of {@code bytes}. */
    static MemorySegment writable(byte[] bytes) {
        return MemorySegment.ofArray(bytes.clone());
    }

    /** The bytes of {@code s} as lower-case hex. */
    static String hex(MemorySegment s) {
        return HexFormat.of().formatHex(s.toArray(ValueLayout.JAVA_BYTE));
    }

    /** The bytes of a hex string. */
    static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex);
    }

    /** A read-only view of {@code bytes}. */
    static MemorySegment readOnly(byte[] bytes) {
        return MemorySegment.ofArray(bytes).asReadOnly();
    }
}
