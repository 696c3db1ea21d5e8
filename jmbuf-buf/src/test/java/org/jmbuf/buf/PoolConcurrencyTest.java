package org.jmbuf.buf;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Acceptance: per-thread caches return segments freed on another thread correctly. Every test is
 * bounded by a packet count and a deadline, and every thread it starts ends.
 */
class PoolConcurrencyTest {
    private static final int THREADS = 4;
    private static final long RUN_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(15);

    /** The bytes of packet {@code id}: its id, its length, then bytes that depend on both. */
    private static byte[] content(long id, int length) {
        byte[] b = new byte[length];
        ByteBuffer.wrap(b).putLong(id).putInt(length);
        long x = id * 0x9E3779B97F4A7C15L;
        for (int i = 12; i < length; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            b[i] = (byte) x;
        }
        return b;
    }

    private static int lengthFor(long id, int kind) {
        int r = (int) ((id * 2654435761L) >>> 8 & 0xffff);
        return switch (kind) {
            case 0 -> 12 + r % (MbufPool.MLEN - 12);        // inline only
            case 1 -> 100 + r % (MbufPool.MCLBYTES - 100);   // one cluster
            case 2 -> 2500 + r % 4000;                       // inline + clusters
            default -> 12 + r % 3000;                        // devget / copies
        };
    }

    /** Verifies that a packet holds exactly the bytes of the id it names. */
    private static void verify(Mbuf m) {
        byte[] got = m.toByteArray();
        assertTrue(got.length >= 12, "packet too short: " + got.length);
        ByteBuffer bb = ByteBuffer.wrap(got);
        long id = bb.getLong();
        int length = bb.getInt();
        assertEquals(length, got.length, "length of packet " + id);
        assertArrayEquals(content(id, length), got, "bytes of packet " + id + " (storage handed out twice?)");
        m.verify();
    }

    /** Builds packet(s) for {@code id}; may return two chains sharing storage. */
    private static List<Mbuf> build(MbufPool pool, long id) {
        int kind = (int) (id % 5);
        int length = lengthFor(id, Math.min(kind, 3));
        byte[] bytes = content(id, length);
        switch (kind) {
            case 0 -> {
                Mbuf m = pool.getPacket();
                m.copyBack(0, bytes);
                return List.of(m);
            }
            case 1 -> {
                Mbuf m = pool.getCluster(true);
                m.copyBack(0, bytes);
                return List.of(m);
            }
            case 2 -> {
                Mbuf m = pool.getPacket();
                m.copyBack(0, bytes);
                return List.of(m);
            }
            case 3 -> {
                return List.of(pool.devget(MemorySegment.ofArray(bytes)));
            }
            default -> {
                // the original and a copy sharing its clusters, freed by two (possibly different) consumers
                Mbuf m = pool.devget(MemorySegment.ofArray(bytes));
                Mbuf c;
                try {
                    c = m.copyPacket();
                } catch (RuntimeException e) {
                    m.free();
                    throw e;
                }
                return List.of(m, c);
            }
        }
    }

    private static void assertNothingInUse(MbufPool pool) {
        PoolStats s = pool.stats();
        assertEquals(0, s.segmentsInUse(), () -> "segments in use\n" + s);
        assertEquals(0, s.clustersInUse(), () -> "clusters in use\n" + s);
        assertEquals(0, s.externalInUse(), () -> "external storage in use\n" + s);
        assertEquals(0, s.largeBuffersInUse(), () -> "large buffers in use\n" + s);
        for (Map.Entry<MbufType, Integer> e : s.segmentsInUseByType().entrySet()) {
            assertEquals(0, e.getValue(), "segments of type " + e.getKey());
        }
        for (MbufOwner o : pool.owners()) {
            assertEquals(0, o.segments(), o::toString);
            assertEquals(0, o.clusters(), o::toString);
            assertEquals(0, o.external(), o::toString);
        }
    }

