package org.jmbuf.buf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;

/**
 * Random chain shapes for {@link ChainPropertiesTest}: a chain is built from pieces of inline storage,
 * clusters, read-only and writable external storage, and pieces whose storage another live chain also
 * references (so it is read-only because shared). A {@link Registry} remembers everything a try
 * created, so the test can check read-only storage was never written, every free action ran exactly
 * once, and nothing is left in the pool.
 */
final class ChainFixtures {
    private ChainFixtures() {
    }

    enum Kind { INLINE, CLUSTER, EXT_RO, EXT_RW, SHARED }

    /** How a SHARED piece shares its storage with the chain kept alive beside it. */
    enum ShareMode {
        /** the piece is the original; a full copy of it stays alive elsewhere */
        KEEP_COPY,
        /** the piece is a full copy; the original stays alive elsewhere */
        USE_COPY,
        /** the piece is a copy of a sub-range; the original stays alive elsewhere */
        USE_SUBCOPY
    }

    /**
     * One piece of a chain. {@code packet} and {@code align} apply to inline and cluster pieces (align:
     * data at the end of the storage, leaving leading instead of trailing space); {@code trimFront} and
     * {@code trimBack} to external pieces (the data window starts and ends inside the storage);
     * {@code inner}, {@code mode}, {@code subOff}, {@code subLen} to shared pieces.
     */
    record Piece(Kind kind, int length, int seed, boolean packet, boolean align, int trimFront, int trimBack,
                 Kind inner, ShareMode mode, int subOff, int subLen) {
        @Override
        public String toString() {
            return switch (kind) {
                case INLINE, CLUSTER -> kind + "(len=" + length + (packet ? ", packet" : "") + (align ? ", aligned" : "")
                        + ", seed=" + seed + ")";
                case EXT_RO, EXT_RW -> kind + "(len=" + length + ", trim=" + trimFront + "/" + trimBack + ", seed="
                        + seed + ")";
                case SHARED -> kind + "(" + inner + " len=" + length + ", " + mode
                        + (mode == ShareMode.USE_SUBCOPY ? " raw " + subOff + "/" + subLen : "")
                        + (packet ? ", packet" : "") + ", seed=" + seed + ")";
            };
        }
    }

    // ------------------------------------------------------------------------------------------ arbitraries

