package org.jmbuf.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.annotation.Annotation;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.buf.PoolStats;
import org.jmbuf.wire.InternetChecksum;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Runs every benchmark method, with every parameter value, as JMH would but a few times only (in strict
 * mode, like every jmbuf test): its states are set up, the method runs, the states are torn down. Fails if
 * an operation leaves a segment or cluster in use (the pool's counts must not grow from one operation to
 * the next), if a teardown leaves anything in use, if a Netty buffer held by a state is not released, or if
 * a Netty operation leaks pooled memory. Measures nothing.
 */
class BenchmarkSmokeTest {
    static final List<Class<?>> BENCHMARKS = List.of(AllocBench.class, PtrBench.class, CopyBench.class,
            ChecksumDupBench.class, ScalingBench.class, StackBench.class);
    private static final int NETTY_RUNS = 5_000;
    private static final Blackhole BLACKHOLE = new Blackhole(
            "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");

    @TestFactory
    Stream<DynamicTest> everyBenchmarkRunsAndFreesEverything() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Class<?> type : BENCHMARKS) {
            List<Method> methods = Arrays.stream(type.getMethods())
                    .filter(m -> m.isAnnotationPresent(Benchmark.class))
                    .sorted(Comparator.comparing(Method::getName))
                    .toList();
            assertFalse(methods.isEmpty(), type + " has no benchmark");
            for (Method method : methods) {
                for (Map<String, String> params : parameterCombinations(method)) {
                    tests.add(DynamicTest.dynamicTest(type.getSimpleName() + "." + method.getName() + params,
                            () -> runLikeJmh(method, params)));
                }
            }
        }
        return tests.stream();
    }

    /** The benchmarks that compute a value compute the same one as their Netty and plain counterparts. */
    @Test
    void headerReadsAgreeEverywhere() throws Exception {
        byte[] data = Packets.data(1500);
        int expected = Packets.readFields(MemorySegment.ofArray(data));
        PtrBench b = new PtrBench();
        b.setUp();
        try {
            int checked = 0;
            for (Method m : PtrBench.class.getMethods()) {
                if (m.isAnnotationPresent(Benchmark.class) && m.getReturnType() == int.class) {
                    assertEquals(expected, (int) m.invoke(b), m.getName());
                    checked++;
                }
            }
            assertTrue(checked >= 8, "only " + checked + " header benchmarks checked");
        } finally {
            b.tearDown();
        }
    }

    @Test
    void checksumsAgreeOverAnySegmentation() {
        ChecksumDupBench b = new ChecksumDupBench();
        ChecksumDupBench.Flat flat = new ChecksumDupBench.Flat();
        flat.setUp();
        try {
            int expected = b.checksum_limitByteArrayLoop(flat);
            assertEquals(expected, b.checksum_limitFlatSegment(flat));
            for (int segments : new int[] {1, 3, 8}) {
                ChecksumDupBench.Chain chain = new ChecksumDupBench.Chain();
                chain.segments = segments;
                chain.setUp();
                try {
                    assertEquals(segments, chain.packet.segmentCount());
                    assertEquals(expected, b.checksum_jmbuf(chain), segments + " segments");
                } finally {
                    chain.tearDown();
                }
            }
            assertEquals(expected, InternetChecksum.checksum(MemorySegment.ofArray(flat.array), 0, 1500));
        } finally {
            flat.tearDown();
        }
    }

    @Test
    void pulldownMovesExactlyTheBytesAsked() {
        ScalingBench b = new ScalingBench();
        for (int bytes : new int[] {16, 2048}) {
            ScalingBench.Shared s = new ScalingBench.Shared();
            s.bytes = bytes;
            s.setUp();
            try {
                long before = Packets.POOL.stats().bytesCopied();
                b.pulldown_jmbufCopyPacketPulldownFree(s);
                assertEquals(bytes, Packets.POOL.stats().bytesCopied() - before);
                before = Packets.POOL.stats().bytesCopied();
                b.pulldown_jmbufCopyPacketFree(s);
                assertEquals(0, Packets.POOL.stats().bytesCopied() - before);
            } finally {
                s.tearDown();
            }
        }
    }

    /**
     * The stack benchmarks do what they say: each packet reaches the socket whole, the 45 fragments make one
     * datagram, and a forwarded packet leaves the router while the shared template keeps its TTL.
     */
    @Test
    void stackBenchmarksDeliverEveryPacket() {
        StackBench b = new StackBench();
        for (int size : new int[] {64, 1500}) {
            StackBench.Receiver r = new StackBench.Receiver();
            r.size = size;
            r.setUp();
            try {
                assertEquals(size - 28, b.udpInput_ipv4(r), "IPv4 payload of a " + size + "-byte packet");
                assertEquals(StackBench.PEER4, r.source.address());
                assertEquals(7, r.source.port());
                assertEquals(size - 48, b.udpInput_ipv6(r), "IPv6 payload of a " + size + "-byte packet");
                assertEquals(StackBench.PEER6, r.source.address());
                assertEquals(7, r.source.port());
                assertNull(r.source.zone(), "a global source has no zone");
                assertEquals(size - 28, b.udpInput_ipv4Datagram(r), "IPv4 payload of a " + size + "-byte packet");
                assertEquals(0, r.socket.available());
            } finally {
                r.tearDown();
            }
            StackBench.Router router = new StackBench.Router();
            router.size = size;
            router.setUp();
            try {
                assertEquals(1, b.forward_ipv4(router));
                assertEquals(2, b.forward_ipv4(router));
                assertEquals(64, router.packet.byteAt(8), "the shared template's TTL was written");
            } finally {
                router.tearDown();
            }
        }
        StackBench.Fragments f = new StackBench.Fragments();
        f.setUp();
        try {
            assertEquals(45, f.fragments.length);
            assertEquals(StackBench.LARGEST_DATAGRAM, b.reassembly_ipv4Udp64k(f));
        } finally {
            f.tearDown();
        }
    }

    private static List<Map<String, String>> parameterCombinations(Method method) {
        List<Map<String, String>> combinations = new ArrayList<>();
        combinations.add(new LinkedHashMap<>());
        for (Class<?> state : states(method)) {
            for (Field f : state.getFields()) {
                Param p = f.getAnnotation(Param.class);
                if (p == null) {
                    continue;
                }
                List<Map<String, String>> next = new ArrayList<>();
                for (Map<String, String> c : combinations) {
                    for (String value : p.value()) {
                        Map<String, String> m = new LinkedHashMap<>(c);
                        m.put(f.getName(), value);
                        next.add(m);
                    }
                }
                combinations = next;
            }
        }
        return combinations;
    }

    private static List<Class<?>> states(Method method) {
        List<Class<?>> states = new ArrayList<>();
        if (method.getDeclaringClass().isAnnotationPresent(State.class)) {
            states.add(method.getDeclaringClass());
        }
        for (Class<?> p : method.getParameterTypes()) {
            if (p.isAnnotationPresent(State.class) && !states.contains(p)) {
                states.add(p);
            }
        }
        return states;
    }

    private static void runLikeJmh(Method method, Map<String, String> params) throws Throwable {
        // The benchmarks' pools, and the shared one, which the stack benchmarks use.
        List<MbufPool> pools = List.of(Packets.POOL, Packets.NEW_HANDLES, MbufPool.shared());
        List<PoolStats> start = stats(pools); // quiescent unless an earlier benchmark leaked (and failed for it)
        Object benchmark = method.getDeclaringClass().getDeclaredConstructor().newInstance();
        Map<Class<?>, Object> states = new LinkedHashMap<>();
        for (Class<?> type : states(method)) {
            Object state = type == method.getDeclaringClass() ? benchmark : type.getDeclaredConstructor().newInstance();
            for (Field f : type.getFields()) {
                if (f.isAnnotationPresent(Param.class)) {
                    f.set(state, convert(f.getType(), params.get(f.getName())));
                }
            }
            states.put(type, state);
        }
        Object[] args = Arrays.stream(method.getParameterTypes())
                .map(p -> p == Blackhole.class ? BLACKHOLE : states.get(p))
                .toArray();
        try {
            for (Object state : states.values()) {
                call(state, Setup.class);
            }
            invoke(method, benchmark, args);
            List<PoolStats> afterOne = stats(pools);
            for (int i = 0; i < 3; i++) {
                invoke(method, benchmark, args);
            }
            List<PoolStats> afterFour = stats(pools);
            for (int i = 0; i < pools.size(); i++) {
                assertSameUse(afterOne.get(i), afterFour.get(i), method.getName());
            }
            if (method.getName().contains("netty")) {
                long before = nettyMemoryInUse();
                for (int i = 0; i < NETTY_RUNS; i++) {
                    invoke(method, benchmark, args);
                }
                assertTrue(nettyMemoryInUse() <= before, method.getName() + " leaks Netty pooled memory: "
                        + before + " -> " + nettyMemoryInUse() + " bytes");
            }
        } finally {
            for (Object state : states.values()) {
                call(state, TearDown.class);
            }
        }
        for (int i = 0; i < pools.size(); i++) {
            PoolStats before = start.get(i);
            PoolStats end = pools.get(i).stats();
            assertTrue(end.segmentsInUse() == before.segmentsInUse() && end.clustersInUse() == before.clustersInUse()
                    && end.largeBuffersInUse() == before.largeBuffersInUse()
                    && end.externalInUse() == before.externalInUse(),
                    method.getName() + " leaves jmbuf storage in use after teardown: " + end + "\n"
                    + pools.get(i).leakReport());
        }
        for (Object state : states.values()) {
            for (Field f : fields(state.getClass())) {
                if (ByteBuf.class.isAssignableFrom(f.getType())) {
                    f.setAccessible(true);
                    ByteBuf b = (ByteBuf) f.get(state);
                    if (b != null) {
                        assertEquals(0, b.refCnt(), method.getName() + ": " + f.getName() + " not released");
                    }
                }
            }
        }
    }

    private static List<PoolStats> stats(List<MbufPool> pools) {
        return pools.stream().map(MbufPool::stats).toList();
    }

    private static void assertSameUse(PoolStats expected, PoolStats actual, String what) {
        assertEquals(expected.segmentsInUse(), actual.segmentsInUse(), what + ": segments in use grow per operation");
        assertEquals(expected.clustersInUse(), actual.clustersInUse(), what + ": clusters in use grow per operation");
        assertEquals(expected.largeBuffersInUse(), actual.largeBuffersInUse(), what + ": large buffers grow");
        assertEquals(expected.externalInUse(), actual.externalInUse(), what + ": external storage grows");
    }

    private static long nettyMemoryInUse() {
        var metric = PooledByteBufAllocator.DEFAULT.metric();
        return metric.usedDirectMemory() + metric.usedHeapMemory();
    }

    private static Object convert(Class<?> type, String value) {
        if (type == int.class) {
            return Integer.parseInt(value);
        }
        if (type == String.class) {
            return value;
        }
        throw new IllegalArgumentException("unsupported @Param type " + type);
    }

    private static void call(Object state, Class<? extends Annotation> kind) throws Throwable {
        for (Level level : Level.values()) {
            for (Method m : state.getClass().getMethods()) {
                Annotation a = m.getAnnotation(kind);
                Level l = a instanceof Setup s ? s.value() : a instanceof TearDown t ? t.value() : null;
                if (l == level) {
                    invoke(m, state);
                }
            }
        }
    }

    private static void invoke(Method m, Object target, Object... args) throws Throwable {
        try {
            m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static List<Field> fields(Class<?> type) {
        List<Field> out = new ArrayList<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (!Modifier.isStatic(f.getModifiers())) {
                    out.add(f);
                }
            }
        }
        return out;
    }
}
