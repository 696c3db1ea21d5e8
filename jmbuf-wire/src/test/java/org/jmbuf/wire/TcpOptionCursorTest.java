package org.jmbuf.wire;

import static org.jmbuf.wire.WireTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class TcpOptionCursorTest {
    /** MSS 1460, SACK permitted, timestamps 123456/0x89abcdef, NOP, window scale 7. */
    private static final byte[] SYN_OPTIONS = bytes("020405b4" + "0402" + "080a0001e24089abcdef" + "01" + "030307");

    private static TcpOptionCursor cursor(String hex) {
        return new TcpOptionCursor().reset(MemorySegment.ofArray(bytes(hex)));
    }

    @Test
    void walksSynOptions() {
        TcpOptionCursor options = new TcpOptionCursor().reset(MemorySegment.ofArray(SYN_OPTIONS));
        assertTrue(options.next());
        assertEquals(TcpOptionCursor.MSS, options.kind());
        assertEquals(0, options.offset());
        assertEquals(4, options.length());
        assertTrue(options.isWellFormed());
        assertEquals(1460, options.mss());
        assertThrows(IllegalStateException.class, options::windowScaleShift);

        assertTrue(options.next());
        assertEquals(TcpOptionCursor.SACK_PERMITTED, options.kind());
        assertEquals(4, options.offset());
        assertTrue(options.isWellFormed());
        assertEquals(0, options.data().byteSize());

        assertTrue(options.next());
        assertEquals(TcpOptionCursor.TIMESTAMP, options.kind());
        assertEquals(123456, options.timestampValue());
        assertEquals(0x89abcdef, options.timestampEchoReply());
        assertThrows(IllegalStateException.class, options::mss);

        assertTrue(options.next(), "NOP skipped");
        assertEquals(TcpOptionCursor.WINDOW_SCALE, options.kind());
        assertEquals(17, options.offset());
        assertEquals(7, options.windowScaleShift());
        assertEquals("030307", hex(options.option()));

        assertFalse(options.next());
        assertFalse(options.next());
    }

    @Test
    void endOfOptionListStopsTheWalk() {
        TcpOptionCursor options = cursor("0101" + "00" + "020405b4");
        assertFalse(options.next());
        assertFalse(options.next());
    }

    @Test
    void windowScaleAboveFourteenIsUsedAsFourteen() {
        TcpOptionCursor options = cursor("03030f" + "00");
        assertTrue(options.next());
        assertEquals(14, options.windowScaleShift());
        assertEquals(0x0f, Bytes.u8(options.data(), 0));
    }

    @Test
    void sackBlocks() {
        TcpOptionCursor options = cursor("0101" + "0512" + "00000064" + "000000c8" + "fffffff0" + "00000010");
        assertTrue(options.next());
        assertEquals(TcpOptionCursor.SACK, options.kind());
        assertTrue(options.isWellFormed());
        assertEquals(2, options.sackBlockCount());
        assertEquals(100, options.sackLeftEdge(0));
        assertEquals(200, options.sackRightEdge(0));
        assertEquals(0xfffffff0, options.sackLeftEdge(1));
        assertEquals(0x10, options.sackRightEdge(1));
        assertThrows(IndexOutOfBoundsException.class, () -> options.sackLeftEdge(2));
        assertThrows(IndexOutOfBoundsException.class, () -> options.sackRightEdge(-1));
    }

    @Test
    void knownOptionsWithTheWrongLengthAreNotWellFormed() {
        TcpOptionCursor options = cursor("020305" + "0302" + "08040000" + "050600000000" + "fe02");
        assertTrue(options.next());
        assertFalse(options.isWellFormed());
        assertThrows(IllegalStateException.class, options::mss);
        assertTrue(options.next());
        assertFalse(options.isWellFormed());
        assertThrows(IllegalStateException.class, options::windowScaleShift);
        assertTrue(options.next());
        assertFalse(options.isWellFormed());
        assertThrows(IllegalStateException.class, options::timestampValue);
        assertTrue(options.next());
        assertFalse(options.isWellFormed());
        assertThrows(IllegalStateException.class, options::sackBlockCount);
        assertTrue(options.next());
        assertEquals(0xfe, options.kind());
        assertTrue(options.isWellFormed(), "unknown kinds have no expected length");
        assertFalse(options.next());
    }

    @Test
    void lengthPastTheEndIsRejectedWithItsOffset() {
        assertRejectedAt("020405", 1);
        assertRejectedAt("0101" + "080a00000000", 3);
    }

    @Test
    void lengthBelowTwoIsRejectedWithItsOffset() {
        // a length of 0 or 1 would never move the walk forward
        assertRejectedAt("0101" + "0800" + "0000", 3);
        assertRejectedAt("0401" + "0000", 1);
    }

    @Test
    void missingLengthByteIsRejectedAtTheKind() {
        assertRejectedAt("010101" + "02", 3);
    }

    private static void assertRejectedAt(String hex, int offset) {
        TcpOptionCursor options = cursor(hex);
        MalformedPacketException e = assertThrows(MalformedPacketException.class, () -> {
            while (options.next()) {
                // walk to the bad option
            }
        }, hex);
        assertEquals(offset, e.offset(), hex);
    }
}
