/**
 * jmbuf-testing: what every jmbuf test suite shares. Depending on it (test scope) registers
 * {@link org.jmbuf.testing.PoolLeakExtension} for every JUnit test when
 * {@code junit.jupiter.extensions.autodetection.enabled=true}.
 */
module org.jmbuf.testing {
    requires transitive org.jmbuf.buf;
    requires transitive org.junit.jupiter.api;
    exports org.jmbuf.testing;
    provides org.junit.jupiter.api.extension.Extension with org.jmbuf.testing.PoolLeakExtension;
}
