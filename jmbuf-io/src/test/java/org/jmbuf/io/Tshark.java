package org.jmbuf.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Runs {@code tshark -r} on a file, if tshark is installed at /usr/bin/tshark; tests skip otherwise. */
final class Tshark {
    static final Path TSHARK = Path.of("/usr/bin/tshark");

    private Tshark() {
    }

    /** The exit status and everything tshark printed. */
    record Result(int exitStatus, String output) {
    }

    /** Skips the calling test, saying why, if tshark is not installed. */
    static void assumeInstalled() {
        if (!Files.isExecutable(TSHARK)) {
            String reason = "tshark is not installed at " + TSHARK + ": skipping the check that Wireshark reads the files"
                    + " jmbuf writes (install the tshark package to run it)";
            System.out.println("SKIPPED: " + reason);
            Assumptions.abort(reason);
        }
    }

    static Result read(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(TSHARK.toString(), "-n", "-r", file.toString())
                .redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("tshark did not finish reading " + file);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
