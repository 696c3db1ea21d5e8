package org.jmbuf.buf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Builds chains of a given segment shape for the acceptance tests (ZeroCopyReadOnlyTest, SharingTest,
 * GuaranteedRegionTest, AllocationFailureTest).
 *
 * <p>A shape is a space-separated list of pieces, each a letter and a length; each piece becomes one
 * segment of the chain:
 * <ul>
 *   <li>{@code i}: inline storage, data at offset 0 (much trailing space), up to 216 bytes</li>
 *   <li>{@code I}: inline storage aligned to its end (leading space, at most 7 bytes of trailing space)</li>
 *   <li>{@code C}: a cluster, data at offset 0 (the next piece must be longer than its trailing space)</li>
 *   <li>{@code c}: a cluster aligned to its end</li>
 *   <li>{@code X}: read-only external storage (native memory), exactly the piece's size</li>
 *   <li>{@code W}: writable external storage (native memory), exactly the piece's size</li>
 *   <li>{@code S}: a cluster shared with a twin chain (so read-only), the twin kept until close</li>
 * </ul>
 */
final class AcceptanceFixtures {
    private AcceptanceFixtures() {
    }

    /** Distinct, non-zero-ish bytes so misplaced data shows. */
    static byte[] pattern(int length, int seed) {
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) {
            out[i] = (byte) (i * 7 + seed * 31 + (i >> 8) * 13 + 1);
        }
        return out;
    }

    static byte[] bytesOf(MemorySegment segment) {
        return segment.toArray(ValueLayout.JAVA_BYTE);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** A chain of a given shape, with the things that keep its storage honest. */
    static final class Built implements AutoCloseable {
        final Mbuf chain;
        final byte[] data;
        final String shape;
        /** Twin chains sharing the S pieces' clusters, with their data. */
        final List<Mbuf> twins = new ArrayList<>();
        final List<byte[]> twinData = new ArrayList<>();
        /** The X and W pieces' storage and what the X ones held at first. */
        final List<MemorySegment> readOnlyStorage = new ArrayList<>();
        final List<byte[]> readOnlyOriginals = new ArrayList<>();
        /** How many times an X or W piece's free action ran. */
        final AtomicInteger externalFrees;
        int externalCount;

        Built(Mbuf chain, byte[] data, String shape, AtomicInteger externalFrees) {
            this.chain = chain;
            this.data = data;
            this.shape = shape;
            this.externalFrees = externalFrees;
        }

        /** Read-only external storage and shared clusters were never written. */
        void assertSharedStorageUntouched() {
            for (int i = 0; i < readOnlyStorage.size(); i++) {
                assertArrayEquals(readOnlyOriginals.get(i), bytesOf(readOnlyStorage.get(i)),
                        "read-only external storage #" + i + " of " + shape + " was written");
            }
            for (int i = 0; i < twins.size(); i++) {
                assertArrayEquals(twinData.get(i), twins.get(i).toByteArray(),
                        "the twin sharing cluster #" + i + " of " + shape + " changed");
                twins.get(i).verify();
            }
        }

        @Override
        public void close() {
            chain.close();
            for (Mbuf twin : twins) {
                twin.close();
            }
        }
    }

    static Built build(MbufPool pool, String shape) {
        return build(pool, shape, 0);
    }

    static Built build(MbufPool pool, String shape, int seed) {
        String[] pieces = shape.trim().split("\\s+");
        int total = 0;
        for (String p : pieces) {
            total += Integer.parseInt(p.substring(1));
        }
        byte[] data = pattern(total, seed);
        List<Mbuf> pendingTwins = new ArrayList<>();
        List<byte[]> pendingTwinData = new ArrayList<>();
        List<MemorySegment> roStorage = new ArrayList<>();
        List<byte[]> roOriginals = new ArrayList<>();
        AtomicInteger frees = new AtomicInteger();
        int externals = 0;
        int[] starts = new int[pieces.length];
        for (int j = 1; j < pieces.length; j++) {
            starts[j] = starts[j - 1] + Integer.parseInt(pieces[j - 1].substring(1));
        }
        // Built from the right: cat copies a segment into the writable trailing space of the chain's last
        // segment, so a roomy piece (i) in the middle is made by splitting it off an aligned segment after
        // the rest was linked to it.
        Mbuf chain = null;
        for (int j = pieces.length - 1; j >= 0; j--) {
            String p = pieces[j];
            char kind = p.charAt(0);
            int n = Integer.parseInt(p.substring(1));
            byte[] bytes = Arrays.copyOfRange(data, starts[j], starts[j] + n);
            Mbuf piece;
            switch (kind) {
                case 'i' -> {
                    if (chain == null) {
                        piece = pool.getPacket();
                        piece.copyBack(0, bytes);
                    } else {
                        int junk = 8 - n % 8;
                        Mbuf carrier = pool.getPacket();
                        carrier.align(junk + n);
                        carrier.copyBack(0, concat(new byte[junk], bytes));
                        carrier.cat(chain);
                        Mbuf rest = carrier.split(junk);
                        carrier.free();
                        chain = rest;
                        continue;
                    }
                }
                case 'I' -> {
                    piece = pool.getPacket();
                    piece.align(n);
                    piece.copyBack(0, bytes);
                }
                case 'C' -> {
                    piece = pool.getCluster(true);
                    piece.copyBack(0, bytes);
                }
                case 'c' -> {
                    piece = pool.getCluster(true);
                    piece.align(n);
                    piece.copyBack(0, bytes);
                }
                case 'X', 'W' -> {
                    MemorySegment storage = Arena.ofAuto().allocate(n);
                    MemorySegment.copy(MemorySegment.ofArray(bytes), 0, storage, 0, n);
                    piece = pool.wrap(storage, kind == 'W', frees::incrementAndGet);
                    externals++;
                    if (kind == 'X') {
                        roStorage.add(storage);
                        roOriginals.add(bytes.clone());
                    }
                }
                case 'S' -> {
                    piece = pool.getCluster(true);
                    piece.copyBack(0, bytes);
                    pendingTwins.add(piece.copyPacket());
                    pendingTwinData.add(bytes.clone());
                }
                default -> throw new IllegalArgumentException("unknown piece " + p);
            }
            if (chain != null) {
                piece.cat(chain);
            }
            chain = piece;
        }
        Built built;
        built = new Built(chain, data, shape, frees);
        built.twins.addAll(pendingTwins);
        built.twinData.addAll(pendingTwinData);
        built.readOnlyStorage.addAll(roStorage);
        built.readOnlyOriginals.addAll(roOriginals);
        built.externalCount = externals;
        // the fixture's own guard: the shape is what the test thinks it is
        assertEquals(pieces.length, chain.segmentCount(), () -> "shape " + shape + " built as\n" + built.chain.dump());
        assertArrayEquals(data, chain.toByteArray());
        chain.verify();
        return built;
    }
}