    private static void rethrow(ConcurrentLinkedQueue<Throwable> errors) {
        Throwable first = errors.peek();
        if (first != null) {
            AssertionError e = new AssertionError(errors.size() + " thread failure(s), first: " + first, first);
            errors.stream().skip(1).limit(5).forEach(e::addSuppressed);
            throw e;
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void producersAndConsumersOnDifferentThreads() throws Exception {
        MbufPool pool = MbufPool.builder().build();
        final long maxPackets = 200_000;
        final long deadline = System.nanoTime() + RUN_NANOS;
        final long hardDeadline = deadline + GRACE_NANOS;
        BlockingQueue<Mbuf> queue = new ArrayBlockingQueue<>(256);
        AtomicLong nextId = new AtomicLong();
        AtomicLong sent = new AtomicLong();
        AtomicLong received = new AtomicLong();
        AtomicInteger producersRunning = new AtomicInteger(THREADS);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService executor = Executors.newFixedThreadPool(2 * THREADS);
        try {
            for (int t = 0; t < THREADS; t++) {
                executor.execute(() -> {
                    try {
                        start.await(5, TimeUnit.SECONDS);
                        while (System.nanoTime() < deadline && errors.isEmpty()) {
                            long id = nextId.getAndIncrement();
                            if (id >= maxPackets) {
                                break;
                            }
                            ArrayDeque<Mbuf> chains = new ArrayDeque<>(build(pool, id));
                            try {
                                while (!chains.isEmpty() && System.nanoTime() < hardDeadline) {
                                    if (queue.offer(chains.peek(), 20, TimeUnit.MILLISECONDS)) {
                                        chains.poll();
                                        sent.incrementAndGet();
                                    }
                                }
                            } finally {
                                chains.forEach(Mbuf::free); // not handed over: free here
                            }
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    } finally {
                        producersRunning.decrementAndGet();
                    }
                });
            }
            for (int t = 0; t < THREADS; t++) {
                executor.execute(() -> {
                    try {
                        start.await(5, TimeUnit.SECONDS);
                        while (System.nanoTime() < hardDeadline) {
                            Mbuf m = queue.poll(20, TimeUnit.MILLISECONDS);
                            if (m == null) {
                                if (producersRunning.get() == 0 && queue.isEmpty()) {
                                    break;
                                }
                                continue;
                            }
                            try {
                                verify(m);
                            } finally {
                                m.free();
                            }
                            received.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                });
            }
            start.countDown();
        } finally {
            executor.shutdown();
            boolean ended = executor.awaitTermination(30, TimeUnit.SECONDS);
            Mbuf left;
            while ((left = queue.poll()) != null) {
                left.free();
            }
            assertTrue(ended, "threads did not end");
        }
        rethrow(errors);
        assertEquals(sent.get(), received.get(), "every packet sent was received, verified and freed");
        assertTrue(received.get() >= 1000, "too little work was done: " + received.get());
        PoolStats s = pool.stats();
        assertNothingInUse(pool);
        assertTrue(s.segmentAllocations() >= received.get(), s.toString());
        assertTrue(s.clusterAllocations() > 0, s.toString());
        assertEquals(0, s.failures());
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void limitsHoldExactlyUnderContention() throws Exception {
        final int segmentLimit = 64;
        final int clusterLimit = 16;
        MbufPool pool = MbufPool.builder().segmentLimit(segmentLimit).clusterLimit(clusterLimit).build();
        final int threads = 8;
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        ConcurrentLinkedQueue<Mbuf> exchange = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicLong refusals = new AtomicLong();
        AtomicLong operations = new AtomicLong();
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger maxSegmentsSeen = new AtomicInteger();
        AtomicInteger maxClustersSeen = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService executor = Executors.newFixedThreadPool(threads + 1);
        try {
            // a monitor that samples the in-use counts while the workers run
            executor.execute(() -> {
                try {
                    start.await(5, TimeUnit.SECONDS);
                    while (!done.get() && System.nanoTime() < deadline + GRACE_NANOS) {
                        PoolStats s = pool.stats();
                        maxSegmentsSeen.accumulateAndGet(s.segmentsInUse(), Math::max);
                        maxClustersSeen.accumulateAndGet(s.clustersInUse(), Math::max);
                        Thread.onSpinWait();
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(executor.submit(() -> {
                    ArrayDeque<Mbuf> held = new ArrayDeque<>();
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    try {
                        start.await(5, TimeUnit.SECONDS);
                        while (System.nanoTime() < deadline && errors.isEmpty()) {
                            operations.incrementAndGet();
                            int action = rnd.nextInt(10);
                            if (action < 6 && held.size() < 24) {
                                try {
                                    Mbuf m = rnd.nextBoolean() ? pool.getPacket() : pool.getCluster(true);
                                    m.copyBack(0, content(rnd.nextLong(), 12 + rnd.nextInt(200)));
                                    held.add(m);
                                } catch (NoBufferSpaceException e) {
                                    refusals.incrementAndGet();
                                    Mbuf m = held.poll();
                                    if (m != null) {
                                        exchange.add(m); // another thread frees it
                                    }
                                }
                            } else if (action < 8) {
                                Mbuf m = held.poll();
                                if (m != null) {
                                    verify(m);
                                    exchange.add(m);
                                }
                            } else {
                                Mbuf m = exchange.poll();
                                if (m != null) {
                                    verify(m);
                                    m.free();
                                }
                            }
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    } finally {
                        held.forEach(Mbuf::free);
                    }
                }));
            }
            start.countDown();
            for (Future<?> f : workers) {
                f.get(deadline + GRACE_NANOS - System.nanoTime(), TimeUnit.NANOSECONDS);
            }
        } finally {
            done.set(true);
            executor.shutdown();
            boolean ended = executor.awaitTermination(30, TimeUnit.SECONDS);
            Mbuf m;
            while ((m = exchange.poll()) != null) {
                m.free();
            }
            assertTrue(ended, "threads did not end");
        }
        rethrow(errors);
        PoolStats s = pool.stats();
        assertTrue(operations.get() > 1000, "too little work: " + operations.get());
        assertTrue(refusals.get() > 0, "the limits were never reached, so nothing was tested: " + s);
        assertEquals(refusals.get(), s.failures(), s.toString());
        assertTrue(s.segmentHighWater() <= segmentLimit, s.toString());
        assertTrue(s.clusterHighWater() <= clusterLimit, s.toString());
        assertTrue(maxSegmentsSeen.get() <= segmentLimit, "saw " + maxSegmentsSeen.get() + " segments in use");
        assertTrue(maxClustersSeen.get() <= clusterLimit, "saw " + maxClustersSeen.get() + " clusters in use");
        assertNothingInUse(pool);

        // the counts are exact after the contention: exactly the limit can be allocated again
        List<Mbuf> held = new ArrayList<>();
        try {
            for (int i = 0; i < clusterLimit; i++) {
                held.add(pool.getCluster(true));
            }
            assertThrows(NoBufferSpaceException.class, () -> pool.getCluster(true));
            while (held.size() < segmentLimit) {
                held.add(pool.getPacket());
            }
            assertThrows(NoBufferSpaceException.class, pool::getPacket);
            assertEquals(segmentLimit, pool.stats().segmentsInUse());
            assertEquals(clusterLimit, pool.stats().clustersInUse());
            assertEquals(segmentLimit, pool.stats().segmentHighWater());
            assertEquals(clusterLimit, pool.stats().clusterHighWater());
        } finally {
            held.forEach(Mbuf::free);
        }
        assertNothingInUse(pool);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void copiesFreedOnTwoThreadsReleaseSharedStorageOnce() throws Exception {
        MbufPool pool = MbufPool.builder().clusterLimit(4).build();
        final long deadline = System.nanoTime() + RUN_NANOS;
        final int maxRounds = 20_000;
        AtomicInteger externalFrees = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(2);
        int rounds = 0;
        int wrapped = 0;
        try {
            while (rounds < maxRounds && System.nanoTime() < deadline) {
                Mbuf original;
                if (rounds % 4 == 3) {
                    MemorySegment storage = Arena.ofAuto().allocate(300);
                    storage.copyFrom(MemorySegment.ofArray(content(rounds, 300)));
                    original = pool.wrap(storage, rounds % 8 == 3, externalFrees::incrementAndGet);
                    wrapped++;
                } else {
                    original = pool.getCluster(true);
                    original.copyBack(0, content(rounds, 1000));
                }
                Mbuf copy = original.copyPacket();
                rounds++;
                CyclicBarrier barrier = new CyclicBarrier(2);
                Future<?> a = executor.submit(() -> {
                    verify(original);
                    barrier.await(5, TimeUnit.SECONDS); // then both free at once
                    original.free();
                    return null;
                });
                Future<?> b = executor.submit(() -> {
                    verify(copy);
                    barrier.await(5, TimeUnit.SECONDS); // then both free at once
                    copy.free();
                    return null;
                });
                a.get(10, TimeUnit.SECONDS); // an IllegalStateException (released twice) surfaces here
                b.get(10, TimeUnit.SECONDS);
                assertEquals(0, pool.stats().clustersInUse(), "round " + rounds);
                assertEquals(0, pool.stats().externalInUse(), "round " + rounds);
                assertEquals(0, pool.stats().segmentsInUse(), "round " + rounds);
            }
        } finally {
            executor.shutdown();
            assertTrue(executor.awaitTermination(30, TimeUnit.SECONDS));
        }
        assertTrue(rounds >= 100, "too few rounds: " + rounds);
        assertEquals(wrapped, externalFrees.get(), "each external storage's onFree ran exactly once");
        assertNothingInUse(pool);
        PoolStats s = pool.stats();
        assertEquals(rounds - wrapped, s.clusterAllocations());
        assertEquals(1, s.clusterHighWater(), "the shared cluster was counted once");
        assertEquals(0, s.failures(), "a cluster leaked by a lost release would hit the limit of 4");
    }

    /** Spins until {@code parties} threads arrived, so they start the next step at the same instant. */
    private static void spinBarrier(AtomicInteger arrived, int parties) throws java.util.concurrent.TimeoutException {
        arrived.incrementAndGet();
        long limit = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (arrived.get() < parties) {
            if (System.nanoTime() > limit) {
                throw new java.util.concurrent.TimeoutException("the other thread never arrived");
            }
            Thread.onSpinWait();
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void manyCopiesFreedAtOnceOnTwoThreadsReleaseTheClusterOnce() throws Exception {
        // 32 chains share one cluster (or one external storage); two threads free half each, at once,
        // so that the reference count is decremented concurrently many times per round.
        MbufPool pool = MbufPool.builder().clusterLimit(2).build();
        final long deadline = System.nanoTime() + RUN_NANOS;
        AtomicInteger externalFrees = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(2);
        int rounds = 0;
        int wrapped = 0;
        try {
            while (rounds < 5_000 && System.nanoTime() < deadline) {
                Mbuf original;
                if (rounds % 3 == 2) {
                    MemorySegment storage = Arena.ofAuto().allocate(64);
                    original = pool.wrap(storage, true, externalFrees::incrementAndGet);
                    wrapped++;
                } else {
                    original = pool.getCluster(true);
                    original.copyBack(0, content(rounds, 500));
                }
                List<Mbuf> even = new ArrayList<>();
                List<Mbuf> odd = new ArrayList<>();
                even.add(original);
                for (int i = 1; i < 32; i++) {
                    (i % 2 == 0 ? even : odd).add(original.copyPacket());
                }
                rounds++;
                AtomicInteger arrived = new AtomicInteger();
                Future<?> a = executor.submit(() -> {
                    spinBarrier(arrived, 2);
                    even.forEach(Mbuf::free);
                    return null;
                });
                Future<?> b = executor.submit(() -> {
                    spinBarrier(arrived, 2);
                    odd.forEach(Mbuf::free);
                    return null;
                });
                a.get(10, TimeUnit.SECONDS);
                b.get(10, TimeUnit.SECONDS);
                assertEquals(0, pool.stats().clustersInUse(), "round " + rounds);
                assertEquals(0, pool.stats().externalInUse(), "round " + rounds);
                assertEquals(wrapped, externalFrees.get(), "round " + rounds);
                assertEquals(0, pool.stats().segmentsInUse(), "round " + rounds);
            }
        } finally {
            executor.shutdown();
            assertTrue(executor.awaitTermination(30, TimeUnit.SECONDS));
        }
        assertTrue(rounds >= 50, "too few rounds: " + rounds);
        assertNothingInUse(pool);
        assertEquals(0, pool.stats().failures());
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void storageFreedOnAnotherThreadIsReusedWithoutDuplicates() throws Exception {
        // One thread allocates a batch, another frees it, many times: the freeing thread's cache fills,
        // spills to the depot, and the allocating thread gets the storage back from there.
        MbufPool pool = MbufPool.builder().segmentLimit(300).clusterLimit(150).build();
        ExecutorService allocator = Executors.newSingleThreadExecutor();
        ExecutorService freer = Executors.newSingleThreadExecutor();
        final long deadline = System.nanoTime() + RUN_NANOS;
        int batches = 0;
        try {
            while (batches < 500 && System.nanoTime() < deadline) {
                final int batch = batches++;
                List<Mbuf> chains = allocator.submit(() -> {
                    List<Mbuf> out = new ArrayList<>();
                    try {
                        for (int i = 0; i < 150; i++) {
                            long id = (long) batch * 1000 + i;
                            Mbuf m = i % 2 == 0 ? pool.getPacket() : pool.getCluster(true);
                            out.add(m);
                            m.copyBack(0, content(id, 12 + (int) (id % 200)));
                        }
                    } catch (RuntimeException e) {
                        out.forEach(Mbuf::free);
                        throw e;
                    }
                    return out;
                }).get(10, TimeUnit.SECONDS);
                assertEquals(150, pool.stats().segmentsInUse());
                assertEquals(75, pool.stats().clustersInUse());
                freer.submit(() -> {
                    for (Mbuf m : chains) {
                        verify(m);
                        m.free();
                    }
                    return null;
                }).get(10, TimeUnit.SECONDS);
                assertEquals(0, pool.stats().segmentsInUse());
                assertEquals(0, pool.stats().clustersInUse());
            }
        } finally {
            allocator.shutdown();
            freer.shutdown();
            assertTrue(allocator.awaitTermination(30, TimeUnit.SECONDS));
            assertTrue(freer.awaitTermination(30, TimeUnit.SECONDS));
        }
        assertTrue(batches >= 10, "too few batches: " + batches);
        PoolStats s = pool.stats();
        assertEquals(0, s.failures(), s.toString());
        assertEquals(150L * batches, s.segmentAllocations());
        assertEquals(75L * batches, s.clusterAllocations());
        assertEquals(150, s.segmentHighWater());
        assertEquals(75, s.clusterHighWater());
        assertNothingInUse(pool);
    }
}
