package org.jmbuf.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DemoCommandTest {
    record Run(int status, String out, String err) { }

    static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = new CommandLine(new Main()).execute(args);
            return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void demoShowsCopyOnWriteWithoutTouchingTheStorage() {
        Run run = run("mbuf-demo");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("copy: \"HELLO, MBUF\"  original: \"hello, mbuf\"  storage: \"hello, mbuf\""),
                run.out());
        assertTrue(run.out().contains("bytes copied by pullup: 0"), run.out());
        assertTrue(run.out().contains("(external storage released)"), run.out());
        assertTrue(run.out().contains("0 segments in use"), run.out());
    }

    @Test
    void demoCutsIntoTheRequestedNumberOfSegments() {
        Run run = run("mbuf-demo", "--pieces", "5");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("segments=5]"), run.out());
    }

    @Test
    void badPiecesIsAUsageErrorWithAMessage() {
        Run run = run("mbuf-demo", "--pieces", "0");
        assertEquals(2, run.status());
        assertTrue(run.err().contains("--pieces must be between 1 and 8"), run.err());
    }

    @Test
    void helpListsTheCommands() {
        Run run = run("--help");
        assertEquals(0, run.status());
        assertTrue(run.out().contains("Usage: jmbuf"), run.out());
        assertTrue(run.out().contains("replay"), run.out());
        assertTrue(run.out().contains("demo"), run.out());
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"demo", "replay", "tap", "mbuf-demo"})
    void everyCommandHasHelpWithExamples(String command) {
        Run run = run(command, "--help");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("Usage: jmbuf " + command), run.out());
        assertTrue(run.out().contains("Examples:"), run.out());
    }

    static Run runMain(String... args) {
        return run(args);
    }
}