    static Arbitrary<Piece> pieces() {
        Arbitrary<Integer> seed = Arbitraries.integers().between(0, 1000);
        Arbitrary<Boolean> bool = Arbitraries.of(false, true);
        Arbitrary<Integer> trim = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(0)),
                Tuple.of(1, Arbitraries.integers().between(1, 16)));
        Arbitrary<Piece> inline = Combinators.combine(Arbitraries.integers().between(1, MbufPool.MLEN), seed, bool, bool)
                .as((len, s, packet, align) -> new Piece(Kind.INLINE, len, s, packet, align, 0, 0, null, null, 0, 0));
        Arbitrary<Piece> cluster = Combinators.combine(Arbitraries.integers().between(1, MbufPool.MCLBYTES), seed, bool,
                        bool)
                .as((len, s, packet, align) -> new Piece(Kind.CLUSTER, len, s, packet, align, 0, 0, null, null, 0, 0));
        Arbitrary<Piece> extRo = Combinators.combine(Arbitraries.integers().between(1, 3000), seed, trim, trim)
                .as((len, s, f, b) -> new Piece(Kind.EXT_RO, len, s, true, false, f, b, null, null, 0, 0));
        Arbitrary<Piece> extRw = Combinators.combine(Arbitraries.integers().between(1, 3000), seed, trim, trim)
                .as((len, s, f, b) -> new Piece(Kind.EXT_RW, len, s, true, false, f, b, null, null, 0, 0));
        Arbitrary<Piece> shared = Combinators.combine(Arbitraries.of(Kind.CLUSTER, Kind.EXT_RO, Kind.EXT_RW),
                        Arbitraries.integers().between(1, MbufPool.MCLBYTES), seed, Arbitraries.of(ShareMode.class),
                        Arbitraries.integers().between(0, 1 << 16), Arbitraries.integers().between(0, 1 << 16), bool)
                .as((inner, len, s, mode, a, b, packet) ->
                        new Piece(Kind.SHARED, len, s, packet, false, 0, 0, inner, mode, a, b));
        return Arbitraries.frequencyOf(Tuple.of(3, inline), Tuple.of(3, cluster), Tuple.of(2, extRo), Tuple.of(2, extRw),
                Tuple.of(3, shared));
    }

    static Arbitrary<List<Piece>> shapes(int maxPieces) {
        return pieces().list().ofMinSize(1).ofMaxSize(maxPieces).withSizeDistribution(RandomDistribution.uniform());
    }

    // ------------------------------------------------------------------------------------------ registry

    /** Everything one try created that must be checked while it runs and released at its end. */
    static final class Registry {
        /**
         * When not negative, the number of allocations the main pool still grants before it refuses one
         * (fault injection); -1 when off.
         */
        int faultCountdown = -1;
        final MbufPool pool;
        /** A second pool, so that chains can hold segments of two pools after cat. */
        final MbufPool otherPool;
        final Arena arena = Arena.ofConfined();
        final List<External> externals = new ArrayList<>();
        final List<Held> held = new ArrayList<>();
        private int salt;

        Registry() {
            this(false);
        }

        /** With {@code recycleHandles}, both pools hand freed handles out again ({@link MbufPool.Builder#recycleHandles}). */
        Registry(boolean recycleHandles) {
            pool = MbufPool.builder().allocationFaults(n -> faultCountdown >= 0 && faultCountdown-- == 0)
                    .recycleHandles(recycleHandles).build();
            otherPool = MbufPool.builder().recycleHandles(recycleHandles).build();
        }

        /** Bytes for a piece or a write: pseudo-random from the seed, and different for each call. */
        byte[] bytes(int seed, int length) {
            byte[] out = new byte[length];
            new Random(seed * 1_000_003L + (++salt) * 7919L).nextBytes(out);
            return out;
        }
    }

    /** External storage handed to {@link MbufPool#wrap}; {@code snapshot} is set for read-only storage. */
    record External(String label, MemorySegment storage, byte[] snapshot, AtomicInteger freed) { }

    /** A chain kept alive beside the one under test, with the bytes it must keep showing. */
    static final class Held {
        final String label;
        final Mbuf chain;
        byte[] expected;

        Held(String label, Mbuf chain, byte[] expected) {
            this.label = label;
            this.chain = chain;
            this.expected = expected;
        }
    }

    /** A built chain with its expected bytes, which bytes are certainly writable, and its packet flag. */
    record Built(Mbuf chain, byte[] bytes, boolean[] writable, boolean packet) { }

    private record BuiltPiece(Mbuf chain, byte[] bytes, boolean writable, boolean packet) { }

    /** Builds a chain of the pieces joined with {@link Mbuf#cat}. */
    static Built build(Registry reg, List<Piece> pieces) {
        return build(reg, reg.pool, pieces);
    }

    /** Builds a chain of the pieces, allocated from {@code pool}, joined with {@link Mbuf#cat}. */
    static Built build(Registry reg, MbufPool pool, List<Piece> pieces) {
        Mbuf chain = null;
        byte[] bytes = new byte[0];
        boolean[] writable = new boolean[0];
        boolean packet = false;
        try {
            for (Piece p : pieces) {
                BuiltPiece b = buildPiece(reg, pool, p);
                int old = bytes.length;
                bytes = Arrays.copyOf(bytes, old + b.bytes().length);
                System.arraycopy(b.bytes(), 0, bytes, old, b.bytes().length);
                writable = Arrays.copyOf(writable, bytes.length);
                Arrays.fill(writable, old, bytes.length, b.writable());
                if (chain == null) {
                    chain = b.chain();
                    packet = b.packet();
                } else {
                    chain.cat(b.chain());
                }
            }
        } catch (RuntimeException | Error e) {
            if (chain != null) {
                chain.close();
            }
            throw e;
        }
        return new Built(chain, bytes, writable, packet);
    }

    private static BuiltPiece buildPiece(Registry reg, MbufPool pool, Piece p) {
        switch (p.kind()) {
            case INLINE, CLUSTER -> {
                byte[] bytes = reg.bytes(p.seed(), p.length());
                Mbuf m = p.kind() == Kind.INLINE
                        ? (p.packet() ? pool.getPacket() : pool.get(MbufType.DATA))
                        : pool.getCluster(p.packet());
                if (p.align()) {
                    m.align(p.length());
                }
                m.copyBack(0, bytes);
                return new BuiltPiece(m, bytes, true, p.packet());
            }
            case EXT_RO, EXT_RW -> {
                boolean writable = p.kind() == Kind.EXT_RW;
                byte[] all = reg.bytes(p.seed(), p.trimFront() + p.length() + p.trimBack());
                Mbuf m = wrap(reg, pool, all, writable);
                m.adj(p.trimFront());
                m.adj(-p.trimBack());
                return new BuiltPiece(m, Arrays.copyOfRange(all, p.trimFront(), p.trimFront() + p.length()), writable,
                        true);
            }
            case SHARED -> {
                BuiltPiece inner = buildPiece(reg, pool, new Piece(p.inner(), p.length(), p.seed(), p.packet(), false, 0, 0,
                        null, null, 0, 0));
                Mbuf original = inner.chain();
                byte[] bytes = inner.bytes();
                Mbuf piece;
                try {
                    switch (p.mode()) {
                        case KEEP_COPY -> {
                            Mbuf copy = inner.packet() ? original.copyPacket() : original.copy(0);
                            reg.held.add(new Held("sharing copy of " + p, copy, bytes.clone()));
                            return new BuiltPiece(original, bytes, false, inner.packet());
                        }
                        case USE_COPY -> {
                            piece = inner.packet() ? original.copyPacket() : original.copy(0, bytes.length);
                            reg.held.add(new Held("original of " + p, original, bytes.clone()));
                            return new BuiltPiece(piece, bytes, false, inner.packet());
                        }
                        case USE_SUBCOPY -> {
                            int off = p.subOff() % bytes.length;
                            int len = 1 + p.subLen() % (bytes.length - off);
                            piece = original.copy(off, len);
                            reg.held.add(new Held("original of " + p, original, bytes.clone()));
                            return new BuiltPiece(piece, Arrays.copyOfRange(bytes, off, off + len), false,
                                    off == 0 && inner.packet());
                        }
                        default -> throw new AssertionError(p.mode());
                    }
                } catch (RuntimeException | Error e) {
                    if (original.isAlive() && reg.held.stream().noneMatch(h -> h.chain == original)) {
                        original.close();
                    }
                    throw e;
                }
            }
            default -> throw new AssertionError(p.kind());
        }
    }

    /** Wraps a native copy of {@code content} as external storage, registered for the end-of-try checks. */
    static Mbuf wrap(Registry reg, MbufPool pool, byte[] content, boolean writable) {
        MemorySegment storage = reg.arena.allocate(Math.max(1, content.length), 8).asSlice(0, content.length);
        storage.copyFrom(MemorySegment.ofArray(content));
        AtomicInteger freed = new AtomicInteger();
        String label = (writable ? "writable" : "read-only") + " external storage #" + reg.externals.size() + " ("
                + content.length + " bytes)";
        Mbuf m = pool.wrap(storage, writable, freed::incrementAndGet);
        reg.externals.add(new External(label, storage, writable ? null : content.clone(), freed));
        return m;
    }
}
