package org.jmbuf.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs {@link TcpBench} a few times per family, as JMH would but briefly and in strict mode: every
 * transfer must deliver exactly {@link TcpBench#TRANSFER} bytes, and after the teardown (both sides
 * closed, TIME_WAIT over) the shared pool must hold nothing more than before. Measures nothing.
 */
class TcpBenchSmokeTest {
    @ParameterizedTest
    @ValueSource(strings = {"IPV4", "IPV6"})
    void transfersAndFreesEverything(String family) {
        long before = inUse();
        TcpBench bench = new TcpBench();
        bench.family = family;
        bench.setUp();
        for (int i = 0; i < 3; i++) {
            assertEquals(TcpBench.TRANSFER, bench.bulkTransfer1MiB());
        }
        bench.tearDown();
        assertEquals(before, inUse(), "segments and clusters in use after the teardown");
    }

    private static long inUse() {
        var stats = Packets.POOL.stats();
        return stats.segmentsInUse() + stats.clustersInUse();
    }
}
