package org.jmbuf.testing;

import org.jmbuf.buf.MbufPool;
import org.jmbuf.buf.PoolStats;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails any test that leaves a segment, cluster, external storage or large buffer in use in any pool,
 * naming where the leaked segments were allocated, and refuses to run tests outside strict mode.
 */
public final class PoolLeakExtension implements BeforeAllCallback, AfterEachCallback {
    private static final java.util.Set<MbufPool> REPORTED =
            java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>());

    @Override
    public void beforeAll(ExtensionContext context) {
        if (!Boolean.getBoolean("jmbuf.strict")) {
            throw new IllegalStateException("jmbuf tests must run in strict mode: -Djmbuf.strict=true");
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        assertNoLeaks(context.getDisplayName());
    }

    /**
     * Throws {@link AssertionError} if any pool has anything in use.
     *
     * @param where what just ran, for the message
     */
    public static void assertNoLeaks(String where) {
        for (MbufPool pool : MbufPool.instances()) {
            PoolStats stats = pool.stats();
            if (!stats.isQuiescent() && REPORTED.add(pool)) { // a leak fails the test that made it, once
                throw new AssertionError("leak after " + where + ": " + stats.segmentsInUse() + " segments, "
                        + stats.clustersInUse() + " clusters, " + stats.externalInUse() + " external, "
                        + stats.largeBuffersInUse() + " large buffers still in use\n" + pool.leakReport());
            }
        }
    }
}
